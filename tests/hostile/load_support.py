"""What the hostile loader tests share: the installed `ecom` command, the small
hand-written dataset of tests/test_load.py and a fingerprint of the raw tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import query
from test_load import HEADERS, TS, customer, item, order, write_dataset

from loader.load import TABLES, sift

ECOM = Path(sys.executable).with_name("ecom")

__all__ = [
    "HEADERS",
    "TS",
    "customer",
    "ecom",
    "item",
    "landing_fixture",
    "order",
    "raw_fingerprint",
    "write_dataset",
]


def ecom(env: dict[str, str], *args: str, timeout: int = 300):
    from core import db

    return subprocess.run(
        [str(ECOM), *args],
        env=db.child_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The CLI's error, checked to be one line without a traceback."""
    err = result.stderr.strip()
    assert result.returncode == 1, (result.returncode, err[-2000:])
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err[-2000:]
    assert err.startswith("error: ")
    return err


def raw_fingerprint(env: dict[str, str]) -> dict[str, tuple[int, str]]:
    """Row count and an md5 of every row of each raw table and of the batches."""
    found = {}
    for table in (*TABLES, "load_batches", "load_rejects"):
        found[table] = query(
            env,
            f"select count(*), md5(coalesce(string_agg(x::text, '|' "
            f"order by x::text), '')) from raw.{table} x",
        )[0]
    return found


@pytest.fixture(name="landing", params=["typed copy", "text landing"])
def landing_fixture(request, monkeypatch):
    """Both ways a sifted file lands (see tests/test_load.py)."""
    if request.param == "text landing":
        monkeypatch.setattr(sift, "_copy_skips_bad_values", lambda cur: False)
    return request.param
