"""The loader on files shaped like real exports: the source's own text ids,
money with fractions of a cent, only the columns an order line needs, empty
optional cells, dates read in a stated time zone, and the reject limit."""

from __future__ import annotations

import csv
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import query
from test_load import run_cli

from core import db
from core.errors import EcomError
from core.schema import apply_schema
from loader.load import load_directory

ORDER_IDS = ["ORD-2021-000123", "ORD-2021-000124", uuid.UUID(int=7).hex]


def write(folder: Path, table: str, rows: list[list[str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{table}.csv").open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return folder


def minimal_shop(folder: Path, items: list[list[str]] | None = None) -> Path:
    """Only what an order line can't exist without: no regions, channels,
    promotions; products with an id only; orders with an id and a time."""
    write(folder, "products", [["product_id"], ["85123A"], ["22423"]])
    write(
        folder,
        "customers",
        [["customer_id", "first_name", "email"], ["AB-10315", "Ana", ""]],
    )
    write(
        folder,
        "orders",
        [
            ["order_id", "customer_id", "ordered_at", "status"],
            [ORDER_IDS[0], "AB-10315", "2021-03-05", ""],
            [ORDER_IDS[1], "", "2021-03-06 10:00", "cancelled"],
            [ORDER_IDS[2], "AB-10315", "2021-03-07T23:30:00+01:00", ""],
        ],
    )
    write(
        folder,
        "order_items",
        items
        or [
            ["order_item_id", "order_id", "product_id", "quantity", "unit_price"],
            ["1", ORDER_IDS[0], "85123A", "6", "11.184"],
            ["2", ORDER_IDS[0], "22423", "1", "12.7500"],
            ["3", ORDER_IDS[1], "22423", "2", "0.0001"],
            ["4", ORDER_IDS[2], "85123A", "3", "2.5525"],
        ],
    )
    return folder


def test_text_ids_missing_columns_and_empty_cells_load_as_given(fresh_db, tmp_path):
    results = load_directory(fresh_db, minimal_shop(tmp_path / "d"))
    assert all(r.rows_rejected == 0 for r in results)
    assert {r.file for r in results} == {
        "products.csv",
        "customers.csv",
        "orders.csv",
        "order_items.csv",
    }
    orders = query(
        fresh_db,
        "select order_id, customer_id, status, payment_status, payment_method, "
        "shipping_amount from raw.orders order by order_id",
    )
    assert orders == sorted(
        [
            (ORDER_IDS[0], "AB-10315", "delivered", "paid", "unknown", Decimal(0)),
            (ORDER_IDS[1], None, "cancelled", "paid", "unknown", Decimal(0)),
            (ORDER_IDS[2], "AB-10315", "delivered", "paid", "unknown", Decimal(0)),
        ]
    )
    # nothing invented: unknown cost, stock and names stay unknown
    assert query(
        fresh_db,
        "select product_id, product_name, unit_cost, stock_quantity, brand "
        "from raw.products order by 1",
    ) == [("22423", None, None, None, None), ("85123A", None, None, None, None)]
    assert query(
        fresh_db, "select first_name, last_name, email, segment from raw.customers"
    ) == [("Ana", None, None, "unknown")]


def test_money_keeps_four_decimals_and_reconciles_exactly(fresh_db, tmp_path):
    items = [
        ["order_item_id", "order_id", "product_id", "quantity", "unit_price"],
        ["1", ORDER_IDS[0], "85123A", "6", "11.184"],
        ["2", ORDER_IDS[0], "22423", "1", "12.7500"],
        ["3", ORDER_IDS[1], "22423", "2", "11.18456"],  # 5 decimals: rejected
        ["4", ORDER_IDS[2], "85123A", "3", "2.5525"],
    ]
    data = minimal_shop(tmp_path / "d", items)
    results = {r.file: r for r in load_directory(fresh_db, data, max_reject_rate=0.5)}
    lines = results["order_items.csv"]
    read = sum(Decimal(row[4]) for row in items[1:])
    assert lines.money["unit_price"] == (
        read,
        read - Decimal("11.18456"),
        Decimal("11.18456"),
    )
    assert query(
        fresh_db, "select unit_price from raw.order_items order by order_item_id"
    ) == [(Decimal("11.184"),), (Decimal("12.7500"),), (Decimal("2.5525"),)]
    assert query(fresh_db, "select reason from raw.load_rejects") == [
        ("violates unit_price_at_most_4_decimals: unit_price = round(unit_price, 4)",)
    ]
    (stored,) = query(
        fresh_db,
        "select money_totals -> 'unit_price' from raw.load_batches "
        "where table_name = 'order_items'",
    )[0]
    assert {k: Decimal(v) for k, v in stored.items()} == {
        "read": read,
        "loaded": read - Decimal("11.18456"),
        "rejected": Decimal("11.18456"),
    }


def test_ids_the_app_keeps_for_itself_are_rejected(fresh_db, tmp_path):
    data = minimal_shop(tmp_path / "d")
    write(data, "products", [["product_id"], ["85123A"], ["22423"], ["App-7"]])
    results = {r.file: r for r in load_directory(fresh_db, data, max_reject_rate=0.5)}
    assert results["products.csv"].rows_rejected == 1
    assert query(fresh_db, "select reason from raw.load_rejects") == [
        ("product_id: ids starting with 'app-' are kept for rows created in the app",)
    ]


def test_dates_are_read_in_the_stated_zone_whatever_the_servers(
    fresh_db, tmp_path, monkeypatch
):
    """PGTZ sets the session's zone of any libpq client: the loader pins its
    own, so a date-only value is midnight in the zone the load states."""
    monkeypatch.setenv("PGTZ", "Europe/Berlin")
    data = minimal_shop(tmp_path / "d")
    load_directory(fresh_db, data)
    times = dict(
        query(
            fresh_db,
            "select order_id, to_char(ordered_at at time zone 'UTC', "
            "'YYYY-MM-DD HH24:MI') from raw.orders",
        )
    )
    assert times[ORDER_IDS[0]] == "2021-03-05 00:00"
    assert times[ORDER_IDS[1]] == "2021-03-06 10:00"
    assert times[ORDER_IDS[2]] == "2021-03-07 22:30"

    load_directory(fresh_db, data, force=True, timezone="America/New_York")
    times = dict(
        query(
            fresh_db,
            "select order_id, to_char(ordered_at at time zone 'UTC', "
            "'YYYY-MM-DD HH24:MI') from raw.orders",
        )
    )
    assert times[ORDER_IDS[0]] == "2021-03-05 05:00"
    assert times[ORDER_IDS[2]] == "2021-03-07 22:30"  # it had its own offset
    with pytest.raises(EcomError, match="unknown time zone 'Mars/Base'"):
        load_directory(fresh_db, data, force=True, timezone="Mars/Base")


def test_a_file_over_the_reject_limit_is_not_loaded_at_all(fresh_db, tmp_path):
    items = [
        ["order_item_id", "order_id", "product_id", "quantity", "unit_price"],
        ["1", ORDER_IDS[0], "85123A", "6", "11.184"],
        ["2", ORDER_IDS[0], "22423", "-1", "12.75"],
        ["3", ORDER_IDS[1], "nope", "2", "1.00"],
        ["4", ORDER_IDS[2], "85123A", "0", "2.55"],
    ]
    data = minimal_shop(tmp_path / "d", items)
    with pytest.raises(EcomError) as failure:
        load_directory(fresh_db, data)
    message = str(failure.value)
    assert "\n" not in message
    assert message.startswith(
        "order_items.csv: 3 of 4 rows rejected (75%, more than the limit of 10%); "
        "nothing of the file was loaded."
    )
    assert "2 x violates quantity_positive: quantity > 0 (e.g. line 3: 2," in message
    assert "1 x unknown product_id: no products row with product_id = nope" in message
    assert query(fresh_db, "select count(*) from raw.order_items") == [(0,)]
    assert query(
        fresh_db,
        "select count(*) from raw.load_batches where table_name = 'order_items'",
    ) == [(0,)]
    assert query(fresh_db, "select count(*) from raw.orders") == [(3,)]
    # within a limit the user sets, the good rows go in and the bad are logged
    load_directory(fresh_db, data, max_reject_rate=0.75)
    assert query(fresh_db, "select count(*) from raw.order_items") == [(1,)]
    with pytest.raises(EcomError, match=r"max reject rate 2\.0 is not between 0 and 1"):
        load_directory(fresh_db, data, max_reject_rate=2.0)


def test_a_database_with_integer_ids_is_refused_in_one_line(fresh_db):
    with db.connect(fresh_db) as conn:
        conn.execute("create schema raw")
        conn.execute("create schema app")
        conn.execute("create table raw.orders (order_id bigint primary key)")
        conn.execute("create table raw.order_items (order_item_id bigint)")
        conn.commit()
        with pytest.raises(EcomError, match="ids are text now"):
            apply_schema(conn)


def test_ecom_load_exits_non_zero_when_a_file_is_over_the_limit(fresh_db, tmp_path):
    items = [
        ["order_item_id", "order_id", "product_id", "quantity", "unit_price"],
        ["1", ORDER_IDS[0], "85123A", "6", "11.184"],
        ["2", ORDER_IDS[0], "22423", "-1", "12.75"],
    ]
    data = minimal_shop(tmp_path / "d", items)
    failed = run_cli(fresh_db, "load", str(data))
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    (line,) = failed.stderr.strip().splitlines()
    assert "order_items.csv: 1 of 2 rows rejected (50%" in line
    loaded = run_cli(fresh_db, "load", str(data), "--max-reject-rate", "0.5")
    assert loaded.returncode == 0, loaded.stderr
    assert "unit_price" in loaded.stdout and "11.184" in loaded.stdout
    assert query(fresh_db, "select count(*) from raw.order_items") == [(1,)]
