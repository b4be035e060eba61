"""The CSV loader against a real PostgreSQL: reconciliation, rejects, idempotence,
upserts, atomicity under SIGKILL, and one-line errors for bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import query

from core import db
from loader.load import load_directory as load_with_limit
from loader.load import sift


def load_directory(*args, **kwargs):
    """The loader without its reject limit: these tests load small files where
    single bad rows are a large share (the limit has its own tests)."""
    kwargs.setdefault("max_reject_rate", 1.0)
    return load_with_limit(*args, **kwargs)


TS = "2024-01-01T00:00:00Z"
HEADERS = {
    "regions": "region_id,region_name,updated_at",
    "channels": "channel_id,channel_name,channel_type,updated_at",
    "customers": "customer_id,first_name,last_name,email,phone,birth_date,city,"
    "country_code,region_id,segment,acquisition_channel_id,signup_at,is_active,"
    "updated_at",
    "products": "product_id,sku,product_name,category,subcategory,brand,unit_cost,"
    "list_price,stock_quantity,reorder_point,is_active,created_at,updated_at",
    "promotions": "promotion_id,promo_code,description,discount_pct,starts_at,ends_at,"
    "updated_at",
    "orders": "order_id,customer_id,channel_id,ship_region_id,promotion_id,ordered_at,"
    "status,payment_status,payment_method,shipping_amount,tax_amount,updated_at,"
    "deleted_at",
    "order_items": "order_item_id,order_id,product_id,quantity,unit_price,"
    "discount_amount,updated_at",
}


def customer(i: int, email: str | None = None, region: int = 1) -> str:
    email = email or f"c{i}@example.com"
    return (
        f"{i},First{i},Last{i},{email},,1990-01-01,Oslo,NO,{region},consumer,1,{TS},"
        f"true,{TS}"
    )


def order(i: int, customer_id: int = 1, status: str = "delivered", ts: str = TS) -> str:
    return f"{i},{customer_id},1,1,,{ts},{status},paid,card,4.99,1.00,{ts},"


def item(i: int, order_id: int = 1, qty: str = "2", price: str = "10.00") -> str:
    return f"{i},{order_id},1,{qty},{price},0,{TS}"


def write_dataset(folder: Path, extra: dict[str, list[str]] | None = None) -> Path:
    """A small valid dataset, plus extra lines appended per table."""
    rows = {
        "regions": [f"1,North,{TS}", f"2,South,{TS}"],
        "channels": [f"1,Web,online,{TS}"],
        "customers": [customer(i) for i in range(1, 6)],
        "products": [f"1,SKU-1,Lamp,home,lighting,Acme,5.00,9.99,10,5,true,{TS},{TS}"],
        "promotions": [f"1,SPRING,Spring sale,10.00,{TS},2024-02-01T00:00:00Z,{TS}"],
        "orders": [order(i, customer_id=i % 5 + 1) for i in range(1, 11)],
        "order_items": [item(i, order_id=(i - 1) // 2 + 1) for i in range(1, 21)],
    }
    folder.mkdir(parents=True, exist_ok=True)
    for table, lines in rows.items():
        body = "\n".join([HEADERS[table], *lines, *(extra or {}).get(table, [])])
        (folder / f"{table}.csv").write_text(body + "\n", encoding="utf-8")
    return folder


def counts(env) -> dict[str, int]:
    tables = ["customers", "orders", "order_items", "load_batches", "load_rejects"]
    return {t: query(env, f"select count(*) from raw.{t}")[0][0] for t in tables}


def run_cli(env: dict[str, str], *args: str, timeout: int = 120):
    process_env = db.child_env(env)
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=process_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_clean_files_load_directly_and_reconcile(fresh_db, tmp_path):
    results = load_directory(fresh_db, write_dataset(tmp_path / "d"))
    assert {r.method for r in results} == {"direct"}
    by_table = {r.table: r for r in results}
    assert by_table["order_items"].rows_loaded == 20
    assert counts(fresh_db)["order_items"] == 20
    batches = query(
        fresh_db,
        "select rows_read, rows_loaded, rows_rejected from raw.load_batches",
    )
    assert len(batches) == 7
    assert all(read == loaded + rejected for read, loaded, rejected in batches)


@pytest.fixture(params=["typed copy", "text landing"])
def landing(request, monkeypatch):
    """Both ways a sifted file lands: COPY straight into typed columns, skipping
    values that don't parse (PostgreSQL 17+), or every record as text first."""
    if request.param == "text landing":
        monkeypatch.setattr(sift, "_copy_skips_bad_values", lambda cur: False)
    return request.param


