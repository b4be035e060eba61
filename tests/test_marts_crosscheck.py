"""Cross-check the report marts against an independent recomputation.

RFM scores, the cohort retention matrix and the market-basket association rules are
recomputed here with pandas (the rules also with mlxtend) straight from the raw
tables of a warehouse built by `dbt build`, and compared with the marts exactly:
integer counts and money (in cents) must be equal, float ratios equal to 1e-12.
The generator's planted product pairs must come out on top by lift.

Only the business definitions are shared with the SQL (what a sale is, the RFM tie
ordering, the basket thresholds), never the code.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from core import db

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SALE_STATUSES = {"placed", "shipped", "delivered"}
SALE_PAYMENT_STATUSES = {"paid", "pending"}
REL_TOL = 1e-12


# --------------------------------------------------------------------- helpers
def fetch(env: dict[str, str], statement: str) -> pd.DataFrame:
    """Run one query and return its rows as a DataFrame."""
    with db.connect(env) as conn, conn.cursor() as cur:
        cur.execute(statement)
        columns = [col.name for col in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=columns)


def to_cents(values: pd.Series) -> pd.Series:
    """Decimal amounts (2 decimals) to exact integer cents."""
    return values.map(lambda amount: int(Decimal(amount) * 100)).astype("int64")


def ntile(n_rows: int, buckets: int = 5) -> np.ndarray:
    """PostgreSQL's ntile(buckets) for rows 0..n_rows-1 already in window order:
    the first n_rows % buckets buckets hold one row more than the others."""
    size, extra = divmod(n_rows, buckets)
    index = np.arange(n_rows)
    big_rows = extra * (size + 1)
    small = extra + (index - big_rows) // max(size, 1) + 1
    return np.where(index < big_rows, index // (size + 1) + 1, small)


def pct_2dp(numerator: int, denominator: int) -> Decimal:
    """100 * numerator / denominator rounded half up to 2 decimals (numeric(p, 2))."""
    value = Decimal(100 * numerator) / Decimal(denominator)
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def month_index(dates: pd.Series) -> pd.Series:
    """Calendar months since year 0, so that differences are month offsets."""
    stamps = pd.to_datetime(dates)
    return stamps.dt.year * 12 + stamps.dt.month - 1


def dbt_vars() -> dict:
    project = yaml.safe_load(
        (PROJECT_ROOT / "dbt_project" / "dbt_project.yml").read_text()
    )
    return project["vars"]


def assert_frames_equal(expected: pd.DataFrame, actual: pd.DataFrame, keys: list[str]):
    """Row-by-row equality on the key columns, with a readable diff on failure."""
    expected = expected.sort_values(keys).reset_index(drop=True)
    actual = actual.sort_values(keys).reset_index(drop=True)
    assert len(expected) == len(actual), (
        f"{len(expected)} rows expected, {len(actual)} in the mart"
    )
    merged = expected.merge(
        actual, on=keys, how="outer", suffixes=("_exp", "_mart"), indicator=True
    )
    missing = merged[merged["_merge"] != "both"]
    assert missing.empty, f"keys only on one side:\n{missing.head(10)}"
    for column in expected.columns.difference(keys):
        diff = merged[merged[f"{column}_exp"] != merged[f"{column}_mart"]]
        assert diff.empty, (
            f"{column} differs on {len(diff)} rows:\n"
            f"{diff[[*keys, f'{column}_exp', f'{column}_mart']].head(10)}"
        )


# ------------------------------------------------------------ independent data
@pytest.fixture(scope="module")
def env(built_warehouse) -> dict[str, str]:
    return built_warehouse["env"]


@pytest.fixture(scope="module")
def lines(env) -> pd.DataFrame:
    """Order lines from raw with their net revenue in exact cents (the line
    amount is units x unit price where the source gives only the unit price)."""
    frame = fetch(
        env,
        "select order_item_id, order_id, product_id, quantity, unit_price,"
        " line_amount, discount_amount from raw.order_items",
    )
    line_cents = frame["line_amount"].where(
        frame["line_amount"].notna(), frame["quantity"] * frame["unit_price"]
    )
    frame["net_cents"] = to_cents(line_cents) - to_cents(frame["discount_amount"])
    return frame


@pytest.fixture(scope="module")
def orders(env, lines) -> pd.DataFrame:
    """Non-deleted orders from raw with their order date (in the reporting time
    zone), sale flag and net revenue in cents (sum of their lines; 0 for an order
    without lines)."""
    frame = fetch(
        env,
        "select order_id, customer_id, ordered_at, status, payment_status, deleted_at"
        " from raw.orders",
    )
    frame = frame[frame["deleted_at"].isna()].copy()
    frame["order_date"] = (
        pd.to_datetime(frame["ordered_at"], utc=True)
        .dt.tz_convert(dbt_vars().get("reporting_timezone", "UTC"))
        .dt.date
    )
    frame["is_sale"] = frame["status"].str.strip().str.lower().isin(
        SALE_STATUSES
    ) & frame["payment_status"].str.strip().str.lower().isin(SALE_PAYMENT_STATUSES)
    cents = lines.groupby("order_id")["net_cents"].sum()
    frame["net_cents"] = frame["order_id"].map(cents).fillna(0).astype("int64")
    return frame.reset_index(drop=True)


@pytest.fixture(scope="module")
def baskets(env, orders, lines) -> pd.DataFrame:
    """Distinct (order, product, category) of the sale orders: the transactions."""
    products = fetch(env, "select product_id, category from raw.products")
    # an unknown category is reported as 'Unknown'
    products["category"] = (
        products["category"].str.strip().replace("", None).fillna("Unknown")
    )
    sale_ids = set(orders.loc[orders["is_sale"], "order_id"])
    lines = lines[lines["order_id"].isin(sale_ids)]
    lines = lines.merge(products, on="product_id", how="left")
    return lines[["order_id", "product_id", "category"]].drop_duplicates(
        ["order_id", "product_id"]
    )


@pytest.fixture(scope="module")
def as_of_date(orders):
    """The latest order date in the data (not the wall clock)."""
    return orders["order_date"].max()


# -------------------------------------------------------------------- revenue
def test_revenue_total_matches_raw(env, orders):
    sales = orders[orders["is_sale"]]
    expected = int(sales["net_cents"].sum())
    # anonymous orders count in revenue, not in the customer marts
    customer_expected = int(sales.loc[sales["customer_id"].notna(), "net_cents"].sum())
    marts = fetch(
        env,
        "select"
        " (select coalesce(sum(net_revenue), 0) from marts.rpt_kpi_daily) as kpi,"
        " (select coalesce(sum(net_revenue), 0) from marts.rpt_sales_daily) as daily,"
        " (select coalesce(sum(lifetime_net_revenue), 0)"
        " from marts.rpt_customer_rfm) as rfm",
    )
    for column in marts.columns:
        total = customer_expected if column == "rfm" else expected
        assert int(marts.loc[0, column] * 100) == total, column


# ------------------------------------------------------------------------ RFM
def expected_rfm(orders: pd.DataFrame, as_of_date) -> pd.DataFrame:
    sales = orders[orders["is_sale"] & orders["customer_id"].notna()]
    customers = (
        sales.groupby("customer_id")
        .agg(
            lifetime_orders=("order_id", "count"),
            lifetime_net_revenue_cents=("net_cents", "sum"),
            last_order_date=("order_date", "max"),
        )
        .reset_index()
    )
    customers["recency_days"] = customers["last_order_date"].map(
        lambda day: (as_of_date - day).days
    )
    n_rows = len(customers)

    def score(sort_by: list[str], ascending: list[bool]) -> pd.Series:
        ordered = customers.sort_values(sort_by, ascending=ascending, kind="mergesort")
        return pd.Series(ntile(n_rows), index=ordered.index)

    customers["r_score"] = score(
        [
            "recency_days",
            "lifetime_orders",
            "lifetime_net_revenue_cents",
            "customer_id",
        ],
        [False, True, True, True],
    )
    customers["f_score"] = score(
        ["lifetime_orders", "lifetime_net_revenue_cents", "customer_id"],
        [True, True, True],
    )
    customers["m_score"] = score(
        ["lifetime_net_revenue_cents", "lifetime_orders", "customer_id"],
        [True, True, True],
    )
    customers["fm_score"] = (customers["f_score"] + customers["m_score"] + 1) // 2
    segments = pd.read_csv(PROJECT_ROOT / "seeds" / "rfm_segments.csv")
    customers = customers.merge(segments, on=["r_score", "fm_score"], how="left")
    # one order says nothing about frequency: 'One-time' whatever the grid says
    one_time = customers["lifetime_orders"] == 1
    customers.loc[one_time, "segment_name"] = "One-time"
    return customers[
        [
            "customer_id",
            "recency_days",
            "lifetime_orders",
            "lifetime_net_revenue_cents",
            "r_score",
            "f_score",
            "m_score",
            "fm_score",
            "segment_name",
        ]
    ]


def test_rfm_scores_match_pandas(env, orders, as_of_date):
    expected = expected_rfm(orders, as_of_date)
    assert len(expected) > 0, "no sale in the generated data"
    mart = fetch(
        env,
        "select customer_id, recency_days, lifetime_orders, lifetime_net_revenue,"
        " r_score, f_score, m_score, fm_score, segment_name"
        " from marts.rpt_customer_rfm",
    )
    mart["lifetime_net_revenue_cents"] = to_cents(mart.pop("lifetime_net_revenue"))
    for column in [
        "recency_days",
        "lifetime_orders",
        "r_score",
        "f_score",
        "m_score",
        "fm_score",
    ]:
        mart[column] = mart[column].astype("int64")
        expected[column] = expected[column].astype("int64")
    assert_frames_equal(expected, mart, ["customer_id"])
    # every score is used, and the quintiles are balanced to one customer
    for column in ["r_score", "f_score", "m_score"]:
        sizes = mart[column].value_counts()
        assert sorted(sizes.index) == [1, 2, 3, 4, 5]
        assert sizes.max() - sizes.min() <= 1


# ------------------------------------------------------------ cohort retention
def expected_cohorts(orders: pd.DataFrame) -> pd.DataFrame:
    # anonymous orders (no customer) belong to no cohort
    sales = orders[orders["is_sale"] & orders["customer_id"].notna()].copy()
    sales["month"] = month_index(sales["order_date"])
    sales["cohort"] = sales.groupby("customer_id")["month"].transform("min")
    sales["offset"] = sales["month"] - sales["cohort"]
    last_month = int(month_index(pd.Series([orders["order_date"].max()])).iloc[0])

    sizes = sales.groupby("cohort")["customer_id"].nunique()
    activity = sales.groupby(["cohort", "offset"]).agg(
        active_customers=("customer_id", "nunique"),
        orders=("order_id", "count"),
        net_revenue_cents=("net_cents", "sum"),
    )
    rows = []
    for cohort, size in sizes.items():
        cumulative = 0
        for offset in range(last_month - cohort + 1):
            cell = (
                activity.loc[(cohort, offset)]
                if (cohort, offset) in activity.index
                else None
            )
            active = int(cell["active_customers"]) if cell is not None else 0
            net_revenue = int(cell["net_revenue_cents"]) if cell is not None else 0
            cumulative += net_revenue
            rows.append(
                {
                    "cohort_month": pd.Timestamp(
                        cohort // 12, cohort % 12 + 1, 1
                    ).date(),
                    "months_since_first_order": offset,
                    "cohort_size": int(size),
                    "active_customers": active,
                    "retention_pct": pct_2dp(active, int(size)),
                    "orders": int(cell["orders"]) if cell is not None else 0,
                    "net_revenue_cents": net_revenue,
                    "cumulative_net_revenue_cents": cumulative,
                }
            )
    return pd.DataFrame(rows)


def test_cohort_matrix_matches_pandas(env, orders):
    expected = expected_cohorts(orders)
    assert len(expected) > 0, "no sale in the generated data"
    mart = fetch(
        env,
        "select cohort_month, months_since_first_order, cohort_size, active_customers,"
        " retention_pct, orders, net_revenue, cumulative_net_revenue"
        " from marts.rpt_cohort_retention",
    )
    mart["net_revenue_cents"] = to_cents(mart.pop("net_revenue"))
    mart["cumulative_net_revenue_cents"] = to_cents(mart.pop("cumulative_net_revenue"))
    for column in [
        "months_since_first_order",
        "cohort_size",
        "active_customers",
        "orders",
    ]:
        mart[column] = mart[column].astype("int64")
        expected[column] = expected[column].astype("int64")
    assert_frames_equal(expected, mart, ["cohort_month", "months_since_first_order"])


# --------------------------------------------------------- association rules
def min_pair_count(n_baskets: int) -> int:
    """Both thresholds as one integer count: greatest(min count, ceil(support * n))."""
    settings = dbt_vars()
    by_support = math.ceil(Decimal(str(settings["basket_min_support"])) * n_baskets)
    return max(int(settings["basket_min_pair_count"]), by_support)


def expected_rules(transactions: pd.DataFrame, item: str) -> pd.DataFrame:
    """All rules a -> b over the distinct items of each basket, by brute force."""
    transactions = transactions[["order_id", item]].drop_duplicates()
    n_baskets = transactions["order_id"].nunique()
    threshold = min_pair_count(n_baskets)
    item_counts = transactions.groupby(item)["order_id"].nunique()
    pairs = transactions.merge(transactions, on="order_id", suffixes=("_a", "_b"))
    pairs = pairs[pairs[f"{item}_a"] != pairs[f"{item}_b"]]
    rules = pairs.groupby([f"{item}_a", f"{item}_b"]).size().rename("pair_count")
    rules = rules[rules >= threshold].reset_index()
    rules.columns = ["antecedent", "consequent", "pair_count"]
    rules["antecedent_count"] = rules["antecedent"].map(item_counts)
    rules["consequent_count"] = rules["consequent"].map(item_counts)
    rules["basket_count"] = n_baskets
    rules["support"] = rules["pair_count"] / n_baskets
    rules["confidence"] = rules["pair_count"] / rules["antecedent_count"]
    rules["lift"] = rules["confidence"] / (rules["consequent_count"] / n_baskets)
    # only rules with lift > 1, decided in exact integers
    above_chance = (
        rules["pair_count"] * n_baskets
        > rules["antecedent_count"] * rules["consequent_count"]
    )
    return rules[above_chance]


def mart_rules(env, level: str) -> pd.DataFrame:
    if level == "product":
        statement = (
            "select antecedent_product_id as antecedent,"
            " consequent_product_id as consequent, pair_count, antecedent_count,"
            " consequent_count, basket_count, support, confidence, lift, rule_rank"
            " from marts.rpt_basket_rules"
        )
    else:
        statement = (
            "select antecedent_category as antecedent,"
            " consequent_category as consequent, pair_count, antecedent_count,"
            " consequent_count, basket_count, support, confidence, lift, rule_rank"
            " from marts.rpt_basket_rules_category"
        )
    frame = fetch(env, statement)
    for column in [
        "pair_count",
        "antecedent_count",
        "consequent_count",
        "basket_count",
    ]:
        frame[column] = frame[column].astype("int64")
    return frame


def assert_rules_match(expected: pd.DataFrame, mart: pd.DataFrame):
    keys = ["antecedent", "consequent"]
    merged = expected.merge(
        mart, on=keys, how="outer", suffixes=("_exp", "_mart"), indicator=True
    )
    one_sided = merged[merged["_merge"] != "both"]
    assert one_sided.empty, f"rules only on one side:\n{one_sided.head(10)}"
    if merged.empty:  # no rule on either side (no pair above chance)
        return
    for column in [
        "pair_count",
        "antecedent_count",
        "consequent_count",
        "basket_count",
    ]:
        if f"{column}_exp" in merged:
            diff = merged[merged[f"{column}_exp"] != merged[f"{column}_mart"]]
            assert diff.empty, (
                f"{column} differs on {len(diff)} rules:\n"
                f"{diff[[*keys, f'{column}_exp', f'{column}_mart']].head(10)}"
            )
    for column in ["support", "confidence", "lift"]:
        close = np.isclose(
            merged[f"{column}_exp"].astype(float),
            merged[f"{column}_mart"],
            rtol=REL_TOL,
            atol=0,
        )
        diff = merged[~close]
        assert diff.empty, (
            f"{column} differs on {len(diff)} rules:\n"
            f"{diff[[*keys, f'{column}_exp', f'{column}_mart']].head(10)}"
        )


@pytest.mark.parametrize("level", ["product", "category"])
def test_rules_match_pandas(env, baskets, level):
    item = "product_id" if level == "product" else "category"
    expected = expected_rules(baskets, item)
    mart = mart_rules(env, level)
    # the planted product pairs give rules; categories may have none above chance
    if level == "product":
        assert len(mart) > 0, "no product rule reaches the thresholds"
    assert_rules_match(expected, mart)
    # rule_rank orders by lift (then pair count) without gaps
    ranked = mart.sort_values("rule_rank")
    assert list(ranked["rule_rank"]) == list(range(1, len(mart) + 1))
    assert ranked["lift"].is_monotonic_decreasing


@pytest.mark.parametrize("level", ["product", "category"])
def test_rules_match_mlxtend(env, baskets, level):
    from mlxtend.frequent_patterns import apriori, association_rules

    item = "product_id" if level == "product" else "category"
    transactions = baskets[["order_id", item]].drop_duplicates()
    n_baskets = transactions["order_id"].nunique()
    threshold = min_pair_count(n_baskets)
    one_hot = pd.crosstab(transactions["order_id"], transactions[item]).astype(bool)
    one_hot.columns = [str(column) for column in one_hot.columns]
    # a hair under the integer threshold, so float rounding cannot drop a pair
    itemsets = apriori(
        one_hot,
        min_support=(threshold - 0.5) / n_baskets,
        use_colnames=True,
        max_len=2,
        low_memory=True,
    )
    rules = association_rules(
        itemsets, num_itemsets=n_baskets, metric="support", min_threshold=0
    )
    rules = rules[
        (rules["antecedents"].map(len) == 1) & (rules["consequents"].map(len) == 1)
    ]
    # only rules with lift > 1, decided on the counts behind the supports
    counts = {
        column: (rules[column] * n_baskets).round().astype("int64")
        for column in ["support", "antecedent support", "consequent support"]
    }
    rules = rules[
        counts["support"] * n_baskets
        > counts["antecedent support"] * counts["consequent support"]
    ]
    expected = pd.DataFrame(
        {
            "antecedent": rules["antecedents"].map(lambda s: next(iter(s))),
            "consequent": rules["consequents"].map(lambda s: next(iter(s))),
            "support": rules["support"],
            "confidence": rules["confidence"],
            "lift": rules["lift"],
        }
    )
    mart = mart_rules(env, level)
    mart["antecedent"] = mart["antecedent"].astype(str)
    mart["consequent"] = mart["consequent"].astype(str)
    assert_rules_match(
        expected, mart[["antecedent", "consequent", "support", "confidence", "lift"]]
    )


def planted_pairs(manifest: dict) -> set[frozenset]:
    """The manifest's planted pairs as unordered product-id pairs (accepts
    [[a, b], ...] or [{"antecedent"|"product_a"...: a, ...: b}, ...])."""
    pairs = set()
    for entry in manifest.get("planted_pairs") or []:
        ids = list(entry.values()) if isinstance(entry, dict) else list(entry)
        # ids are text in the marts
        ids = [str(value) for value in ids if isinstance(value, int | str)][:2]
        pairs.add(frozenset(ids))
    return pairs


def test_planted_pairs_top_by_lift(env, built_warehouse):
    planted = planted_pairs(built_warehouse["manifest"])
    assert planted, "the generator's manifest lists no planted pairs"
    mart = mart_rules(env, "product").sort_values("rule_rank")
    found = {
        frozenset((a, c))
        for a, c in zip(mart["antecedent"], mart["consequent"], strict=True)
    }
    assert planted <= found, f"planted pairs without a rule: {planted - found}"
    # both directions of every planted pair rank above every other rule
    top = mart.head(2 * len(planted))
    top_pairs = {
        frozenset((a, c))
        for a, c in zip(top["antecedent"], top["consequent"], strict=True)
    }
    assert top_pairs == planted, (
        f"top rules by lift:\n{mart.head(2 * len(planted) + 5)}"
    )
