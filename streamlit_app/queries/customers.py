"""Queries of the Customers page: top customers, RFM segments and grid, LTV
tiers, outstanding payments.

Reads only the `marts` schema (tables built by dbt); values always travel as
psycopg parameters, never formatted into SQL. Results are cached by
`warehouse.query`.
"""

from __future__ import annotations

import pandas as pd

from streamlit_app.filters import Filters
from streamlit_app.queries.costs import KNOWN_MARGIN_SUM
from streamlit_app.queries.filtering import ITEM_FILTER, ORDER_FILTER, filter_params
from streamlit_app.queries.measures import share
from streamlit_app.warehouse import query

_TOP_CUSTOMERS_ORDERS_SQL = f"""
with sales as (
    select
        customer_id,
        count(*) as orders,
        sum(net_revenue) as net_revenue,
        {KNOWN_MARGIN_SUM} as gross_margin,
        max(order_date) as last_order_date
    from marts.fct_orders
    where
        is_sale
        and customer_id is not null
        and order_date between %(start)s and %(end)s{ORDER_FILTER}
    group by customer_id
),

ranked as (
    select
        *,
        count(*) over () as customers_in_period,
        sum(net_revenue) over () as net_revenue_in_period
    from sales
    order by net_revenue desc, customer_id
    limit %(limit)s
)
"""
_TOP_CUSTOMERS_ITEMS_SQL = f"""
with sales as (
    select
        customer_id,
        count(distinct order_id) as orders,
        sum(net_revenue) as net_revenue,
        {KNOWN_MARGIN_SUM} as gross_margin,
        max(order_date) as last_order_date
    from marts.fct_order_items
    where
        is_sale
        and customer_id is not null
        and order_date between %(start)s and %(end)s{ITEM_FILTER}
    group by customer_id
),

ranked as (
    select
        *,
        count(*) over () as customers_in_period,
        sum(net_revenue) over () as net_revenue_in_period
    from sales
    order by net_revenue desc, customer_id
    limit %(limit)s
)
"""
_TOP_CUSTOMERS_SELECT = """
select
    ranked.customer_id,
    -- a customer known only by the id is shown by the id
    coalesce(
        nullif(concat_ws(' ', customers.first_name, customers.last_name), ''),
        ranked.customer_id
    ) as customer_name,
    customers.segment,
    regions.region_name,
    ranked.orders,
    ranked.net_revenue,
    ranked.gross_margin,
    ranked.net_revenue / ranked.orders as avg_order_value,
    ranked.last_order_date,
    ranked.customers_in_period,
    ranked.net_revenue_in_period
from ranked
inner join marts.dim_customers as customers
    on ranked.customer_id = customers.customer_id
left join marts.dim_regions as regions
    on customers.region_id = regions.region_id
order by ranked.net_revenue desc, ranked.customer_id
"""


def top_customers(f: Filters, limit: int = 25) -> pd.DataFrame:
    """The customers with the most revenue in f.

    customers_in_period and revenue_in_period repeat, on every row, the number of
    customers with a sale in f and their revenue.
    """
    head = _TOP_CUSTOMERS_ITEMS_SQL if f.categories else _TOP_CUSTOMERS_ORDERS_SQL
    return query(head + _TOP_CUSTOMERS_SELECT, filter_params(f, limit=limit))


# Segments and the recency x frequency grid in one pass over the table.
_RFM_SQL = """
select
    grouping(segment_name) = 0 as is_segment,
    segment_name,
    r_score,
    f_score,
    count(*) as customers,
    sum(lifetime_net_revenue) as net_revenue,
    avg(recency_days) as avg_recency_days,
    avg(lifetime_orders) as avg_lifetime_orders,
    avg(lifetime_net_revenue) as avg_lifetime_net_revenue,
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
    frame = frame.sort_values(["net_revenue", "segment_name"], ascending=[False, True])
    frame = frame.reset_index(drop=True)
    frame["net_revenue_share"] = share(frame["net_revenue"])
    frame["customer_share"] = share(frame["customers"])
    return frame


def rfm_grid() -> pd.DataFrame:
    """Customers and revenue per (recency score, frequency score)."""
    frame = _rfm()
    frame = frame.loc[~frame["is_segment"].astype(bool)]
    frame = frame[["r_score", "f_score", "customers", "net_revenue"]].astype(
        {"r_score": int, "f_score": int}
    )
    return frame.sort_values(["r_score", "f_score"]).reset_index(drop=True)


_LTV_TIERS_SQL = """
select
    ltv_tier,
    ltv_tier_order,
    count(*) as customers,
    sum(lifetime_net_revenue) as net_revenue,
    avg(lifetime_net_revenue) as avg_lifetime_net_revenue,
    avg(lifetime_orders) as avg_lifetime_orders,
    avg(avg_order_value) as avg_order_value,
    avg(tenure_days) as avg_tenure_days
from marts.rpt_customer_ltv
group by ltv_tier, ltv_tier_order
order by ltv_tier_order desc
"""


def ltv_tiers() -> pd.DataFrame:
    frame = query(_LTV_TIERS_SQL)
    frame["net_revenue_share"] = share(frame["net_revenue"])
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