def test_bad_rows_are_rejected_with_line_and_reason(fresh_db, tmp_path, landing):
    extra = {
        "customers": [
            customer(50, email="not-an-email"),
            customer(51, region=99),
            "52,Short,Row,c52@example.com",
            customer(1, email="again@example.com"),
            customer(53, email="c2@example.com"),
            customer(54).replace("1990-01-01", "1990-13-45"),
            customer(55).replace("First55", "x" * 101),
        ],
        "order_items": [
            item(100, qty="-1"),
            item(101, qty="1", price="abc"),
            f"102,1,1,1,10.00,50.00,{TS}",
            f"103,1,999,1,10.00,0,{TS}",
            f'104,1,1,1,"10.00",0,{TS}',
        ],
    }
    data = write_dataset(tmp_path / "d", extra)
    with (data / "customers.csv").open("ab") as f:
        f.write(customer(56).replace("Oslo", "Os\xfflo").encode("latin-1") + b"\n")
    results = {r.table: r for r in load_directory(fresh_db, data)}
    assert results["customers"].method == "sifted"
    assert (results["customers"].rows_loaded, results["customers"].rows_rejected) == (
        5,
        8,
    )
    # a quoted number is still a number: only 4 of the 5 extra items are bad
    assert (
        results["order_items"].rows_loaded,
        results["order_items"].rows_rejected,
    ) == (
        21,
        4,
    )
    rejects = dict(
        query(
            fresh_db,
            "select table_name || ':' || line_number, reason from raw.load_rejects",
        )
    )
    assert "email_format" in rejects["customers:7"]
    assert "no regions row with region_id = 99" in rejects["customers:8"]
    assert "expected 14, found 4" in rejects["customers:9"]
    assert "duplicate customer_id in file (first on line 2)" in rejects["customers:10"]
    assert "already used by another customers row" in rejects["customers:11"] or (
        "duplicate email" in rejects["customers:11"]
    )
    assert "birth_date" in rejects["customers:12"]
    assert (
        "first_name" in rejects["customers:13"]
        and "too long" in rejects["customers:13"]
    )
    assert "invalid UTF-8" in rejects["customers:14"]
    assert "quantity_positive" in rejects["order_items:22"]
    assert (
        'unit_price: invalid input syntax for type numeric: "abc"'
        in (rejects["order_items:23"])
    )
    assert "discount_within_line_amount" in rejects["order_items:24"]
    assert "no products row with product_id = 999" in rejects["order_items:25"]
    # the original record is kept verbatim
    record = query(
        fresh_db,
        "select record from raw.load_rejects where table_name = 'order_items' "
        "and line_number = 23",
    )[0][0]
    assert record == item(101, qty="1", price="abc")


def test_reload_is_idempotent_and_force_changes_nothing(fresh_db, tmp_path):
    data = write_dataset(tmp_path / "d", {"order_items": [item(100, qty="0")]})
    load_directory(fresh_db, data)
    before = query(fresh_db, "select * from raw.order_items order by 1")
    first = counts(fresh_db)
    assert {r.method for r in load_directory(fresh_db, data)} == {"skipped"}
    assert counts(fresh_db) == first
    forced = load_directory(fresh_db, data, force=True)
    assert {r.method for r in forced} == {"sifted"}  # keys exist: upsert path
    assert query(fresh_db, "select * from raw.order_items order by 1") == before


def test_appended_batch_upserts_changed_rows(fresh_db, tmp_path, landing):
    data = write_dataset(tmp_path / "d")
    load_directory(fresh_db, data)
    later = "2024-01-05T00:00:00Z"
    (data / "orders__append_20240105.csv").write_text(
        "\n".join(
            [HEADERS["orders"], order(3, customer_id=4, status="returned", ts=later)]
        )
        + "\n"
        + order(11, customer_id=2, ts=later)
        + "\n"
    )
    results = {r.file: r for r in load_directory(fresh_db, data)}
    appended = results["orders__append_20240105.csv"]
    assert (appended.rows_read, appended.rows_loaded, appended.rows_rejected) == (
        2,
        2,
        0,
    )
    rows = query(fresh_db, "select order_id, status, updated_at::text from raw.orders")
    by_id = {r[0]: r for r in rows}
    assert by_id["3"][1] == "returned" and by_id["3"][2].startswith("2024-01-05")
    assert "11" in by_id and len(rows) == 11


