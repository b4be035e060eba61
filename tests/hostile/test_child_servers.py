"""Servers started by `ecom` stop with it: SIGTERM (or SIGKILL) to `ecom app` or
`ecom docs` leaves no Streamlit or `dbt docs serve` process serving."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from core import db
from core.schema import apply_schema
from streamlit_app import launch

ECOM = Path(sys.executable).with_name("ecom")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def _start(env: dict[str, str], args: list[str], url: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(ECOM), *args],
        env=db.child_env(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait(lambda: _answers(url) or process.poll() is not None, 240, "no answer")
    assert process.poll() is None, "ecom ended before its server answered"
    return process


@pytest.fixture
def schema_db(fresh_db) -> dict[str, str]:
    with db.connect(fresh_db) as conn:
        apply_schema(conn)
    return fresh_db


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
@pytest.mark.parametrize("command", ["app", "docs"])
def test_the_child_server_stops_with_ecom(schema_db, command, sig):
    port = launch.pick_port("127.0.0.1", 18_600 if command == "app" else 18_700)
    url = f"http://127.0.0.1:{port}/"
    process = _start(schema_db, [command, "--port", str(port)], url)
    children = psutil.Process(process.pid).children(recursive=True)
    assert children, "the server runs as a child process"
    process.send_signal(sig)
    process.wait(timeout=60)
    _wait(lambda: not any(c.is_running() for c in children), 30, "child outlived")
    assert not _answers(url)
