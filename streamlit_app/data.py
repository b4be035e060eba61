"""Data access for the dashboards: every SQL statement of the app lives here.

Rules:
- read only the `marts` schema (tables built by dbt) and the `ml` schema (written
  by `ecom predict` from the marts), never raw / staging;
- values always travel as psycopg parameters, never formatted into SQL;
- results are cached with `st.cache_data` (TTL), keyed by the database and by the
  time of the last `dbt build` (run_results.json), so a warehouse refresh is seen
  at once and a different database never serves another's numbers.

Database problems become `WarehouseError`s with a one-line message for the page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from streamlit_app.filters import Filters
from streamlit_app.warehouse import dbt_target_dir, query

# ---------------------------------------------------------------- filter options


@dataclass(frozen=True)
class FilterOptions:
    min_date: date
    max_date: date
    channels: dict[str, int]
    regions: dict[str, int]
    categories: tuple[str, ...]


_DATE_BOUNDS_SQL = """
select
    min(order_date) as min_date,
    max(order_date) as max_date
from marts.fct_orders
"""

_CHANNELS_SQL = """
select
    channel_id,
    channel_name
from marts.dim_channels
order by channel_name
"""

_REGIONS_SQL = """
select
    region_id,
    region_name
from marts.dim_regions
order by region_name
"""

_CATEGORIES_SQL = """
select distinct category
from marts.dim_products
order by category
"""


def filter_options() -> FilterOptions:
    bounds = query(_DATE_BOUNDS_SQL)
    channels = query(_CHANNELS_SQL)
    regions = query(_REGIONS_SQL)
    categories = query(_CATEGORIES_SQL)
    return FilterOptions(
        min_date=_as_date(bounds["min_date"][0]),
        max_date=_as_date(bounds["max_date"][0]),
        channels=dict(
            zip(
                channels["channel_name"],
                channels["channel_id"].astype(int),
                strict=True,
            )
        ),
        regions=dict(
            zip(regions["region_name"], regions["region_id"].astype(int), strict=True)
        ),
        categories=tuple(categories["category"]),
    )


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(value).date()


def _params(f: Filters, **extra: Any) -> dict[str, Any]:
    """Query parameters for the global filters (names mapped to ids)."""
    options = filter_options()
    return {
        "start": f.start,
        "end": f.end,
        "channel_ids": [
            options.channels[n] for n in f.channels if n in options.channels
        ],
        "region_ids": [options.regions[n] for n in f.regions if n in options.regions],
        "categories": list(f.categories),
        **extra,
    }


# ------------------------------------------------------------------ filter clauses
# Static SQL fragments (no values): empty arrays mean "all".

_DIMENSIONS = """
    and (
        cardinality(%(channel_ids)s::integer[]) = 0
        or channel_id = any(%(channel_ids)s::integer[])
    )
    and (
        cardinality(%(region_ids)s::integer[]) = 0
        or {region} = any(%(region_ids)s::integer[])
    )"""
_CATEGORY = """
    and (
        cardinality(%(categories)s::text[]) = 0
        or category = any(%(categories)s::text[])
    )"""
# rpt_sales_daily / rpt_sales_monthly: channel_id, region_id, category
_REPORT_FILTER = _DIMENSIONS.format(region="region_id") + _CATEGORY
# fct_orders: channel_id, ship_region_id (no category)
_ORDER_FILTER = _DIMENSIONS.format(region="ship_region_id")
# fct_order_items: channel_id, ship_region_id, category
_ITEM_FILTER = _ORDER_FILTER + _CATEGORY


# ------------------------------------------------------------------------- overview

_KPIS_ORDERS_SQL = f"""
select
    count(*) as orders,
    count(distinct customer_id) as customers,
    coalesce(sum(net_revenue), 0) as revenue,
    coalesce(sum(gross_margin), 0) as gross_margin,
    coalesce(sum(units), 0) as units
from marts.fct_orders
where
    is_sale
    and order_date between %(start)s and %(end)s{_ORDER_FILTER}
"""

# With a category filter an order counts when it has a line in the category, and
# revenue / margin are those lines' amounts.
_KPIS_ITEMS_SQL = f"""
select
    count(distinct order_id) as orders,
    count(distinct customer_id) as customers,
    coalesce(sum(net_revenue), 0) as revenue,
    coalesce(sum(gross_margin), 0) as gross_margin,
    coalesce(sum(quantity), 0) as units
from marts.fct_order_items
where
    is_sale
    and order_date between %(start)s and %(end)s{_ITEM_FILTER}
"""


@dataclass(frozen=True)
class Kpis:
    revenue: float
    orders: int
    customers: int
    gross_margin: float
    units: int

    @property
    def aov(self) -> float | None:
        return self.revenue / self.orders if self.orders else None

    @property
    def margin_ratio(self) -> float | None:
        return self.gross_margin / self.revenue if self.revenue else None


def kpis(f: Filters) -> Kpis:
    """Revenue, orders, customers, gross margin and units of sales in f."""
    statement = _KPIS_ITEMS_SQL if f.categories else _KPIS_ORDERS_SQL
    row = query(statement, _params(f)).iloc[0]
    return Kpis(
        revenue=float(row["revenue"]),
        orders=int(row["orders"]),
        customers=int(row["customers"]),
        gross_margin=float(row["gross_margin"]),
        units=int(row["units"]),
    )


_DAILY_SQL = f"""
select
    order_date,
    sum(revenue) as revenue,
    sum(gross_profit) as gross_profit,
    sum(units) as units
