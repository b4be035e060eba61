"""`ecom import` keeps every line it rejects before loading: in raw.load_rejects
with its line number, the export's record as written and the reason, under one
raw.load_batches row for the export (table `export_lines`) whose counts add up
to the lines read; a failed load records nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
from conftest import query
from test_import_errors import one_line_error
from test_import_mappings import SHOPIFY, ecom

EXPORT_BATCH = """
    select batch_id, file_name, file_checksum, file_bytes, load_method,
        rows_read, rows_loaded, rows_rejected
    from raw.load_batches
    where table_name = 'export_lines'
"""


def replaced(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def dirty_export(tmp_path: Path) -> tuple[Path, dict[int, str]]:
    """The Shopify fixture with order #1009's payment status unmapped and a line
    of order #1011 spread over two lines (a quoted newline) with a quantity that
    is not a number; returns the file and the records of the rejected lines, by
    the line each starts on."""
    text = SHOPIFY.read_text(encoding="utf-8")
    text = replaced(
        text, "#1009,frank@example.com,paid,", "#1009,frank@example.com,chargeback,"
    )
    text = replaced(
        text,
        "2024-05-19 20:02:02 +0200,1,Matcha 30 g,",
        '2024-05-19 20:02:02 +0200,x,"Matcha\n30 g",',
    )
    path = tmp_path / "orders.csv"
    path.write_bytes(text.encode("utf-8"))
    physical = text.splitlines()
    first = {
        marker: 1 + next(n for n, row in enumerate(physical) if marker in row)
        for marker in ("#1009,", "#1011,grace", '"Matcha')
    }
    matcha = first['"Matcha']
    records = {
        first["#1009,"]: physical[first["#1009,"] - 1],
        first["#1011,grace"]: physical[first["#1011,grace"] - 1],
        matcha: physical[matcha - 1] + "\n" + physical[matcha],
        matcha + 2: physical[matcha + 1],
    }
    return path, records


def test_rejected_lines_are_kept_with_their_record_and_reason(fresh_db, tmp_path):
    path, records = dirty_export(tmp_path)
    result = ecom(
        fresh_db, "import", str(path), "--mapping", "shopify",
        "--max-reject-rate", "0.5",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines_read = len(pd.read_csv(path, dtype=str))
    assert query(fresh_db, "select count(*) from raw.order_items") == [
        (lines_read - len(records),)
    ]
    [batch] = query(fresh_db, EXPORT_BATCH)
    batch_id, *described = batch
    data = path.read_bytes()
    assert described == [
        "orders.csv",
        hashlib.blake2b(data, digest_size=32).hexdigest(),
        len(data),
        "import",
        lines_read,
        lines_read - len(records),
        len(records),
    ]
    kept = query(
        fresh_db,
        "select line_number, record, reason, table_name, file_name "
        "from raw.load_rejects where batch_id = %s order by line_number",
        [batch_id],
    )
    assert [(line, record) for line, record, *_ in kept] == sorted(records.items())
    assert {(table, file) for *_, table, file in kept} == {
        ("export_lines", "orders.csv")
    }
    reasons = {line: reason for line, _, reason, *_ in kept}
    matcha = min(line for line, record in records.items() if "Matcha" in record)
    assert reasons[min(records)] == (
        "orders.payment_status: Financial Status is not among the mapping's "
        'values: "chargeback"'
    )
    assert reasons[matcha] == (
        'order_items.quantity: Lineitem quantity is not a number: "x"'
    )
    assert reasons[matcha + 2] == (
        f'another line of its order was rejected: "line {matcha}"'
    )


def test_the_order_items_of_an_import_are_counted_once_per_table(fresh_db, tmp_path):
    path, records = dirty_export(tmp_path)
    result = ecom(
        fresh_db, "import", str(path), "--mapping", "shopify",
        "--max-reject-rate", "0.5",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    per_table = dict(
        query(
            fresh_db,
            "select table_name, sum(rows_read)::int from raw.load_batches "
            "group by table_name",
        )
    )
    items = query(fresh_db, "select count(*) from raw.order_items")[0][0]
    assert per_table["order_items"] == items
    assert per_table["export_lines"] == items + len(records)


def test_importing_a_dirty_export_again_records_it_once(fresh_db, tmp_path):
    path, records = dirty_export(tmp_path)
    for _ in range(2):
        result = ecom(
            fresh_db, "import", str(path), "--mapping", "shopify",
            "--max-reject-rate", "0.5",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    assert len(query(fresh_db, EXPORT_BATCH)) == 1
    assert query(fresh_db, "select count(*) from raw.load_rejects") == [(len(records),)]


def test_a_failed_load_records_nothing_of_the_export(fresh_db, tmp_path):
    """A country the contract refuses: the customers' file goes over the reject
    limit after the split accepted every line."""
    path = tmp_path / "orders.csv"
    text = SHOPIFY.read_text(encoding="utf-8")
    path.write_text(replaced(text, "Frank Berg,Oslo,NO,", "Frank Berg,Oslo,Norway,"))
    result = ecom(
        fresh_db, "import", str(path), "--mapping", "shopify",
        "--max-reject-rate", "0",
    )  # fmt: skip
    assert "customers" in one_line_error(result)
    assert query(fresh_db, EXPORT_BATCH) == []
    assert query(
        fresh_db,
        "select count(*) from raw.load_rejects where table_name = 'export_lines'",
    ) == [(0,)]
