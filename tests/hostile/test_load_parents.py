"""Rows rejected because their parent was missing load once a later load brings
the parent: their file is not skipped by its checksum then."""

from __future__ import annotations

from conftest import query
from test_load import load_directory  # without the reject limit

from .load_support import (
    HEADERS,
    customer,
    item,
    landing_fixture,  # noqa: F401  (the `landing` fixture)
    order,
    write_dataset,
)


def test_children_rejected_for_a_missing_parent_load_when_it_arrives(
    fresh_db, tmp_path
):
    data = write_dataset(
        tmp_path / "d",
        {"orders": [order(11, customer_id=99)], "order_items": [item(21, order_id=11)]},
    )
    first = {r.file: r for r in load_directory(fresh_db, data)}
    assert first["orders.csv"].rows_rejected == 1
    assert first["order_items.csv"].rows_rejected == 1

    # a load that brings nothing new to customers still skips them
    again = {r.file: r.method for r in load_directory(fresh_db, data)}
    assert set(again.values()) == {"skipped"}

    # the missing customer arrives: the order, then its line, load too
    (data / "customers__late.csv").write_text(
        f"{HEADERS['customers']}\n{customer(99)}\n"
    )
    results = {r.file: r for r in load_directory(fresh_db, data)}
    assert results["customers__late.csv"].rows_loaded == 1
    for name in ("orders.csv", "order_items.csv"):
        assert results[name].method != "skipped", name
        assert results[name].rows_rejected == 0, name
    for name in ("regions.csv", "channels.csv", "products.csv", "customers.csv"):
        assert results[name].method == "skipped", name
    assert query(
        fresh_db, "select customer_id from raw.orders where order_id = '11'"
    ) == [("99",)]
    assert query(
        fresh_db, "select order_id from raw.order_items where order_item_id = '21'"
    ) == [("11",)]
    assert {r.method for r in load_directory(fresh_db, data)} == {"skipped"}


def test_rows_rejected_for_another_reason_do_not_reload_their_file(fresh_db, tmp_path):
    data = write_dataset(tmp_path / "d", {"orders": [order(11, status="lost")]})
    load_directory(fresh_db, data)
    (data / "customers__more.csv").write_text(
        f"{HEADERS['customers']}\n{customer(98)}\n"
    )
    results = {r.file: r.method for r in load_directory(fresh_db, data)}
    assert results["customers__more.csv"] == "direct"
    assert results["orders.csv"] == "skipped"


def test_a_row_that_breaks_a_check_and_misses_its_parent_is_one_reject(
    fresh_db, tmp_path, landing
):
    data = write_dataset(
        tmp_path / "d", {"order_items": [item(30, order_id=999, qty="0")]}
    )
    results = {r.file: r for r in load_directory(fresh_db, data)}
    items = results["order_items.csv"]
    assert (items.rows_read, items.rows_loaded, items.rows_rejected) == (21, 20, 1)
    ((line, reason),) = query(
        fresh_db, "select line_number, reason from raw.load_rejects"
    )
    assert line == 22
    assert "violates quantity_positive" in reason
    assert "no orders row with order_id = 999" in reason
