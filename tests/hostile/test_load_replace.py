"""`ecom load --replace` is all or nothing: a failing file, a killed process or a
role that may not empty the tables leave raw as it was; and a plain load never
skips a file whose rows are gone."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from conftest import query
from test_load import load_directory  # without the reject limit

from core import db
from core.schema import apply_schema
from loader.generate import generate
from loader.load import TABLES

from .load_support import (
    ECOM,
    HEADERS,
    customer,
    ecom,
    one_line_error,
    order,
    raw_fingerprint,
    write_dataset,
)


def test_a_replace_with_a_file_in_the_wrong_encoding_changes_nothing(
    fresh_db, tmp_path
):
    load_directory(fresh_db, write_dataset(tmp_path / "old"))
    before = raw_fingerprint(fresh_db)
    new = write_dataset(tmp_path / "new")
    (new / "customers.csv").write_text(
        "\n".join([HEADERS["customers"], *(customer(i) for i in range(1, 4))]) + "\n"
    )
    # every order in Latin-1: the file is taken for one in the wrong encoding
    rows = [order(i, customer_id=1).replace("delivered", "livr\xe9") for i in range(20)]
    (new / "orders.csv").write_bytes(
        "\n".join([HEADERS["orders"], *rows]).encode("latin-1") + b"\n"
    )
    err = one_line_error(ecom(fresh_db, "load", "--replace", str(new)))
    assert "orders.csv: file is not UTF-8" in err
    assert raw_fingerprint(fresh_db) == before


def copy_started(env: dict[str, str]) -> bool:
    """Is a COPY into raw.orders or raw.order_items running in env's database?"""
    return bool(
        query(
            env,
            "select 1 from pg_stat_activity where datname = %s and state = 'active' "
            "and query ilike 'copy %%raw%%order%%'",
            [env["PGDATABASE"]],
        )
    )


def test_a_killed_replace_leaves_raw_as_it_was(fresh_db, tmp_path):
    small, big = tmp_path / "small", tmp_path / "big"
    generate(small, scale=0.01, seed=1)
    generate(big, scale=2, seed=2)
    load_directory(fresh_db, small)
    before = raw_fingerprint(fresh_db)
    process = subprocess.Popen(
        [str(ECOM), "load", "--replace", str(big)],
        env=db.child_env(fresh_db),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if copy_started(fresh_db):
                break
            time.sleep(0.02)
        assert process.poll() is None, "the load ended before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL
    # the server notices the dropped connection and rolls its transaction back
    deadline = time.monotonic() + 30
    while copy_started(fresh_db) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert raw_fingerprint(fresh_db) == before


# every column but the write stamp, which a reload moves forward
ROWS_BUT_THE_STAMP = (
    "select (to_jsonb(t) - 'synced_at')::text from raw.{} as t order by 1"
)


def test_a_plain_load_reloads_files_whose_rows_are_gone(fresh_db, tmp_path):
    """Raw emptied after a load (as an interrupted replace of an older loader
    left it): the batches say the files were loaded, the rows are not there."""
    data = write_dataset(tmp_path / "d")
    load_directory(fresh_db, data)
    before = {t: query(fresh_db, ROWS_BUT_THE_STAMP.format(t)) for t in TABLES}
    with db.connect(fresh_db) as conn:
        conn.execute("truncate " + ", ".join(f"raw.{t}" for t in TABLES))
    results = load_directory(fresh_db, data)
    assert "skipped" not in {r.method for r in results}
    after = {t: query(fresh_db, ROWS_BUT_THE_STAMP.format(t)) for t in TABLES}
    assert after == before
    # and with the rows back, the files are skipped again
    assert {r.method for r in load_directory(fresh_db, data)} == {"skipped"}


def test_a_header_only_batch_is_still_skipped_when_its_table_is_empty(
    fresh_db, tmp_path
):
    data = write_dataset(tmp_path / "d")
    (data / "promotions.csv").write_text(HEADERS["promotions"] + "\n")
    load_directory(fresh_db, data)
    results = {r.file: r for r in load_directory(fresh_db, data)}
    assert results["promotions.csv"].method == "skipped"


def test_a_replace_as_the_loader_role_is_one_line_and_changes_nothing(
    fresh_db, tmp_path
):
    with db.connect(fresh_db) as conn:
        apply_schema(conn)
    data = write_dataset(tmp_path / "d")
    load_directory(fresh_db, data)
    before = raw_fingerprint(fresh_db)
    loader = fresh_db | {"PGUSER": "ecom_loader", "PGPASSWORD": ""}
    err = one_line_error(ecom(loader, "load", "--replace", str(data)))
    assert "role ecom_loader may not empty the raw tables" in err
    assert "as the database owner" in err
    assert raw_fingerprint(fresh_db) == before
    # a plain load is still the loader's job
    assert ecom(loader, "load", str(data)).returncode == 0


def test_a_replace_loads_every_file_and_drops_rows_the_files_lack(fresh_db, tmp_path):
    load_directory(
        fresh_db, write_dataset(tmp_path / "old", {"customers": [customer(7)]})
    )
    new = write_dataset(tmp_path / "new")
    (new / "customers.csv").write_text(
        "\n".join([HEADERS["customers"], *(customer(i) for i in range(1, 6))])
        + "\n"
        + customer(6, email="bad")
        + "\n"
    )
    results = {r.file: r for r in load_directory(fresh_db, new, replace=True)}
    assert {r.method for r in results.values()} == {"direct", "sifted"}
    assert results["customers.csv"].rows_rejected == 1
    assert query(fresh_db, "select customer_id from raw.customers order by 1") == [
        (str(i),) for i in range(1, 6)
    ]
    assert query(fresh_db, "select count(*) from raw.load_batches") == [(14,)]