from marts.rpt_sales_daily
where
    order_date between %(start)s and %(end)s{_REPORT_FILTER}
group by order_date
order by order_date
"""


_DAILY_TOTALS_SQL = """
select
    date_day as order_date,
    revenue,
    gross_profit,
    units
from marts.rpt_kpi_daily
where date_day between %(start)s and %(end)s
order by date_day
"""


def daily_sales(f: Filters) -> pd.DataFrame:
    """One row per day of f (days without sales included, at 0)."""
    if f.is_narrowed:
        frame = query(_DAILY_SQL, _params(f))
    else:
        frame = query(_DAILY_TOTALS_SQL, {"start": f.start, "end": f.end})
    days = pd.DataFrame({"order_date": pd.date_range(f.start, f.end, freq="D")})
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    merged = days.merge(frame, on="order_date", how="left")
    return merged.fillna({"revenue": 0.0, "gross_profit": 0.0, "units": 0})


_MOVERS_SQL = f"""
select
    case
        when grouping(category) = 0 then 'category'
        when grouping(channel_name) = 0 then 'channel'
        else 'region'
    end as dimension,
    coalesce(category, channel_name, region_name) as name,
    coalesce(
        sum(revenue) filter (where order_date between %(start)s and %(end)s), 0
    ) as revenue,
    coalesce(
        sum(revenue) filter (where order_date < %(start)s), 0
    ) as previous_revenue
from marts.rpt_sales_daily
where
    order_date between %(previous_start)s and %(end)s{_REPORT_FILTER}
group by grouping sets ((category), (channel_name), (region_name))
"""


def movers(f: Filters) -> pd.DataFrame:
    """Revenue per category, channel and region now and in the previous period.

    One row per (dimension, name), biggest absolute change first.
    """
    previous = f.previous()
    frame = query(_MOVERS_SQL, _params(f, previous_start=previous.start))
    frame["change"] = frame["revenue"] - frame["previous_revenue"]
    base = frame["previous_revenue"].where(frame["previous_revenue"] != 0)
    frame["change_pct"] = frame["change"] / base
    frame["size"] = frame["change"].abs()
    frame = frame.sort_values(
        ["size", "dimension", "name"], ascending=[False, True, True], ignore_index=True
    )
    return frame.drop(columns=["size"])


# ---------------------------------------------------------------------------- sales

_MONTHLY_SQL = f"""
select
    month_start_date,
    sum(revenue) as revenue,
    sum(gross_profit) as gross_profit,
    sum(units) as units
from marts.rpt_sales_monthly
where
    month_start_date <= %(end)s{_REPORT_FILTER}
group by month_start_date
order by month_start_date
"""


def monthly_sales(f: Filters) -> pd.DataFrame:
    """Months touching f's date range, with MoM / YoY growth and cumulative revenue.

    Growth compares whole calendar months over the filtered channels, regions and
    categories; earlier months are read only to compute it.
    """
    frame = query(_MONTHLY_SQL, _params(f))
    if frame.empty:
        return frame.assign(
            prev_month_revenue=[], mom_growth=[], prev_year_revenue=[], yoy_growth=[]
        )
    frame["month_start_date"] = pd.to_datetime(frame["month_start_date"])
    months = pd.date_range(frame["month_start_date"].min(), f.end, freq="MS")
    frame = (
        frame.set_index("month_start_date")
        .reindex(months, fill_value=0.0)
        .rename_axis("month_start_date")
        .reset_index()
    )
    frame["prev_month_revenue"] = frame["revenue"].shift(1)
    frame["prev_year_revenue"] = frame["revenue"].shift(12)
    frame["mom_growth"] = _growth(frame["revenue"], frame["prev_month_revenue"])
    frame["yoy_growth"] = _growth(frame["revenue"], frame["prev_year_revenue"])
    first_month = pd.Timestamp(f.start).to_period("M").to_timestamp()
    frame = frame[frame["month_start_date"] >= first_month].reset_index(drop=True)
    frame["cumulative_revenue"] = frame["revenue"].cumsum()
    return frame


def _growth(current: pd.Series, previous: pd.Series) -> pd.Series:
    base = previous.where(previous != 0)
    return (current - base) / base


_BY_CHANNEL_REGION_SQL = f"""
select
    grouping(channel_name) = 0 as is_channel,
    channel_name,
    channel_type,
    region_name,
    sum(revenue) as revenue,
    sum(gross_profit) as gross_profit,
    sum(units) as units
from marts.rpt_sales_daily
where
    order_date between %(start)s and %(end)s{_REPORT_FILTER}
