"""`ecom import` reads the export as a stream, one order at a time: an order
whose lines are not together is not merged, its later lines are rejected with
the line the order started on, and the memory the split takes does not grow
with the number of lines."""

from __future__ import annotations

import csv
import tracemalloc
from pathlib import Path

from conftest import query
from test_import_errors import split_tables
from test_import_mappings import SHOPIFY, ecom

from loader.imports import load_mapping, split_file

NOT_TOGETHER = "its order's lines are not together"

# a small export: order id, product, quantity, price and the customer's e-mail
MAPPING = """
file:
  timestamp_formats: ["%Y-%m-%d %H:%M:%S"]
  timezone: UTC
customers: {customer_id: email, email: email}
products: {product_id: sku}
orders: {order_id: order, customer_id: email, ordered_at: created}
order_items: {quantity: qty, unit_price: price}
"""
HEADER = ["order", "sku", "qty", "price", "email", "created"]


def small_mapping(tmp_path: Path):
    path = tmp_path / "small.yml"
    path.write_text(MAPPING, encoding="utf-8")
    return load_mapping(str(path))


def write_export(path: Path, orders: list[tuple[str, int]]) -> Path:
    """One line per item: each (order id, items) in turn, products from a pool
    of 200, customers from a pool of 50."""
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        for n, (order_id, items) in enumerate(orders):
            for item in range(items):
                writer.writerow(
                    [
                        order_id,
                        f"SKU-{(n + item) % 200}",
                        1 + item % 3,
                        f"{5 + n % 40}.50",
                        f"c{n % 50}@example.com",
                        f"2024-03-{1 + n % 28:02d} 10:00:00",
                    ]
                )
    return path


def test_an_order_coming_back_later_is_rejected_not_merged(tmp_path):
    export = write_export(
        tmp_path / "export.csv", [("A", 2), ("B", 1), ("A", 2), ("B", 1), ("C", 1)]
    )
    split, tables = split_tables(tmp_path, export, small_mapping(tmp_path))
    assert [str(r) for r in split.rejects] == [
        f'line 5: {NOT_TOGETHER}: "order A started on line 2"',
        f'line 6: {NOT_TOGETHER}: "order A started on line 2"',
        f'line 7: {NOT_TOGETHER}: "order B started on line 4"',
    ]
    assert [o["order_id"] for o in tables["orders"]] == ["A", "B", "C"]
    assert [i["order_item_id"] for i in tables["order_items"]] == [
        "A-1",
        "A-2",
        "B-1",
        "C-1",
    ]
    assert split.lines_read == 7 and split.rows["order_items"] == 4


def test_a_stray_line_is_kept_with_its_reason_and_the_rest_loads(fresh_db, tmp_path):
    """Order #1001's second line moved to the end of the Shopify fixture."""
    lines = SHOPIFY.read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("#1001,") and lines[2].startswith("#1001,")
    moved = lines[2]
    path = tmp_path / "orders.csv"
    path.write_text("\n".join([*lines[:2], *lines[3:], moved]) + "\n")
    result = ecom(fresh_db, "import", str(path), "--mapping", "shopify")
    assert result.returncode == 0, result.stderr
    last = len(lines)
    assert query(
        fresh_db, "select line_number, record, reason from raw.load_rejects"
    ) == [(last, moved, f'{NOT_TOGETHER}: "order #1001 started on line 2"')]
    assert query(
        fresh_db,
        "select order_item_id from raw.order_items where order_id = '#1001'",
    ) == [("#1001-1",)]
    assert query(fresh_db, "select count(*) from raw.order_items") == [
        (len(lines) - 2,)
    ]


def traced_peak(tmp_path: Path, orders: int, items: int) -> int:
    """Peak bytes Python allocates while splitting an export of `orders`
    orders of `items` lines each into files."""
    mapping = small_mapping(tmp_path)
    export = write_export(
        tmp_path / f"export_{items}.csv", [(f"O{n}", items) for n in range(orders)]
    )
    folder = tmp_path / f"tables_{items}"
    folder.mkdir()
    tracemalloc.start()
    try:
        split = split_file(export, mapping, folder)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert split.lines_read == orders * items and not split.rejects
    assert split.rows["order_items"] == orders * items
    assert split.rows["orders"] == orders and split.rows["products"] == 200
    return peak


def test_four_times_the_lines_take_no_more_memory(tmp_path):
    """The same orders with four times the lines each: holding the lines would
    take about four times the memory; the split holds one order's lines at a
    time. (What grows with the file is one entry per order id met and one row
    per distinct customer or product.)"""
    short = traced_peak(tmp_path, orders=500, items=10)  # 5 000 lines
    long = traced_peak(tmp_path, orders=500, items=40)  # 20 000 lines
    assert long < 1.5 * short, (short, long)