def test_multiline_quoted_field_keeps_line_numbers(fresh_db, tmp_path, landing):
    data = write_dataset(tmp_path / "d")
    lines = (data / "products.csv").read_text().splitlines()
    lines.append(
        f'2,SKU-2,"Lamp\nwith a newline",home,lighting,Acme,5,9,1,1,true,{TS},{TS}'
    )
    lines.append(f"3,SKU-3,Chair,home,seating,Acme,x,9,1,1,true,{TS},{TS}")
    (data / "products.csv").write_text("\n".join(lines) + "\n")
    load_directory(fresh_db, data)
    assert query(
        fresh_db, "select product_name from raw.products where product_id = '2'"
    ) == [("Lamp\nwith a newline",)]
    assert query(fresh_db, "select line_number from raw.load_rejects") == [(5,)]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "products.csv").unlink(), "missing file: products.csv"),
        (lambda d: (d / "orders.csv").write_text(""), "orders.csv: file is empty"),
        (
            lambda d: (d / "orders.csv").write_text(
                (d / "orders.csv").read_text().replace(",", ";")
            ),
            "orders.csv: wrong delimiter ';'",
        ),
        (
            lambda d: (d / "orders.csv").write_text(
                (d / "orders.csv").read_text().replace("payment_method,", "pay_method,")
            ),
            "unknown column(s) pay_method",
        ),
        (
            lambda d: (d / "order_items.csv").write_text(
                "order_item_id,order_id\n1,1\n"
            ),
            "order_items.csv: missing required column(s): product_id",
        ),
        (
            lambda d: (d / "channels.csv").write_bytes(
                (d / "channels.csv").read_text().encode("utf-16")
            ),
            "channels.csv: file is not UTF-8",
        ),
        (lambda d: (d / "notes.csv").write_text("a,b\n"), "notes.csv: unknown table"),
    ],
)
def test_bad_input_gives_one_line_error_and_writes_nothing(
    fresh_db, tmp_path, damage, message
):
    data = write_dataset(tmp_path / "d")
    damage(data)
    result = run_cli(fresh_db, "load", str(data))
    assert result.returncode == 1
    err = result.stderr.strip()
    assert message in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    exists = query(fresh_db, "select to_regclass('raw.load_batches') is not null")[0][0]
    if exists:
        assert counts(fresh_db)["load_batches"] == 0


def test_missing_directory_and_unreachable_database(fresh_db, tmp_path):
    result = run_cli(fresh_db, "load", str(tmp_path / "nope"))
    assert result.returncode == 1 and "no such directory" in result.stderr
    down = fresh_db | {"PGHOST": "127.0.0.1", "PGPORT": "1"}
    result = run_cli(down, "load", str(write_dataset(tmp_path / "d")))
    assert result.returncode == 1
    assert "cannot connect to PostgreSQL at 127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.stderr


def write_big_items(folder: Path, rows: int) -> None:
    """Many valid order items for order 1 (enough to kill a load half-way)."""
    with (folder / "order_items__big.csv").open("w") as f:
        f.write(HEADERS["order_items"] + "\n")
        for start in range(1000, 1000 + rows, 100_000):
            stop = min(start + 100_000, 1000 + rows)
            f.write("".join(f"{i},1,1,1,1.00,0,{TS}\n" for i in range(start, stop)))


def test_killed_load_leaves_nothing_and_rerun_completes(fresh_db, tmp_path):
    data = write_dataset(tmp_path / "d")
    load_directory(fresh_db, data)
    write_big_items(data, 1_000_000)
    before = counts(fresh_db)
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "load", str(data)],
        env=db.child_env(fresh_db),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    copying = False
    while time.monotonic() < deadline and process.poll() is None:
        copying = bool(
            query(
                fresh_db,
                "select 1 from pg_stat_progress_copy p join pg_class c "
                "on c.oid = p.relid where c.relname = 'order_items' "
                "and p.tuples_processed > 0",
            )
        )
        if copying:
            break
        time.sleep(0.05)
    assert copying, "the load finished before it could be interrupted"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    time.sleep(0.5)  # the server notices the dropped connection and rolls back
    assert counts(fresh_db) == before
    results = {r.file: r for r in load_directory(fresh_db, data)}
    assert results["order_items__big.csv"].rows_loaded == 1_000_000
    assert counts(fresh_db)["order_items"] == before["order_items"] + 1_000_000


# each dirty kind's reject reason contains one of these
REASON_WORDS = {
    "wrong_column_count": ("expected",),
    "bad_number": ("invalid input syntax",),
    "bad_timestamp": ("timestamp", "date/time"),
    "negative_quantity": ("quantity_positive",),
    "discount_above_line": ("discount_within_line_amount",),
    "unknown_foreign_key": ("unknown",),
    "duplicate_key": ("duplicate",),
    "malformed_email": ("email_format",),
    "overlong_text": ("too long",),
    "invalid_utf8": ("UTF-8",),
}


def test_every_injected_row_is_rejected_on_its_line(fresh_db, tmp_path, landing):
    from loader.generate import DIRTY_KINDS, generate

    data = tmp_path / "dirty"
    manifest = generate(data, scale=0.05, seed=11, dirty_rate=0.02)
    results = load_directory(fresh_db, data)
    injected = {(i["file"], i["line"]): i["kind"] for i in manifest["injected"]}
    assert set(injected.values()) == set(DIRTY_KINDS)
    rejects = {
        (file, line): reason
        for file, line, reason in query(
            fresh_db, "select file_name, line_number, reason from raw.load_rejects"
        )
    }
    assert rejects.keys() == injected.keys()
    for key, kind in injected.items():
        words = REASON_WORDS[kind]
        assert any(w in rejects[key] for w in words), (key, kind, rejects[key])
    for r in results:
        assert r.rows_read == r.rows_loaded + r.rows_rejected
        assert r.rows_loaded == manifest["file_row_counts"][r.file], r.file