group by grouping sets ((channel_name, channel_type), (region_name))
order by revenue desc
"""


def _channel_region(f: Filters) -> pd.DataFrame:
    return query(_BY_CHANNEL_REGION_SQL, _params(f))


def sales_by_channel(f: Filters) -> pd.DataFrame:
    frame = _channel_region(f)
    frame = frame.loc[frame["is_channel"].astype(bool)]
    frame = frame.drop(columns=["is_channel", "region_name"])
    return _with_share(frame.reset_index(drop=True))


def sales_by_region(f: Filters) -> pd.DataFrame:
    frame = _channel_region(f)
    frame = frame.loc[~frame["is_channel"].astype(bool)]
    frame = frame.drop(columns=["is_channel", "channel_name", "channel_type"])
    return _with_share(frame.reset_index(drop=True))


def _with_share(frame: pd.DataFrame) -> pd.DataFrame:
    total = frame["revenue"].sum()
    frame["revenue_share"] = frame["revenue"] / total if total else 0.0
    revenue = frame["revenue"].where(frame["revenue"] != 0)
    frame["margin_ratio"] = frame["gross_profit"] / revenue
    return frame


_CATEGORY_MONTHLY_SQL = f"""
select
    category,
    month_start_date,
    sum(revenue) as revenue,
    sum(gross_profit) as gross_profit,
    sum(units) as units
from marts.rpt_sales_monthly
where
    month_start_date between date_trunc('month', %(start)s::date) and %(end)s
    {_REPORT_FILTER}
group by category, month_start_date
order by category, month_start_date
"""


def category_monthly(f: Filters) -> pd.DataFrame:
    """Revenue and margin per category and month (whole months touching f)."""
    frame = query(_CATEGORY_MONTHLY_SQL, _params(f))
    revenue = frame["revenue"].where(frame["revenue"] != 0)
    frame["margin_ratio"] = frame["gross_profit"] / revenue
    frame["month_start_date"] = pd.to_datetime(frame["month_start_date"])
    return frame


_SEASONALITY_SQL = f"""
select
    category,
    month_of_year,
    month_name,
    revenue,
    avg_revenue,
    seasonality_index,
    years_observed
from marts.rpt_category_seasonality
where
    true{_CATEGORY}
order by category, month_of_year
"""


def category_seasonality(f: Filters) -> pd.DataFrame:
    """Seasonality index per category and month of year, over all history."""
    return query(_SEASONALITY_SQL, {"categories": list(f.categories)})


# ------------------------------------------------------------------------- products

_PRODUCT_SALES_SQL = f"""
with sales as (
    select
        product_id,
        sum(net_revenue) as revenue,
        sum(gross_margin) as gross_profit,
        sum(quantity) as units,
        count(*) as order_lines,
        max(order_date) as last_sold_date
    from marts.fct_order_items
    where
        is_sale
        and order_date between %(start)s and %(end)s{_ITEM_FILTER}
    group by product_id
)

select
    products.product_id,
    products.sku,
    products.product_name,
    products.category,
    products.subcategory,
    products.brand,
    products.is_active,
    coalesce(sales.revenue, 0) as revenue,
    coalesce(sales.gross_profit, 0) as gross_profit,
    coalesce(sales.units, 0) as units,
    coalesce(sales.order_lines, 0) as order_lines,
    sales.last_sold_date,
    inventory.stock_quantity,
    inventory.stock_value,
    inventory.days_of_cover
from marts.dim_products as products
left join sales
    on products.product_id = sales.product_id
left join marts.rpt_inventory_status as inventory
    on products.product_id = inventory.product_id
where
    (sales.product_id is not null or products.is_active)
    and (
        cardinality(%(categories)s::text[]) = 0
        or products.category = any(%(categories)s::text[])
    )
"""


def product_sales(f: Filters) -> pd.DataFrame:
    """Every product sold in f (and every active product, at 0), with its stock."""
    frame = query(_PRODUCT_SALES_SQL, _params(f))
    revenue = frame["revenue"].where(frame["revenue"] != 0)
    frame["margin_ratio"] = frame["gross_profit"] / revenue
    return frame


_CATEGORY_SALES_SQL = f"""
select
    category,
    sum(revenue) as revenue,
    sum(gross_profit) as gross_profit,
    sum(units) as units
from marts.rpt_sales_daily
where
    order_date between %(start)s and %(end)s{_REPORT_FILTER}
group by category
order by revenue desc
"""


def category_sales(f: Filters) -> pd.DataFrame:
    return _with_share(query(_CATEGORY_SALES_SQL, _params(f)))


# ------------------------------------------------------------------------ customers

_TOP_CUSTOMERS_ORDERS_SQL = f"""
with sales as (
    select
        customer_id,
        count(*) as orders,
        sum(net_revenue) as revenue,
        sum(gross_margin) as gross_profit,
        max(order_date) as last_order_date
    from marts.fct_orders
    where
        is_sale
        and order_date between %(start)s and %(end)s{_ORDER_FILTER}
    group by customer_id
),

ranked as (
    select
        *,
        count(*) over () as customers_in_period,
        sum(revenue) over () as revenue_in_period
    from sales
    order by revenue desc, customer_id
    limit %(limit)s
)
"""
_TOP_CUSTOMERS_ITEMS_SQL = f"""
with sales as (
    select
        customer_id,
        count(distinct order_id) as orders,
        sum(net_revenue) as revenue,
        sum(gross_margin) as gross_profit,
        max(order_date) as last_order_date
    from marts.fct_order_items
    where
        is_sale
        and order_date between %(start)s and %(end)s{_ITEM_FILTER}
    group by customer_id
),

