"""Dirty rows: every kind is injected as an extra row that is bad in exactly one way,
recorded in the manifest, and removing them gives back the clean files."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

from generate_support import EMAIL, read

from loader import generate as gen


def _is_bad(
    kind: str,
    table: str,
    raw: bytes,
    file_lines: list[bytes],
    line: int,
    known: dict[str, set[str]],
) -> bool:
    cols = gen.TABLE_COLUMNS[table]
    if kind == "invalid_utf8":
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return True
        return False
    fields = next(csv.reader(io.StringIO(raw.decode("utf-8"))))
    if kind == "wrong_column_count":
        return len(fields) != len(cols)
    assert len(fields) == len(cols), (kind, raw)
    row = dict(zip(cols, fields, strict=True))
    if kind == "bad_number":
        numeric = [
            c
            for c in cols
            if c
            in (
                "quantity",
                "unit_price",
                "list_price",
                "shipping_amount",
                "discount_amount",
            )
        ]
        return any(not re.fullmatch(r"-?\d+(\.\d+)?", row[c]) for c in numeric)
    if kind == "bad_timestamp":
        for c in cols:
            if c.endswith("_at") and row[c]:
                try:
                    datetime.strptime(row[c], "%Y-%m-%dT%H:%M:%SZ")
                except ValueError:
                    return True
        return False
    if kind == "negative_quantity":
        return int(row["quantity"]) < 0
    if kind == "discount_above_line":
        line_cents = int(row["quantity"]) * int(row["unit_price"].replace(".", ""))
        return int(row["discount_amount"].replace(".", "")) > line_cents
    if kind == "unknown_foreign_key":
        if table == "orders":
            return row["customer_id"] not in known["customers"]
        return row["product_id"] not in known["products"]
    if kind == "duplicate_key":
        key = fields[0].encode()
        earlier = [x for x in file_lines[1 : line - 1] if x.split(b",", 1)[0] == key]
        return bool(earlier) and earlier[0] != raw
    if kind == "malformed_email":
        return not EMAIL.match(row["email"])
    if kind == "overlong_text":
        return (
            len(row.get("first_name", "")) > 100
            or len(row.get("product_name", "")) > 200
        )
    raise AssertionError(kind)


def test_dirty_rows_are_extra_bad_and_recorded(tmp_path):
    dirty, plain = tmp_path / "dirty", tmp_path / "plain"
    manifest = gen.generate(dirty, scale=0.1, seed=5, dirty_rate=0.01)
    gen.generate(plain, scale=0.1, seed=5)
    injected = manifest["injected"]
    assert {i["kind"] for i in injected} == set(gen.DIRTY_KINDS)
    clean_rows = sum(manifest["row_counts"].values())
    assert 0.5 * 0.01 * clean_rows <= len(injected) <= 2 * 0.01 * clean_rows + 20
    assert {i["table"] for i in injected} >= {"customers", "orders", "order_items"}
    known = {
        t: set(read(plain, f"{t}.csv")[f"{t[:-1]}_id"])
        for t in ("customers", "products")
    }
    by_file: dict[str, set[int]] = {}
    for i in injected:
        lines = (dirty / i["file"]).read_bytes().split(b"\n")
        raw = lines[i["line"] - 1]
        assert _is_bad(i["kind"], i["table"], raw, lines, i["line"], known), i
        if i["kind"] != "duplicate_key":
            assert i["key"] >= gen.DIRTY_ID_BASE
        by_file.setdefault(i["file"], set()).add(i["line"])
    # removing the injected lines gives back exactly the clean generation
    for name in manifest["files"]:
        lines = (dirty / name).read_bytes().split(b"\n")
        skip = by_file.get(name, set())
        kept = b"\n".join(x for n, x in enumerate(lines, 1) if n not in skip)
        assert kept == (plain / name).read_bytes(), name
        assert manifest["file_injected_counts"][name] == len(skip)
        assert manifest["file_row_counts"][name] + len(skip) + 2 == len(lines)


def test_append_days_with_dirty_rate_records_injected_rows(tmp_path):
    m0 = gen.generate(tmp_path, scale=0.1, seed=2, dirty_rate=0.05)
    m = gen.append_days(tmp_path, 2)
    extra = m["injected"][len(m0["injected"]) :]
    assert extra and all("__append_" in i["file"] for i in extra)
    for i in extra:
        lines = (tmp_path / i["file"]).read_bytes().split(b"\n")
        assert lines[i["line"] - 1].split(b",", 1)[0] == str(i["key"]).encode()
