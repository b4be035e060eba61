"""Commands that used to succeed or crash on a user's mistake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core import db

ECOM = Path(sys.executable).with_name("ecom")


def ecom(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ECOM), *args],
        env=db.child_env(env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_a_build_selection_that_matches_nothing_fails(fresh_db):
    result = ecom(fresh_db, "build", "-s", "does_not_exist")
    assert result.returncode == 1
    assert "does not match any enabled nodes" in result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: dbt build -s does_not_exist failed")
    assert "Traceback" not in result.stdout + result.stderr


def test_an_impossible_port_is_a_usage_error_not_a_traceback(fresh_db):
    result = ecom(fresh_db, "app", "--port", "99999")
    assert result.returncode == 2
    assert "Invalid value for '--port'" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_address_the_app_cannot_listen_on_is_named(fresh_db):
    cases = {
        "10.255.255.1": "not an address of this machine",
        "no.such.host.invalid": "no such host name or address",
    }
    for host, problem in cases.items():
        result = ecom(fresh_db, "app", "--host", host, "--port", "18765")
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and problem in lines[0], result.stderr