ranked as (
    select
        *,
        count(*) over () as customers_in_period,
        sum(revenue) over () as revenue_in_period
    from sales
    order by revenue desc, customer_id
    limit %(limit)s
)
"""
_TOP_CUSTOMERS_SELECT = """
select
    ranked.customer_id,
    customers.first_name || ' ' || customers.last_name as customer_name,
    customers.segment,
    regions.region_name,
    ranked.orders,
    ranked.revenue,
    ranked.gross_profit,
    ranked.revenue / ranked.orders as aov,
    ranked.last_order_date,
    ranked.customers_in_period,
    ranked.revenue_in_period
from ranked
inner join marts.dim_customers as customers
    on ranked.customer_id = customers.customer_id
left join marts.dim_regions as regions
    on customers.region_id = regions.region_id
order by ranked.revenue desc, ranked.customer_id
"""


def top_customers(f: Filters, limit: int = 25) -> pd.DataFrame:
    """The customers with the most revenue in f.

    customers_in_period and revenue_in_period repeat, on every row, the number of
    customers with a sale in f and their revenue.
    """
    head = _TOP_CUSTOMERS_ITEMS_SQL if f.categories else _TOP_CUSTOMERS_ORDERS_SQL
    return query(head + _TOP_CUSTOMERS_SELECT, _params(f, limit=limit))


# Segments and the recency x frequency grid in one pass over the table.
_RFM_SQL = """
select
    grouping(segment_name) = 0 as is_segment,
    segment_name,
    r_score,
    f_score,
    count(*) as customers,
    sum(monetary) as revenue,
    avg(recency_days) as avg_recency_days,
    avg(frequency) as avg_frequency,
    avg(monetary) as avg_monetary,
    max(as_of_date) as as_of_date
from marts.rpt_customer_rfm
group by grouping sets ((segment_name), (r_score, f_score))
"""


def _rfm() -> pd.DataFrame:
    return query(_RFM_SQL)


def rfm_segments() -> pd.DataFrame:
    """Customers, revenue and averages per RFM segment, biggest revenue first."""
    frame = _rfm()
    frame = frame.loc[frame["is_segment"].astype(bool)].drop(
        columns=["is_segment", "r_score", "f_score"]
    )
    frame = frame.sort_values(["revenue", "segment_name"], ascending=[False, True])
    frame = frame.reset_index(drop=True)
    total = frame["revenue"].sum()
    frame["revenue_share"] = frame["revenue"] / total if total else 0.0
    customers = frame["customers"].sum()
    frame["customer_share"] = frame["customers"] / customers if customers else 0.0
    return frame


def rfm_grid() -> pd.DataFrame:
    """Customers and revenue per (recency score, frequency score)."""
    frame = _rfm()
    frame = frame.loc[~frame["is_segment"].astype(bool)]
    frame = frame[["r_score", "f_score", "customers", "revenue"]].astype(
        {"r_score": int, "f_score": int}
    )
    return frame.sort_values(["r_score", "f_score"]).reset_index(drop=True)


_LTV_TIERS_SQL = """
select
    ltv_tier,
    ltv_tier_order,
    count(*) as customers,
    sum(lifetime_revenue) as revenue,
    avg(lifetime_revenue) as avg_lifetime_revenue,
    avg(orders) as avg_orders,
    avg(avg_order_value) as avg_order_value,
    avg(tenure_days) as avg_tenure_days
from marts.rpt_customer_ltv
group by ltv_tier, ltv_tier_order
order by ltv_tier_order desc
"""


def ltv_tiers() -> pd.DataFrame:
    frame = query(_LTV_TIERS_SQL)
    total = frame["revenue"].sum()
    frame["revenue_share"] = frame["revenue"] / total if total else 0.0
    return frame


_PAYMENTS_AGEING_SQL = """
select
    payment_status,
    ageing_bucket,
    ageing_bucket_order,
    sum(orders) as orders,
    sum(amount_due) as amount_due,
    count(distinct customer_id) as customers
from marts.rpt_payments_outstanding
group by payment_status, ageing_bucket, ageing_bucket_order
order by ageing_bucket_order, payment_status
"""

_PAYMENTS_CUSTOMERS_SQL = """
select
    customer_id,
    customer_name,
    email,
    payment_status,
    ageing_bucket,
    orders,
    amount_due,
    max_days_outstanding,
    oldest_order_date
from marts.rpt_payments_outstanding
order by amount_due desc, customer_id, payment_status
limit %(limit)s
"""


_PAYMENTS_CUSTOMER_COUNT_SQL = """
select count(distinct customer_id) as customers
from marts.rpt_payments_outstanding
"""


def payments_customer_count() -> int:
    return int(query(_PAYMENTS_CUSTOMER_COUNT_SQL)["customers"][0])


def payments_ageing() -> pd.DataFrame:
    return query(_PAYMENTS_AGEING_SQL)


def payments_outstanding(limit: int = 200) -> pd.DataFrame:
    return query(_PAYMENTS_CUSTOMERS_SQL, {"limit": limit})


# ------------------------------------------------------------------------ inventory

_INVENTORY_SQL = f"""
select
    product_id,
    sku,
    product_name,
    category,
    subcategory,
    stock_status,
    stock_quantity,
    reorder_point,
    reorder_gap,
    unit_cost,
    stock_value,
    units_sold_30d,
    days_of_cover,
    is_below_reorder,
    as_of_date
from marts.rpt_inventory_status
where
    is_active{_CATEGORY}
