"""Child servers that stop with their parent (`ecom app`, `ecom docs`).

A server started by `ecom` must not outlive it. Two guards:
- `serve()` turns SIGTERM and SIGHUP into a clean stop of the child (Python's
  default would end `ecom` at once and leave the child serving);
- on Linux, every child asks the kernel for SIGTERM when its parent dies
  (`PR_SET_PDEATHSIG`), which holds even when `ecom` is killed with SIGKILL.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
STOP_SECONDS = 10.0


def _die_with_parent() -> None:
    """Run in the child between fork and exec: SIGTERM when the parent dies."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def dies_with_parent() -> Callable[[], None] | None:
    """The `preexec_fn` for subprocess.Popen that ties a child to this process
    (None where the kernel has no such option)."""
    return _die_with_parent if sys.platform.startswith("linux") else None


def stop(process: subprocess.Popen, timeout: float = STOP_SECONDS) -> None:
    """Ask a child to stop, then kill it if it does not within `timeout`."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class _Stopped(Exception):
    """SIGTERM or SIGHUP reached the parent."""


def serve(
    command: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
    on_start: Callable[[subprocess.Popen], None] | None = None,
) -> int:
    """Run a server in the foreground until it exits, Ctrl-C, SIGTERM or SIGHUP;
    the child never outlives this process. Returns the child's exit code (0
    when it was stopped from here)."""

    def stopped(signum: int, frame: FrameType | None) -> None:
        raise _Stopped

    previous = {s: signal.signal(s, stopped) for s in (signal.SIGTERM, signal.SIGHUP)}
    process = None
    try:
        process = subprocess.Popen(
            list(command), env=env, cwd=cwd, preexec_fn=dies_with_parent()
        )
        if on_start is not None:
            on_start(process)
        return process.wait()
    except (KeyboardInterrupt, _Stopped):
        return 0
    finally:
        if process is not None:
            stop(process)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
