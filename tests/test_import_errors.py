"""`ecom import` with a wrong mapping or bad lines: one-line errors naming what
is wrong, exit code 1, and nothing written; a few bad lines are rejected with
their reason, whole orders at a time, and the rest loads."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import query
from test_import_mappings import SHOPIFY, UCI, ecom

from loader.imports import load_mapping, split_file
from loader.imports.mapping import MAPPINGS_DIR


def one_line_error(result) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def nothing_written(env: dict[str, str]) -> bool:
    """No raw tables yet, or all of them empty."""
    if query(env, "select to_regclass('raw.order_items')") == [(None,)]:
        return True
    counts = query(
        env,
        "select (select count(*) from raw.orders) + (select count(*) from "
        "raw.customers) + (select count(*) from raw.products)",
    )
    return counts == [(0,)]


def split_tables(tmp_path: Path, export: Path, mapping):
    """Split the export into files in tmp_path; the split and each file's rows."""
    folder = tmp_path / "tables"
    folder.mkdir()
    split = split_file(export, mapping, folder)
    tables = {}
    for table in split.columns:
        with (folder / f"{table}.csv").open(encoding="utf-8", newline="") as file:
            tables[table] = list(csv.DictReader(file))
    return split, tables


def edited_mapping(tmp_path: Path, old: str, new: str) -> Path:
    text = (MAPPINGS_DIR / "shopify.yml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "edited.yml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("tax_amount: Taxes", "tax_amount: Tax total", "'Tax total'"),
        ("      fulfilled: shipped", "      fulfilled: sent", "fulfilled: 'sent'"),
        ("order_items:", "order_item:", "'order_item'"),
        ("  shipping_amount: Shipping", "  shipping_amount: [Shipping", "YAML"),
        ("  order_id: Name\n", "", "orders.order_id is required"),
    ],
    ids=["unknown-column", "unknown-status", "unknown-key", "bad-yaml", "no-id"],
)
def test_a_wrong_mapping_is_one_line_and_writes_nothing(
    fresh_db, tmp_path, old, new, named
):
    mapping = edited_mapping(tmp_path, old, new)
    result = ecom(fresh_db, "import", str(SHOPIFY), "--mapping", str(mapping))
    assert named in one_line_error(result)
    assert nothing_written(fresh_db)


def test_an_unknown_mapping_name_lists_the_bundled_ones(fresh_db):
    message = one_line_error(ecom(fresh_db, "import", str(SHOPIFY), "--mapping", "x"))
    assert "shopify" in message and "uci_online_retail" in message


def test_a_missing_file_and_an_unknown_zone_are_named(fresh_db, tmp_path):
    missing = tmp_path / "absent.csv"
    message = one_line_error(
        ecom(fresh_db, "import", str(missing), "--mapping", "shopify")
    )
    assert "absent.csv" in message
    message = one_line_error(
        ecom(
            fresh_db, "import", str(SHOPIFY), "--mapping", "shopify",
            "--timezone", "Mars/Olympus",
        )
    )  # fmt: skip
    assert "Mars/Olympus" in message
    assert nothing_written(fresh_db)


def test_a_file_in_another_encoding_is_refused(fresh_db, tmp_path):
    latin = tmp_path / "latin.csv"
    text = UCI.read_text(encoding="utf-8").replace("EIRE", "Éire")
    latin.write_bytes(text.encode("latin-1"))
    message = one_line_error(
        ecom(fresh_db, "import", str(latin), "--mapping", "uci_online_retail")
    )
    assert "latin.csv" in message and "encoding" in message
    assert nothing_written(fresh_db)


def with_unmapped_status(tmp_path: Path) -> Path:
    """The Shopify fixture, order #1009 with a payment status the mapping lacks."""
    text = SHOPIFY.read_text(encoding="utf-8")
    old = "#1009,frank@example.com,paid,"
    assert text.count(old) == 1
    path = tmp_path / "orders.csv"
    path.write_text(text.replace(old, "#1009,frank@example.com,chargeback,"))
    return path


def test_an_unmapped_value_rejects_its_order_and_the_rest_loads(fresh_db, tmp_path):
    path = with_unmapped_status(tmp_path)
    result = ecom(fresh_db, "import", str(path), "--mapping", "shopify")
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "1 rejected before loading" in out
    line = 1 + next(
        n for n, row in enumerate(path.read_text().splitlines()) if "#1009" in row
    )
    assert f"line {line}: orders.payment_status: Financial Status" in out
    assert '"chargeback"' in out
    assert query(fresh_db, "select count(*) from raw.orders where order_id = '#1009'")[
        0
    ] == (0,)
    assert query(fresh_db, "select count(*) from raw.orders") == [(11,)]


def test_above_the_reject_rate_nothing_is_loaded(fresh_db, tmp_path):
    path = with_unmapped_status(tmp_path)
    result = ecom(
        fresh_db, "import", str(path), "--mapping", "shopify",
        "--max-reject-rate", "0",
    )  # fmt: skip
    message = one_line_error(result)
    assert "1 of 23 lines rejected" in message and "chargeback" in message
    assert nothing_written(fresh_db)


def test_a_line_mixing_signs_rejects_the_whole_invoice(tmp_path):
    path = tmp_path / "mixed.csv"
    text = UCI.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "536381,22719,GUMBALL MONOCHROME COAT RACK,1,",
            "536381,22719,GUMBALL MONOCHROME COAT RACK,-1,",
        )
    )
    split, tables = split_tables(tmp_path, path, load_mapping("uci_online_retail"))
    assert [(r.line, r.problem) for r in split.rejects] == [
        (17, "the order mixes negative and positive quantities"),
        (18, "another line of its order was rejected"),
    ]
    assert "536381" not in {row["order_id"] for row in tables["orders"]}
    assert "536381" not in {row["order_id"] for row in tables["order_items"]}


def test_decimal_commas_and_offsets_are_read_exactly(tmp_path):
    mapping = tmp_path / "semicolons.yml"
    mapping.write_text(
        """
file:
  delimiter: ";"
  decimal_separator: ","
  thousands_separator: "."
  timestamp_formats: ["%d.%m.%Y %H:%M"]
  timezone: Europe/Berlin
products: {product_id: Artikel}
orders: {order_id: Beleg, ordered_at: Datum}
order_items: {quantity: Menge, unit_price: Preis, discount_amount: Rabatt}
""",
        encoding="utf-8",
    )
    export = tmp_path / "export.csv"
    export.write_text(
        "Beleg;Artikel;Menge;Preis;Rabatt;Datum\n"
        "R-1;A;3;1.234,5678;0,1;31.03.2024 01:30\n"
        "R-1;B;1;0,1;;31.03.2024 01:30\n"
        "R-2;A;2;7,25;1,00;01.07.2024 00:15\n",
        encoding="utf-8",
    )
    split, tables = split_tables(tmp_path, export, load_mapping(str(mapping)))
    items = tables["order_items"]
    assert [
        (i["order_item_id"], i["unit_price"], i["discount_amount"]) for i in items
    ] == [
        ("R-1-1", "1234.5678", "0.1"),
        ("R-1-2", "0.1", ""),
        ("R-2-1", "7.25", "1.00"),
    ]
    assert Decimal(items[0]["unit_price"]) * 3 == Decimal("3703.7034")
    # winter time before the switch that night, summer time after
    assert [o["ordered_at"] for o in tables["orders"]] == [
        "2024-03-31T01:30:00+01:00",
        "2024-07-01T00:15:00+02:00",
    ]
    assert split.merged == {"products": 1}