"""


def inventory(f: Filters) -> pd.DataFrame:
    """Current stock of the active products in f's categories."""
    return query(_INVENTORY_SQL, {"categories": list(f.categories)})


_STOCK_CHANGES_SQL = f"""
select
    valid_from as changed_at,
    sku,
    product_name,
    category,
    stock_quantity,
    stock_change,
    reorder_point,
    is_below_reorder
from marts.rpt_stock_history
where
    stock_change is not null{_CATEGORY}
order by valid_from desc, product_id
limit %(limit)s
"""


def stock_changes(f: Filters, limit: int = 100) -> pd.DataFrame:
    """The latest stock movements recorded by the product snapshots."""
    return query(_STOCK_CHANGES_SQL, {"categories": list(f.categories), "limit": limit})


_STOCK_PRODUCTS_SQL = f"""
select
    product_id,
    min(sku) as sku,
    min(product_name) as product_name,
    count(*) as versions
from marts.rpt_stock_history
where
    true{_CATEGORY}
group by product_id
having count(*) > 1
order by versions desc, product_id
limit 500
"""

_STOCK_HISTORY_SQL = """
select
    valid_from,
    valid_to,
    stock_quantity,
    stock_change,
    reorder_point,
    stock_value
from marts.rpt_stock_history
where product_id = %(product_id)s
order by valid_from
"""


def stock_products(f: Filters) -> pd.DataFrame:
    """Products whose stock level changed at least once, most changes first."""
    return query(_STOCK_PRODUCTS_SQL, {"categories": list(f.categories)})


def stock_history(product_id: int) -> pd.DataFrame:
    """Every recorded stock level of one product (SCD2 versions)."""
    return query(_STOCK_HISTORY_SQL, {"product_id": int(product_id)})


# ------------------------------------------------------------------------ retention

_COHORTS_SQL = """
select
    cohort_month,
    cohort_year_month,
    months_since_first_order,
    cohort_size,
    active_customers,
    retention_pct / 100.0 as retention,
    orders,
    revenue,
    cumulative_revenue_per_customer
from marts.rpt_cohort_retention
where cohort_month between date_trunc('month', %(start)s::date) and %(end)s
order by cohort_month, months_since_first_order
"""


def cohorts(f: Filters) -> pd.DataFrame:
    """Monthly cohorts (by first order month in f's range) and their activity."""
    frame = query(_COHORTS_SQL, {"start": f.start, "end": f.end})
    first = frame[frame["months_since_first_order"] == 0].set_index("cohort_month")
    base = frame["cohort_month"].map(first["revenue"])
    frame["revenue_retention"] = frame["revenue"] / base.where(base != 0)
    return frame


# ------------------------------------------------------------------- market basket

_BASKET_SUMMARY_SQL = """
select
    count(*) as rules,
    count(distinct antecedent_product_id) as products,
    max(lift) as max_lift,
    max(basket_count) as baskets
from marts.rpt_basket_rules
"""

_BASKET_RULES_SQL = """
select
    rule_rank,
    antecedent_product_id,
    antecedent_product_name,
    antecedent_category,
    consequent_product_id,
    consequent_product_name,
    consequent_category,
    pair_count,
    support,
    confidence,
    lift
from marts.rpt_basket_rules
where
    support >= %(min_support)s
    and confidence >= %(min_confidence)s
    and lift >= %(min_lift)s
    and (
        cardinality(%(categories)s::text[]) = 0
        or antecedent_category = any(%(categories)s::text[])
        or consequent_category = any(%(categories)s::text[])
    )
order by lift desc, pair_count desc, rule_rank
limit %(limit)s
"""

_BASKET_PRODUCTS_SQL = """
select
    antecedent_product_id as product_id,
    min(antecedent_product_name) as product_name,
    min(antecedent_category) as category,
    count(*) as rules,
    max(antecedent_count) as baskets
from marts.rpt_basket_rules
group by antecedent_product_id
order by baskets desc, product_id
"""

_BOUGHT_TOGETHER_SQL = """
select
    consequent_product_id as product_id,
    consequent_product_name as product_name,
    consequent_category as category,
    pair_count,
    confidence,
    lift,
    support
from marts.rpt_basket_rules
where antecedent_product_id = %(product_id)s
order by confidence desc, lift desc, consequent_product_id
limit %(limit)s
"""

_CATEGORY_RULES_SQL = """
select
    antecedent_category,
    consequent_category,
    pair_count,
    support,
    confidence,
    lift
from marts.rpt_basket_rules_category
order by antecedent_category, consequent_category
"""


def basket_summary() -> dict[str, Any]:
    return query(_BASKET_SUMMARY_SQL).iloc[0].to_dict()


def basket_rules(
    f: Filters,
    min_support: float = 0.0,
    min_confidence: float = 0.0,
    min_lift: float = 1.0,
    limit: int = 500,
) -> pd.DataFrame:
    """Product rules passing the thresholds, touching f's categories."""
    params = {
        "min_support": min_support,
        "min_confidence": min_confidence,
        "min_lift": min_lift,
        "categories": list(f.categories),
        "limit": limit,
    }
    return query(_BASKET_RULES_SQL, params)


def basket_products() -> pd.DataFrame:
    """Products that start at least one rule, most frequent first."""
    return query(_BASKET_PRODUCTS_SQL)


