"""Appended days: the simulation continues day by day from the saved state, with
new rows and new versions of existing rows in daily files."""

from __future__ import annotations

import json
import re
from datetime import date

import pandas as pd
import pytest
from generate_support import TABLES, read, ts

from core.errors import EcomError
from loader import generate as gen


def test_append_days_continues_the_simulation(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    base = gen.generate(a, scale=0.2, seed=11)
    gen.generate(b, scale=0.2, seed=11)
    seen: list[tuple[str, int, int]] = []
    m = gen.append_days(a, 4, progress=lambda s, d, t: seen.append((s, d, t)))
    assert seen[-1][1:] == (4, 4)
    assert gen.append_days(b, 2) != m
    gen.append_days(b, 2)  # 2 + 2 days give the same files as 4 days at once
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    for p in a.iterdir():
        if p.suffix == ".csv":
            assert p.read_bytes() == (b / p.name).read_bytes(), p.name
    assert m["last_day"] == "2026-01-04"
    assert m["appended_days"] == [f"2026-01-0{d}" for d in range(1, 5)]
    appended = m["files"][len(base["files"]) :]
    assert appended and all(
        re.fullmatch(r"[a-z_]+__append_2026010[1-4]\.csv", f) for f in appended
    )
    for name in appended:
        assert (a / name).exists() and m["file_row_counts"][name] > 0

    def frames(table: str) -> pd.DataFrame:
        names = [f for f in appended if f.startswith(f"{table}__")]
        return pd.concat([read(a, f).assign(file=f) for f in names])

    orders0 = read(a, "orders.csv").set_index("order_id")
    orders1 = frames("orders")
    assert list(orders1.columns[:-1]) == list(gen.TABLE_COLUMNS["orders"])
    # each order appears at most once per daily file
    assert not orders1.duplicated(["order_id", "file"]).any()
    day_of_file = pd.to_datetime(orders1.file.str[-12:-4], format="%Y%m%d", utc=True)
    updated = ts(orders1.updated_at)
    assert (updated >= day_of_file).all()
    assert (updated < day_of_file + pd.Timedelta(days=1)).all()
    # status updates of existing orders: newer updated_at, progressed status
    old = orders1[orders1.order_id.isin(orders0.index)]
    assert len(old) > 20
    before = orders0.loc[old.order_id]
    assert (ts(old.updated_at).to_numpy() > ts(before.updated_at).to_numpy()).all()
    rank = {"placed": 0, "shipped": 1, "delivered": 2, "returned": 3, "cancelled": 3}
    assert (old.status.map(rank).to_numpy() >= before.status.map(rank).to_numpy()).all()
    cols = ["status", "payment_status", "deleted_at"]
    changed = (old[cols].to_numpy() != before[cols].to_numpy()).any(axis=1)
    assert changed.all()
    assert {"delivered"} <= set(old.status)
    # new orders, items, customers and stock movements
    new = orders1[~orders1.order_id.isin(orders0.index)]
    assert len(new) > 20
    assert new.order_id.astype(int).min() == base["row_counts"]["orders"] + 1
    assert (ts(new.ordered_at) >= pd.Timestamp(date(2026, 1, 1), tz="UTC")).all()
    items1 = frames("order_items")
    assert set(items1.order_id) == set(new.order_id)
    assert (
        items1.order_item_id.astype(int).min() == base["row_counts"]["order_items"] + 1
    )
    customers1 = frames("customers")
    customers0 = read(a, "customers.csv")
    assert not customers1.customer_id.isin(customers0.customer_id).any()
    assert not customers1.email.isin(customers0.email).any()
    known = set(customers0.customer_id) | set(customers1.customer_id)
    assert new.customer_id.isin(known).all()
    products1 = frames("products")
    products0 = read(a, "products.csv").set_index("product_id")
    assert products1.product_id.isin(products0.index).all()
    assert (
        ts(products1.updated_at).to_numpy()
        > ts(products0.loc[products1.product_id].updated_at).to_numpy()
    ).all()
    # totals in the manifest follow the files
    for table in TABLES:
        files = [f for f in m["files"] if f.split(".")[0].split("__")[0] == table]
        assert m["row_counts"][table] == sum(m["file_row_counts"][f] for f in files)


def test_append_days_needs_a_previous_generation(tmp_path):
    with pytest.raises(EcomError, match="no previous generation"):
        gen.append_days(tmp_path, 1)
    gen.generate(tmp_path, scale=0.05, seed=1)
    with pytest.raises(EcomError, match="days"):
        gen.append_days(tmp_path, 0)


def test_regenerating_replaces_the_previous_files(tmp_path):
    gen.generate(tmp_path, scale=0.05, seed=1)
    gen.append_days(tmp_path, 1)
    m = gen.generate(tmp_path, scale=0.05, seed=1)
    names = {p.name for p in tmp_path.iterdir()}
    assert names == set(m["files"]) | {
        gen.MANIFEST_NAME,
        gen.STATE_NAME,
        gen.STATE_ARRAYS_NAME,
    }
    assert json.loads((tmp_path / gen.MANIFEST_NAME).read_text()) == m
