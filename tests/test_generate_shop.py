"""One clean generated shop (scale 0.3, seed 7): its files follow the raw contract
and its data behaves like a shop (season, weekdays, Pareto, baskets, cohorts)."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from generate_support import EMAIL, START, TABLES, TS, cents, ddl_columns, read, ts

from loader import generate as gen


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


# optional columns of the contract the generated shop has no use for: its lines
# give unit prices, never line amounts
NOT_GENERATED = {"order_items": ["line_amount"]}


def test_headers_follow_the_ddl(clean):
    out, manifest = clean
    expected = ddl_columns()
    assert set(expected) >= set(TABLES)
    for table in TABLES:
        with (out / f"{table}.csv").open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh))
        columns = [c for c in expected[table] if c not in NOT_GENERATED.get(table, [])]
        assert header == columns, table
        assert list(gen.TABLE_COLUMNS[table]) == columns
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


def test_keys_and_timestamps_are_well_formed(tables):
    keys = {
        "regions": "region_id",
        "channels": "channel_id",
        "promotions": "promotion_id",
        "customers": "customer_id",
        "products": "product_id",
        "orders": "order_id",
        "order_items": "order_item_id",
    }
    for table, key in keys.items():
        df = tables[table]
        assert df[key].str.fullmatch(r"[1-9]\d*").all()
        assert df[key].is_unique, key
        for col in df.columns:
            if col.endswith("_at") and col != "deleted_at":
                assert df[col].str.match(TS).all(), col
    assert tables["regions"].region_name.is_unique
    assert tables["channels"].channel_name.is_unique


def test_promotion_rows_satisfy_the_constraints(tables):
    pr = tables["promotions"]
    assert pr.promo_code.is_unique and (pr.promo_code.str.len() <= 40).all()
    assert (pr.description.str.len() <= 200).all()
    pct = cents(pr.discount_pct)
    assert ((pct > 0) & (pct <= 10_000)).all()
    assert (ts(pr.ends_at) >= ts(pr.starts_at)).all()


def test_customer_rows_satisfy_the_constraints(tables):
    cu = tables["customers"]
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
    assert cu.region_id.isin(tables["regions"].region_id).all()
    assert cu.acquisition_channel_id.isin(tables["channels"].channel_id).all()
    assert cu.segment.isin(["consumer", "corporate", "home_office"]).all()
    assert cu.is_active.isin(["true", "false"]).all()
    assert (ts(cu.updated_at) >= ts(cu.signup_at)).all()
    born = cu.birth_date[cu.birth_date != ""]
    assert born.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert 0.0 < (cu.is_active == "false").mean() < 0.1


def test_product_rows_satisfy_the_constraints(tables):
    pd_ = tables["products"]
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


def test_order_rows_satisfy_the_constraints(tables):
    o = tables["orders"]
    assert o.customer_id.isin(tables["customers"].customer_id).all()
    assert o.channel_id.isin(tables["channels"].channel_id).all()
    assert o.ship_region_id.isin(tables["regions"].region_id).all()
    promo = o.promotion_id[o.promotion_id != ""]
    assert promo.isin(tables["promotions"].promotion_id).all()
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


def test_order_item_rows_satisfy_the_constraints(tables):
    o, it, pr = tables["orders"], tables["order_items"], tables["promotions"]
    pd_ = tables["products"]
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
    assert set(o.payment_method) == set(gen.PAYMENT_METHODS) - {"unknown"}
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