def bought_together(product_id: int, limit: int = 10) -> pd.DataFrame:
    return query(_BOUGHT_TOGETHER_SQL, {"product_id": int(product_id), "limit": limit})


def category_rules() -> pd.DataFrame:
    return query(_CATEGORY_RULES_SQL)


# ---------------------------------------------------------------------- data quality

_LOAD_BATCHES_SQL = """
select
    batch_id,
    table_name,
    file_name,
    load_method,
    file_bytes,
    rows_read,
    rows_loaded,
    rows_rejected,
    reject_rate_pct / 100.0 as reject_rate,
    load_seconds,
    started_at,
    finished_at
from marts.rpt_load_batches
order by started_at desc, batch_id desc
"""

_REJECT_REASONS_SQL = """
select
    table_name,
    reason,
    sum(reject_count) as rejects,
    count(distinct batch_id) as batches,
    min(file_name) as example_file,
    min(first_line_number) as first_line_number
from marts.rpt_load_quality
group by table_name, reason
order by rejects desc, table_name, reason
"""

# Each maximum is read from an index (or a small dimension), not a full scan.
_FRESHNESS_SQL = """
select
    'orders' as data,
    (
        select max(ordered_at) from marts.fct_orders
        where order_date = (select max(order_date) from marts.fct_orders)
    ) as latest_event,
    (select max(updated_at) from marts.fct_orders) as latest_update
union all
select
    'order items',
    (
        select max(ordered_at) from marts.fct_order_items
        where order_date = (select max(order_date) from marts.fct_order_items)
    ),
    (select max(updated_at) from marts.fct_order_items)
union all
select 'customers', max(signup_at), max(updated_at)
from marts.dim_customers
union all
select 'products', max(created_at), max(updated_at)
from marts.dim_products
"""


def load_batches() -> pd.DataFrame:
    return query(_LOAD_BATCHES_SQL)


def reject_reasons() -> pd.DataFrame:
    return query(_REJECT_REASONS_SQL)


def freshness() -> pd.DataFrame:
    """Latest event and update time per kind of data in the marts."""
    return query(_FRESHNESS_SQL)


@dataclass(frozen=True)
class BuildResults:
    """A summary of dbt's run_results.json (the last dbt command run)."""

    command: str
    generated_at: datetime | None
    elapsed_seconds: float | None
    nodes: pd.DataFrame


