"""Start the Streamlit dashboard app as a child process.

`ecom app` calls `run()`, which blocks until the app exits. Tests and benchmarks
use `start_background()`, which returns once the app answers its health check.
The app itself never starts a database server: it receives the resolved libpq
variables (PGHOST, PGPORT, ...) in its environment, with PGUSER set to the
least-privilege role ecom_app (see `database_env`).
"""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import webbrowser
from dataclasses import dataclass, field
from pathlib import Path

from core import processes
from core.db import APP_ROLE, PASSWORD_VARIABLES, app_roles, child_env, connect
from core.errors import EcomError
from core.settings import DBT_TARGET_VARIABLE, DEFAULT_DBT_TARGET, PROJECT_ROOT

APP_DIR = Path(__file__).resolve().parent
APP_SCRIPT = APP_DIR / "app.py"
DEFAULT_PORT = 8501


def bind_problem(host: str, port: int) -> str | None:
    """Why the app could not listen on host:port, in words; None when it can."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except socket.gaierror:
            return f"--host {host}: no such host name or address"
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use; pick another one"
            if exc.errno == errno.EADDRNOTAVAIL:
                return (
                    f"--host {host}: not an address of this machine "
                    "(use 127.0.0.1, 0.0.0.0 or one of its addresses)"
                )
            if exc.errno == errno.EACCES:
                return f"port {port} needs privileges; pick one above 1023"
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port (so the app can bind it)."""
    return bind_problem(host, port) is None


def pick_port(host: str = "127.0.0.1", preferred: int = DEFAULT_PORT) -> int:
    """`preferred` when it is free, else a free port chosen by the OS."""
    if port_is_free(host, preferred):
        return preferred
    problem = bind_problem(host, 0)
    if problem:
        raise EcomError(problem)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def app_command(host: str, port: int) -> list[str]:
    """`streamlit run streamlit_app/app.py`, headless, bound to host:port."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_SCRIPT),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]


BUILD_USER_VARIABLE = "ECOM_BUILD_PGUSER"
BUILD_PASSWORD_VARIABLE = "ECOM_BUILD_PGPASSWORD"


def database_env(env: dict[str, str]) -> dict[str, str]:
    """Prepare the database for the app; the libpq variables it connects with.

    The schema (raw tables, accounts, audit trail, roles) is applied first. When
    the least-privilege role ecom_app exists, the app connects as it, and the
    credentials it was started with are kept in ECOM_BUILD_PGUSER /
    ECOM_BUILD_PGPASSWORD for the "Refresh warehouse" action (dbt needs more
    than the app's role may do).
    """
    from core.accounts import has_users
    from core.schema import apply_schema

    with connect(env) as conn:
        apply_schema(conn)
        roles = app_roles(conn)
        if not has_users(conn):
            print(
                "no accounts yet: create one with `ecom users add NAME --role admin`",
                file=sys.stderr,
            )
    if APP_ROLE not in roles:
        print(
            "warning: role ecom_app does not exist (this login may not create "
            "roles); the app connects as the current user",
            file=sys.stderr,
        )
        return dict(env)
    return env | {
        "PGUSER": APP_ROLE,
        "PGPASSWORD": os.environ.get(PASSWORD_VARIABLES[APP_ROLE], ""),
        BUILD_USER_VARIABLE: env.get("PGUSER", ""),
        BUILD_PASSWORD_VARIABLE: env.get("PGPASSWORD", ""),
    }


def app_env(
    env: dict[str, str], dbt_target: Path | str | None = None
) -> dict[str, str]:
    """The child environment: libpq variables, dbt target dir, import path."""
    merged = child_env(database_env(env))
    target = dbt_target or os.environ.get(DBT_TARGET_VARIABLE) or DEFAULT_DBT_TARGET
    merged[DBT_TARGET_VARIABLE] = str(Path(target).resolve())
    python_path = [str(PROJECT_ROOT), *filter(None, [merged.get("PYTHONPATH")])]
    merged["PYTHONPATH"] = os.pathsep.join(python_path)
    merged.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    return merged


def _url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://{shown}:{port}"


def wait_until_ready(
    url: str, process: subprocess.Popen | None = None, timeout: float = 60.0
) -> None:
    """Poll Streamlit's health endpoint until it answers "ok"."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise EcomError(f"the app exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise EcomError(f"the app did not answer at {url} within {timeout:.0f} s")


def _resolve_port(host: str, port: int | None) -> int:
    if port is None:
        return pick_port(host)
    problem = bind_problem(host, port)
    if problem:
        raise EcomError(problem)
    return port


def run(
    env: dict[str, str],
    host: str = "127.0.0.1",
    port: int | None = None,
    open_browser: bool = False,
    dbt_target: Path | str | None = None,
) -> int:
    """Run the app in the foreground until it exits; return its exit code."""
    port = _resolve_port(host, port)
    url = _url(host, port)

    def open_browser_when_ready(process: subprocess.Popen) -> None:
        def _open() -> None:
            try:
                wait_until_ready(url, process)
            except EcomError:
                return
            webbrowser.open(url)

        threading.Thread(target=_open, daemon=True).start()

    # the app stops with `ecom app` (Ctrl-C, SIGTERM, SIGHUP, even SIGKILL)
    return processes.serve(
        app_command(host, port),
        env=app_env(env, dbt_target),
        cwd=APP_DIR,
        on_start=open_browser_when_ready if open_browser else None,
    )


@dataclass
class AppServer:
    """A running app started by `start_background()`; stop it when done."""

    process: subprocess.Popen
    url: str
    log_path: Path | None = None
    _stopped: bool = field(default=False, repr=False)

    def stop(self, timeout: float = 10.0) -> None:
        if self._stopped:
            return
        self._stopped = True
        processes.stop(self.process, timeout)

    def __enter__(self) -> AppServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_background(
    env: dict[str, str],
    host: str = "127.0.0.1",
    port: int | None = None,
    dbt_target: Path | str | None = None,
    log_path: Path | None = None,
    timeout: float = 60.0,
) -> AppServer:
    """Start the app in the background and return once it answers."""
    port = _resolve_port(host, port)
    url = _url(host, port)
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        output = log_path.open("wb")
    else:
        output = subprocess.DEVNULL
    try:
        process = subprocess.Popen(
            app_command(host, port),
            env=app_env(env, dbt_target),
            cwd=APP_DIR,
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=processes.dies_with_parent(),
        )
    finally:
        if log_path is not None:
            output.close()
    server = AppServer(process=process, url=url, log_path=log_path)
    try:
        wait_until_ready(url, process, timeout=timeout)
    except BaseException:
        server.stop()
        raise
    return server
