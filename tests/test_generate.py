"""The synthetic data generator: contract, realism, dirty rows, appended days.

No database needed: the CSV files are checked with pandas against the raw DDL.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import EcomError
from loader import generate as gen

ROOT = Path(__file__).resolve().parent.parent
DDL = ROOT / "loader" / "sql" / "001_raw_tables.sql"
TABLES = (
    "regions",
    "channels",
    "promotions",
    "customers",
    "products",
    "orders",
    "order_items",
)
TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
MONEY = re.compile(r"^\d+\.\d{2}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
START, END = date(2023, 1, 1), date(2025, 12, 31)


def ddl_columns() -> dict[str, list[str]]:
    """Column names per raw table, in DDL order, parsed from the SQL file."""
    out: dict[str, list[str]] = {}
    table = None
    for line in DDL.read_text().splitlines():
        m = re.match(r"create table if not exists raw\.(\w+) \(", line)
        if m:
            table = m.group(1)
            out[table] = []
            continue
        if table and line.startswith(")"):
            table = None
            continue
        m = re.match(
            r"^    (\w+) (integer|bigint|varchar|char|numeric|boolean|date|timestamptz"
            r"|text)",
            line,
        )
        if table and m:
            out[table].append(m.group(1))
    return out


def read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def cents(s: pd.Series) -> pd.Series:
    assert s.str.match(MONEY).all(), s[~s.str.match(MONEY)].head()
    return s.str.replace(".", "", regex=False).astype(np.int64)


def ts(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, format="%Y-%m-%dT%H:%M:%SZ", utc=True)


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("clean")
    return out, gen.generate(out, scale=0.3, seed=7)


@pytest.fixture(scope="module")
def tables(clean) -> dict[str, pd.DataFrame]:
    out, _ = clean
    return {t: read(out, f"{t}.csv") for t in TABLES}


@pytest.fixture(scope="module")
def revenue(tables) -> pd.DataFrame:
    """Orders with their item revenue (after discounts)."""
    items = tables["order_items"]
    line = (
        items.quantity.astype(int) * cents(items.unit_price)
        - cents(items.discount_amount)
    ) / 100
    rev = line.groupby(items.order_id).sum()
    orders = tables["orders"].copy()
    orders["revenue"] = orders.order_id.map(rev)
    orders["ordered"] = ts(orders.ordered_at)
    return orders


# --------------------------------------------------------------------------- contract


def test_deterministic_and_seed_sensitive(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    ma = gen.generate(a, scale=0.05, seed=3, dirty_rate=0.02)
    # another process with other string hashing must write the same bytes
    code = (
        "import sys; from pathlib import Path; from loader.generate import generate; "
        "generate(Path(sys.argv[1]), scale=0.05, seed=3, dirty_rate=0.02)"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run([sys.executable, "-c", code, str(b)], check=True, env=env, cwd=ROOT)
    gen.generate(c, scale=0.05, seed=4, dirty_rate=0.02)
    assert ma == json.loads((b / gen.MANIFEST_NAME).read_text())
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "orders.csv").read_bytes() != (c / "orders.csv").read_bytes()
    assert (a / "customers.csv").read_bytes() != (c / "customers.csv").read_bytes()


def test_headers_follow_the_ddl(clean):
    out, manifest = clean
    expected = ddl_columns()
    assert set(expected) >= set(TABLES)
    for table in TABLES:
        with (out / f"{table}.csv").open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh))
        assert header == expected[table], table
        assert list(gen.TABLE_COLUMNS[table]) == expected[table]
    assert manifest["files"] == [f"{t}.csv" for t in TABLES]


def test_format_is_plain_rfc4180(clean):
    out, manifest = clean
    for table in TABLES:
        raw = (out / f"{table}.csv").read_bytes()
        assert b"\r" not in raw and raw.endswith(b"\n")
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
        assert len(rows) == manifest["row_counts"][table] + 1
        assert {len(r) for r in rows} == {len(gen.TABLE_COLUMNS[table])}
    # quoting happens only where needed (product names with commas, descriptions)
    assert b'"' in (out / "products.csv").read_bytes()
    assert b'"' not in (out / "order_items.csv").read_bytes()


def test_scale_and_dimensions(tables, clean):
    _, manifest = clean
    assert len(tables["regions"]) == 8
    assert set(tables["channels"].channel_type) == {"online", "marketplace", "offline"}
    assert len(tables["channels"]) == 5
    assert 20 <= len(tables["promotions"]) <= 40
    assert len(tables["customers"]) == 3_000
    assert 150 <= len(tables["products"]) <= 400
    # scale 1 is about 100 000 items over three years, so 0.3 is about 30 000
    assert 22_000 <= len(tables["order_items"]) <= 40_000
    assert manifest["row_counts"]["order_items"] == len(tables["order_items"])
    assert len(manifest["planted_pairs"]) == 5


def test_clean_rows_satisfy_every_constraint(tables):
    r, ch, pr = tables["regions"], tables["channels"], tables["promotions"]
    cu, pd_, o, it = (
        tables[t] for t in ("customers", "products", "orders", "order_items")
    )
    for df, key in (
        (r, "region_id"),
        (ch, "channel_id"),
        (pr, "promotion_id"),
        (cu, "customer_id"),
        (pd_, "product_id"),
        (o, "order_id"),
        (it, "order_item_id"),
    ):
        assert df[key].str.fullmatch(r"[1-9]\d*").all()
        assert df[key].is_unique, key
        for col in df.columns:
            if col.endswith("_at") and col != "deleted_at":
                assert df[col].str.match(TS).all(), col
    assert r.region_name.is_unique and ch.channel_name.is_unique
    # promotions
    assert pr.promo_code.is_unique and (pr.promo_code.str.len() <= 40).all()
    assert (pr.description.str.len() <= 200).all()
    pct = cents(pr.discount_pct)
    assert ((pct > 0) & (pct <= 10_000)).all()
    assert (ts(pr.ends_at) >= ts(pr.starts_at)).all()
    # customers
    assert cu.email.is_unique
    assert cu.email.str.match(EMAIL).all()
    for col, n in (
        ("first_name", 100),
        ("last_name", 100),
        ("email", 254),
        ("phone", 40),
        ("city", 100),
    ):
        assert (cu[col].str.len() <= n).all(), col
    assert (cu.first_name != "").all() and (cu.last_name != "").all()
    assert cu.country_code.str.fullmatch(r"[A-Z]{2}").all()
    assert cu.region_id.isin(r.region_id).all()
    assert cu.acquisition_channel_id.isin(ch.channel_id).all()
    assert cu.segment.isin(["consumer", "corporate", "home_office"]).all()
    assert cu.is_active.isin(["true", "false"]).all()
    assert (ts(cu.updated_at) >= ts(cu.signup_at)).all()
    born = cu.birth_date[cu.birth_date != ""]
    assert born.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert 0.0 < (cu.is_active == "false").mean() < 0.1
    # products
    assert pd_.sku.is_unique and (pd_.sku.str.len() <= 40).all()
    assert (pd_.product_name.str.len() <= 200).all()
    assert (pd_.category.str.len() <= 50).all() and (pd_.brand.str.len() <= 100).all()
    assert (cents(pd_.unit_cost) < cents(pd_.list_price)).all()
    stock, reorder = pd_.stock_quantity.astype(int), pd_.reorder_point.astype(int)
    assert (stock >= 0).all() and (reorder >= 0).all()
    active = pd_.is_active == "true"
    assert 0.04 <= (stock < reorder)[active].mean() <= 0.2
    assert 0.0 < (~active).mean() < 0.15
    assert pd_.category.nunique() == 8
    # orders
    assert o.customer_id.isin(cu.customer_id).all()
    assert o.channel_id.isin(ch.channel_id).all()
    assert o.ship_region_id.isin(r.region_id).all()
    promo = o.promotion_id[o.promotion_id != ""]
    assert promo.isin(pr.promotion_id).all()
    assert o.status.isin(gen.ORDER_STATUSES).all()
    assert o.payment_status.isin(gen.PAYMENT_STATUSES).all()
    assert o.payment_method.isin(gen.PAYMENT_METHODS).all()
    assert (cents(o.shipping_amount) >= 0).all() and (cents(o.tax_amount) >= 0).all()
    ordered = ts(o.ordered_at)
    assert ordered.min() >= pd.Timestamp(START, tz="UTC")
    assert ordered.max() < pd.Timestamp(date(2026, 1, 1), tz="UTC")
    assert (ts(o.updated_at) >= ordered).all()
    deleted = o.deleted_at != ""
    assert o.deleted_at[deleted].str.match(TS).all()
    assert (ts(o.deleted_at[deleted]) >= ordered[deleted]).all()
    assert 0 < deleted.mean() < 0.01
    # order items
    assert it.order_id.isin(o.order_id).all()
    assert it.product_id.isin(pd_.product_id).all()
    assert o.order_id.isin(it.order_id).all()  # no empty orders
    qty, price, disc = (
        it.quantity.astype(int),
        cents(it.unit_price),
        cents(it.discount_amount),
    )
    assert (qty > 0).all() and (price >= 0).all()
    assert ((disc >= 0) & (disc <= qty * price)).all()
    # discounts: round(quantity * unit_price * discount_pct / 100, 2) on promoted
    # orders (half away from zero), zero elsewhere
    pct_of_order = o.set_index("order_id").promotion_id.map(
        pr.set_index("promotion_id").discount_pct
    )
    pct_h = cents(it.order_id.map(pct_of_order).fillna("0.00"))
    assert (disc == (qty * price * pct_h + 5_000) // 10_000).all()
    # nothing is sold before it exists
    created = it.product_id.map(pd_.set_index("product_id").created_at)
    assert (ts(it.updated_at) >= ts(created)).all()


def test_order_lifecycle_mix(tables):
    o = tables["orders"]
    status = o.status.value_counts(normalize=True)
    pay = o.payment_status.value_counts(normalize=True)
    assert 0.03 <= status["cancelled"] <= 0.05
    assert 0.03 <= status["returned"] <= 0.06
    assert status["delivered"] > 0.8
    assert 0.01 <= pay["failed"] <= 0.03
    assert pay["paid"] > 0.85
    assert (o.payment_status[o.status == "returned"] == "refunded").all()
    assert (o.status[o.payment_status == "failed"] == "cancelled").all()
    # open states only for recent orders (soft-deleted ones stay as they were)
    ordered = ts(o.ordered_at)
    recent = ordered >= pd.Timestamp(date(2025, 12, 1), tz="UTC")
    old = ~recent & (o.deleted_at == "")
    assert set(o.status[old]) <= {"delivered", "cancelled", "returned"}
    assert {"placed", "shipped"} <= set(o.status[recent])
    assert "pending" in set(o.payment_status[recent])
    assert (o.payment_status[old] != "pending").all()
    assert set(o.payment_method) == set(gen.PAYMENT_METHODS)
    assert o.payment_method.value_counts().index[0] == "card"


# --------------------------------------------------------------------------- realism


def test_seasonal_peak_in_november_and_december(revenue):
    monthly = revenue.groupby(revenue.ordered.dt.strftime("%Y-%m")).revenue.sum()
    for year in ("2023", "2024", "2025"):
        months = monthly[monthly.index.str.startswith(year)]
        assert len(months) == 12
        peak = months[[f"{year}-11", f"{year}-12"]].mean()
        assert peak > 1.3 * months.mean(), year
    # growth: each year sells more than the one before
    yearly = monthly.groupby(monthly.index.str[:4]).sum()
    assert yearly["2023"] < yearly["2024"] < yearly["2025"]


def test_weekday_pattern(revenue):
    by_day = revenue.groupby(revenue.ordered.dt.day_of_week).size()
    assert by_day.max() / by_day.min() > 1.15
    assert by_day[6] > by_day[5] and by_day[0] > by_day[5]  # Sun, Mon > Sat


def test_pareto_share_of_top_customers(revenue):
    per_customer = revenue.groupby("customer_id").revenue.sum().sort_values()[::-1]
    top = per_customer.iloc[: round(len(per_customer) * 0.2)].sum()
    share = top / per_customer.sum()
    assert 0.6 <= share <= 0.8, share


def test_planted_pairs_are_bought_together(tables, clean):
    _, manifest = clean
    items = tables["order_items"][["order_id", "product_id"]].astype(np.int64)
    n_orders = items.order_id.nunique()
    support = items.groupby("product_id").order_id.nunique()
    pairs = items.merge(items, on="order_id")
    pairs = pairs[pairs.product_id_x < pairs.product_id_y]
    both = pairs.groupby(["product_id_x", "product_id_y"]).size()
    lift = (
        both
        * n_orders
        / (
            support.reindex(both.index.get_level_values(0)).to_numpy()
            * support.reindex(both.index.get_level_values(1)).to_numpy()
        )
    )
    planted = {
        tuple(sorted((p["product_id_a"], p["product_id_b"])))
        for p in manifest["planted_pairs"]
    }
    assert len(planted) == 5
    planted_lift = [lift[p] for p in planted]
    assert min(planted_lift) > 5
    others = lift[(both >= 10) & ~lift.index.isin(list(planted))]
    assert min(planted_lift) > others.max()
    # "B given A" is the planted probability, far above B's base rate
    together = seen = 0
    for p in manifest["planted_pairs"]:
        a, b = p["product_id_a"], p["product_id_b"]
        conf = both[tuple(sorted((a, b)))] / support[a]
        assert conf > 0.15 and conf > 3 * support[b] / n_orders
        together += both[tuple(sorted((a, b)))]
        seen += support[a]
    assert 0.3 < together / seen < 0.6


def test_cohort_repeat_rate_falls_then_flattens(revenue, tables):
    cu = tables["customers"]
    new = cu.customer_id[ts(cu.signup_at) >= pd.Timestamp(START, tz="UTC")]
    o = revenue[revenue.customer_id.isin(new)]
    month = o.ordered.dt.year * 12 + o.ordered.dt.month
    cohort = month.groupby(o.customer_id).transform("min").rename("cohort")
    age = (month - cohort).rename("age")
    size = o.customer_id.groupby(cohort).nunique()
    active = o.groupby([cohort, age]).customer_id.nunique()
    rate = active / size.reindex(active.index.get_level_values(0)).to_numpy()
    frame = rate.rename("rate").reset_index()
    early = frame[frame.cohort < frame.cohort.min() + 12]  # cohorts with 24+ months
    curve = early.groupby("age").rate.mean()
    r1, r6, r12, r24 = (curve[a - 1 : a + 2].mean() for a in (2, 7, 13, 23))
    assert 1.0 > r1 > r6 > r12 > r24 > 0.02
    # steep at first, then flatter: the monthly loss shrinks with age
    assert (r1 - r6) / 5 > (r12 - r24) / 10


# --------------------------------------------------------------------------- dirty rows


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


# --------------------------------------------------------------------------- append


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


def test_append_days_with_dirty_rate_records_injected_rows(tmp_path):
    m0 = gen.generate(tmp_path, scale=0.1, seed=2, dirty_rate=0.05)
    m = gen.append_days(tmp_path, 2)
    extra = m["injected"][len(m0["injected"]) :]
    assert extra and all("__append_" in i["file"] for i in extra)
    for i in extra:
        lines = (tmp_path / i["file"]).read_bytes().split(b"\n")
        assert lines[i["line"] - 1].split(b",", 1)[0] == str(i["key"]).encode()


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scale": 0}, "scale"),
        ({"scale": -1.0}, "scale"),
        ({"start": date(2024, 1, 2), "end": date(2024, 1, 1)}, "before"),
        ({"dirty_rate": 0.6}, "dirty_rate"),
        ({"dirty_rate": -0.1}, "dirty_rate"),
        ({"seed": -1}, "seed"),
        ({"start": "2024-01-01"}, "start"),
    ],
)
def test_generate_rejects_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(EcomError, match=message):
        gen.generate(tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())


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


# --------------------------------------------------------------------------- formatting


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 10**15), min_size=1, max_size=50))
def test_integer_and_money_formatting(values):
    arr = np.asarray(values, dtype=np.int64)
    digits = [gen._text(row[None, :]) for row in gen._digits(arr)]
    assert digits == [str(v).encode() for v in values]
    money = [gen._text(row[None, :]) for row in gen._money(arr)]
    assert money == [f"{v // 100}.{v % 100:02d}".encode() for v in values]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-(10**9), 4 * 10**9), min_size=1, max_size=50))
def test_timestamp_formatting(values):
    got = [
        gen._text(row[None, :]).decode() for row in gen._timestamp(np.asarray(values))
    ]
    want = [
        (datetime(1970, 1, 1) + pd.Timedelta(seconds=v)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for v in values
    ]
    assert got == want


def test_progress_reports_every_step(tmp_path):
    seen: list[tuple[str, int, int]] = []
    gen.generate(tmp_path, scale=0.05, progress=lambda s, d, t: seen.append((s, d, t)))
    assert seen[0][1] == 0 and seen[-1][1] == seen[-1][2]
    assert all(0 <= d <= t for _, d, t in seen)
    assert [d for _, d, _ in seen] == sorted(d for _, d, _ in seen)