def build_results() -> BuildResults | None:
    """The last dbt run's results, or None when no run_results.json exists."""
    raw = read_json(dbt_target_dir() / "run_results.json")
    if raw is None:
        return None
    rows = []
    for result in raw.get("results", []):
        unique_id = str(result.get("unique_id", ""))
        kind = unique_id.split(".", 1)[0]
        rows.append(
            {
                "kind": kind,
                "name": unique_id.split(".")[-1]
                if kind != "test"
                else _test_name(unique_id),
                "status": str(result.get("status", "")),
                "seconds": result.get("execution_time"),
                "failures": result.get("failures"),
                "message": (result.get("message") or "")[:500],
                "unique_id": unique_id,
            }
        )
    metadata = raw.get("metadata", {})
    generated = metadata.get("generated_at")
    try:
        generated_at = datetime.fromisoformat(generated.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        generated_at = None
    args = raw.get("args", {})
    return BuildResults(
        command=str(args.get("which") or "dbt"),
        generated_at=generated_at,
        elapsed_seconds=raw.get("elapsed_time"),
        nodes=pd.DataFrame(
            rows,
            columns=[
                "kind",
                "name",
                "status",
                "seconds",
                "failures",
                "message",
                "unique_id",
            ],
        ),
    )


def _test_name(unique_id: str) -> str:
    parts = unique_id.split(".")
    # test.<project>.<name>.<hash>
    return parts[2] if len(parts) >= 3 else unique_id


def source_freshness() -> pd.DataFrame | None:
    """`dbt source freshness` results (target/sources.json), when it was run."""
    raw = read_json(dbt_target_dir() / "sources.json")
    if raw is None:
        return None
    rows = [
        {
            "source": str(r.get("unique_id", "")).split(".", 2)[-1],
            "status": r.get("status"),
            "max_loaded_at": r.get("max_loaded_at"),
            "age_hours": (r.get("max_loaded_at_time_ago_in_s") or 0) / 3600,
        }
        for r in raw.get("results", [])
    ]
    return pd.DataFrame(
        rows, columns=["source", "status", "max_loaded_at", "age_hours"]
    )


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------------- predictions
# Schema ml is written by `ecom predict` (package predict/, docs/predictions.md)
# after `dbt build`. Every run drops and recreates its tables, so the tables' OIDs
# identify a run: they key the cache, and a new run is seen at once.

ML_TABLES = (
    "revenue_forecast",
    "forecast_backtest",
    "forecast_metrics",
    "customer_clv",
    "clv_calibration",
    "clv_parameters",
    "customer_segments",
    "segment_profiles",
    "segment_rfm_crosstab",
    "segment_k_selection",
    "model_runs",
)


@dataclass(frozen=True)
class PredictionsStatus:
    """Which ml tables are missing, and a stamp that changes with every run."""

    missing: tuple[str, ...]
    stamp: str

    @property
    def ready(self) -> bool:
        return not self.missing


_ML_STATUS_SQL = """
select
    name,
    to_regclass('ml.' || name)::oid::bigint as relation
from unnest(%(tables)s::text[]) with ordinality as tables (name, position)
order by position
"""


def predictions_status() -> PredictionsStatus:
    """The ml tables' state, read from the catalog on every call (not cached:
    the answer must change as soon as `ecom predict` has run)."""
    frame = query(_ML_STATUS_SQL, {"tables": list(ML_TABLES)}, cached=False)
    found = frame["relation"].notna()
    return PredictionsStatus(
        missing=tuple(frame.loc[~found, "name"]),
        stamp=",".join(str(int(v)) for v in frame.loc[found, "relation"]),
    )


def _ml_query(
    ml: PredictionsStatus, statement: str, params: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Run a query on schema ml through the cache, keyed by the predictions run."""
    return query(statement, params, key=f"|ml:{ml.stamp}")


_MODEL_RUN_SQL = """
select
    run_id,
    seed,
    as_of_date,
    run_at,
    seconds
from ml.model_runs
order by run_id desc
limit 1
"""


def model_run(ml: PredictionsStatus) -> dict[str, Any] | None:
    """The latest run of the predictions (None if model_runs is empty)."""
    frame = _ml_query(ml, _MODEL_RUN_SQL)
    return frame.iloc[0].to_dict() if len(frame) else None


_REVENUE_FORECAST_SQL = """
select
    category,
    model,
    month,
    is_forecast,
    actual,
    fitted,
    forecast,
    lo80,
    hi80,
    lo95,
    hi95
from ml.revenue_forecast
order by category = 'all' desc, category, month
"""


def revenue_forecast(ml: PredictionsStatus) -> pd.DataFrame:
    """History and forecast of every series ('all' first, then the categories)."""
    frame = _ml_query(ml, _REVENUE_FORECAST_SQL)
    frame["month"] = pd.to_datetime(frame["month"])
    frame["is_forecast"] = frame["is_forecast"].astype(bool)
    return frame


_FORECAST_METRICS_SQL = """
select
    category,
    model,
    model_label,
    forecasts,
    mape_pct,
    mape_h1_pct,
    coverage80_pct,
    coverage95_pct,
    rank,
    beats_baselines
from ml.forecast_metrics
order by category = 'all' desc, category, rank, model
"""


def forecast_metrics(ml: PredictionsStatus) -> pd.DataFrame:
    """Backtest MAPE per series and model, with ranks and ETS interval coverage."""
    return _ml_query(ml, _FORECAST_METRICS_SQL)


_BACKTEST_BY_HORIZON_SQL = """
select
    category,
    model,
    horizon,
    count(ape_pct) as forecasts,
    avg(ape_pct) as mape_pct
from ml.forecast_backtest
group by category, model, horizon
order by category, model, horizon
"""


def backtest_by_horizon(ml: PredictionsStatus) -> pd.DataFrame:
    """Backtest MAPE per series, model and months ahead (1-6)."""
    return _ml_query(ml, _BACKTEST_BY_HORIZON_SQL)


_CLV_TIERS_SQL = """
select
    clv_tier,
    case clv_tier
        when 'high' then 1
        when 'medium' then 2
        when 'low' then 3
        else 4
    end as tier_order,
    count(*) as customers,
    sum(expected_value_12m) as expected_value,
    avg(expected_value_12m) as avg_expected_value,
    min(expected_value_12m) as min_expected_value,
    sum(expected_purchases_12m) as expected_purchases,
    sum(historical_revenue) as historical_revenue,
    count(*) filter (where repeat_purchases > 0) as repeat_buyers,
    avg(p_alive) filter (where repeat_purchases > 0) as repeat_p_alive,
    count(*) filter (where is_at_risk) as at_risk
from ml.customer_clv
group by clv_tier
order by tier_order
"""


def clv_tiers(ml: PredictionsStatus) -> pd.DataFrame:
    """Customers and predicted 12-month value per CLV tier, best tier first."""
    frame = _ml_query(ml, _CLV_TIERS_SQL)
    total = frame["expected_value"].sum()
    frame["value_share"] = frame["expected_value"] / total if total else 0.0
    customers = frame["customers"].sum()
    frame["customer_share"] = frame["customers"] / customers if customers else 0.0
    return frame


_CLV_HISTOGRAM_SQL = """
with bounds as (
    select
        greatest(
            percentile_cont(0.99) within group (order by expected_value_12m), 1
        ) as top
    from ml.customer_clv
),

binned as (
    select
        clv.clv_tier,
        least(
            width_bucket(clv.expected_value_12m::float8, 0, bounds.top, %(bins)s),
            %(bins)s
        ) as bin,
        bounds.top
    from ml.customer_clv as clv
    cross join bounds
)

select
    bin,
    clv_tier,
    count(*) as customers,
    (bin - 1) * max(top) / %(bins)s as bin_start,
    bin * max(top) / %(bins)s as bin_end
from binned
group by bin, clv_tier
order by bin, clv_tier
"""


def clv_histogram(ml: PredictionsStatus, bins: int = 40) -> pd.DataFrame:
    """Customers per bin of predicted 12-month value and tier.

    The bins cover 0 to the 99th percentile; the top 1 % fall in the last bin.
    """
    return _ml_query(ml, _CLV_HISTOGRAM_SQL, {"bins": int(bins)})


_CLV_CUSTOMER_COLUMNS = """
    clv.customer_id,
    customers.full_name as customer_name,
    customers.email,
    customers.region_name,
    clv.clv_tier,
    clv.orders,
    clv.historical_revenue,
    clv.last_order_date,
    clv.days_since_last_order,
    clv.p_alive,
    clv.expected_purchases_12m,
    clv.expected_avg_value,
    clv.expected_value_12m"""

_TOP_CLV_SQL = f"""
select
    clv.clv_rank,{_CLV_CUSTOMER_COLUMNS}
from ml.customer_clv as clv
left join marts.dim_customers as customers
    on clv.customer_id = customers.customer_id
order by clv.clv_rank
limit %(limit)s
"""

_AT_RISK_SQL = f"""
select{_CLV_CUSTOMER_COLUMNS},
    count(*) over () as at_risk_customers,
    sum(clv.historical_revenue) over () as at_risk_revenue
from ml.customer_clv as clv
left join marts.dim_customers as customers
    on clv.customer_id = customers.customer_id
where clv.is_at_risk
order by clv.historical_revenue desc, clv.customer_id
limit %(limit)s
"""


def top_clv_customers(ml: PredictionsStatus, limit: int = 25) -> pd.DataFrame:
    """The customers with the highest predicted 12-month value."""
    return _ml_query(ml, _TOP_CLV_SQL, {"limit": int(limit)})


def at_risk_customers(ml: PredictionsStatus, limit: int = 100) -> pd.DataFrame:
    """High past value, low probability alive: the biggest past spenders first.

    at_risk_customers and at_risk_revenue repeat, on every row, the number of
    customers at risk and their historical revenue.
    """
    return _ml_query(ml, _AT_RISK_SQL, {"limit": int(limit)})


_CLV_CALIBRATION_SQL = """
select
    frequency_group,
    customers,
    predicted_mean,
    actual_mean,
    predicted_total,
    actual_total,
    error_pct,
    holdout_start_date,
    holdout_end_date
from ml.clv_calibration
order by group_order
"""

_CLV_PARAMETERS_SQL = """
select
    model,
    fitted_on,
    parameter,
    value,
    customers
from ml.clv_parameters
order by model, parameter
"""


def clv_calibration(ml: PredictionsStatus) -> pd.DataFrame:
    """Predicted against actual purchases in the hold-out year, per group."""
    return _ml_query(ml, _CLV_CALIBRATION_SQL)


def clv_parameters(ml: PredictionsStatus) -> pd.DataFrame:
    return _ml_query(ml, _CLV_PARAMETERS_SQL)


_SEGMENT_PROFILES_SQL = """
select
    cluster,
    segment_name,
    customers,
    share_pct,
    revenue_share_pct,
    median_recency_days,
    median_frequency,
    median_monetary,
    mean_recency_days,
    mean_frequency,
    mean_monetary,
    top_rfm_segment,
    top_rfm_segment_pct,
    centre_recency_days_z,
    centre_frequency_z,
    centre_monetary_z
from ml.segment_profiles
order by cluster
"""


def segment_profiles(ml: PredictionsStatus) -> pd.DataFrame:
    """One row per K-means cluster, most valuable first."""
    return _ml_query(ml, _SEGMENT_PROFILES_SQL)


# An evenly spaced sample by customer_id: the same points on every run.
_SEGMENT_POINTS_SQL = """
with numbered as (
    select
        customer_id,
        cluster,
        segment_name,
        recency_days,
        frequency,
        monetary,
        pc1,
        pc2,
        row_number() over (order by customer_id) as position,
        count(*) over () as customers
    from ml.customer_segments
)

select
    customer_id,
    cluster,
    segment_name,
    recency_days,
    frequency,
    monetary,
    pc1,
    pc2,
    customers
from numbered
where
    mod(
        position - 1,
        greatest(1, ceil(customers::numeric / %(points)s))::bigint
    ) = 0
order by cluster, customer_id
"""


def segment_points(ml: PredictionsStatus, points: int = 3000) -> pd.DataFrame:
    """At most `points` customers with their cluster and principal components.

    customers repeats, on every row, the number of segmented customers.
    """
    return _ml_query(ml, _SEGMENT_POINTS_SQL, {"points": int(points)})


_SEGMENT_K_SQL = """
select
    k,
    silhouette,
    inertia,
    is_chosen
from ml.segment_k_selection
order by k
"""


def segment_k_selection(ml: PredictionsStatus) -> pd.DataFrame:
    """Silhouette and inertia of K-means for each k tried."""
    frame = _ml_query(ml, _SEGMENT_K_SQL)
    frame["is_chosen"] = frame["is_chosen"].astype(bool)
    return frame


_SEGMENT_CROSSTAB_SQL = """
select
    cluster,
    segment_name,
    rfm_segment,
    customers,
    share_of_cluster_pct,
    share_of_rfm_segment_pct
from ml.segment_rfm_crosstab
order by cluster, customers desc, rfm_segment
"""


def segment_rfm_crosstab(ml: PredictionsStatus) -> pd.DataFrame:
    """Customers per (K-means cluster, rule-based RFM segment)."""
    return _ml_query(ml, _SEGMENT_CROSSTAB_SQL)
