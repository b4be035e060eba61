"""Queries of the Overview page: headline KPIs, daily revenue, revenue movers.

Reads only the `marts` schema (tables built by dbt); values always travel as
psycopg parameters, never formatted into SQL. Results are cached by
`warehouse.query`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from streamlit_app.filters import Filters
from streamlit_app.queries.costs import KNOWN_MARGIN_SUM
from streamlit_app.queries.filtering import (
    ITEM_FILTER,
    ORDER_FILTER,
    REPORT_FILTER,
    filter_params,
)
from streamlit_app.queries.measures import growth
from streamlit_app.warehouse import query

_KPIS_ORDERS_SQL = f"""
select
    count(*) as orders,
    count(distinct customer_id) as customers,
    coalesce(sum(net_revenue), 0) as net_revenue,
    {KNOWN_MARGIN_SUM} as gross_margin,
    coalesce(sum(units), 0) as units
from marts.fct_orders
where
    is_sale
    and order_date between %(start)s and %(end)s{ORDER_FILTER}
"""

# With a category filter an order counts when it has a line in the category, and
# revenue / margin are those lines' amounts.
_KPIS_ITEMS_SQL = f"""
select
    count(distinct order_id) as orders,
    count(distinct customer_id) as customers,
    coalesce(sum(net_revenue), 0) as net_revenue,
    {KNOWN_MARGIN_SUM} as gross_margin,
    coalesce(sum(units), 0) as units
from marts.fct_order_items
where
    is_sale
    and order_date between %(start)s and %(end)s{ITEM_FILTER}
"""


@dataclass(frozen=True)
class Kpis:
    net_revenue: float
    orders: int
    customers: int
    gross_margin: float | None  # None: a sale without a unit cost
    units: int

    @property
    def avg_order_value(self) -> float | None:
        return self.net_revenue / self.orders if self.orders else None

    @property
    def gross_margin_pct(self) -> float | None:
        if self.gross_margin is None or not self.net_revenue:
            return None
        return 100 * self.gross_margin / self.net_revenue


def kpis(f: Filters) -> Kpis:
    """Revenue, orders, customers, gross margin and units of sales in f."""
    statement = _KPIS_ITEMS_SQL if f.categories else _KPIS_ORDERS_SQL
    row = query(statement, filter_params(f)).iloc[0]
    return Kpis(
        net_revenue=float(row["net_revenue"]),
        orders=int(row["orders"]),
        customers=int(row["customers"]),
        gross_margin=None
        if pd.isna(row["gross_margin"])
        else float(row["gross_margin"]),
        units=int(row["units"]),
    )


_DAILY_SQL = f"""
select
    order_date,
    sum(net_revenue) as net_revenue,
    {KNOWN_MARGIN_SUM} as gross_margin,
    sum(units) as units
from marts.rpt_sales_daily
where
    order_date between %(start)s and %(end)s{REPORT_FILTER}
group by order_date
order by order_date
"""


_DAILY_TOTALS_SQL = """
select
    date_day as order_date,
    net_revenue,
    gross_margin,
    units
from marts.rpt_kpi_daily
where date_day between %(start)s and %(end)s
order by date_day
"""


def daily_sales(f: Filters) -> pd.DataFrame:
    """One row per day of f (days without sales included, at 0)."""
    if f.is_narrowed:
        frame = query(_DAILY_SQL, filter_params(f))
    else:
        frame = query(_DAILY_TOTALS_SQL, {"start": f.start, "end": f.end})
    days = pd.DataFrame({"order_date": pd.date_range(f.start, f.end, freq="D")})
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    merged = days.merge(frame, on="order_date", how="left", indicator=True)
    # a day without sales has 0 margin; a day with a sale of unknown cost: unknown
    empty_day = merged.pop("_merge") == "left_only"
    merged.loc[empty_day, "gross_margin"] = 0.0
    return merged.fillna({"net_revenue": 0.0, "units": 0})


_MOVERS_SQL = f"""
select
    case
        when grouping(category) = 0 then 'category'
        when grouping(channel_name) = 0 then 'channel'
        else 'region'
    end as dimension,
    coalesce(category, channel_name, region_name) as name,
    coalesce(
        sum(net_revenue) filter (where order_date between %(start)s and %(end)s), 0
    ) as net_revenue,
    coalesce(
        sum(net_revenue) filter (where order_date < %(start)s), 0
    ) as previous_net_revenue
from marts.rpt_sales_daily
where
    order_date between %(previous_start)s and %(end)s{REPORT_FILTER}
group by grouping sets ((category), (channel_name), (region_name))
"""


def movers(f: Filters) -> pd.DataFrame:
    """Revenue per category, channel and region now and in the previous period.

    One row per (dimension, name), biggest absolute change first.
    """
    previous = f.previous()
    frame = query(_MOVERS_SQL, filter_params(f, previous_start=previous.start))
    frame["change"] = frame["net_revenue"] - frame["previous_net_revenue"]
    frame["change_pct"] = growth(frame["net_revenue"], frame["previous_net_revenue"])
    frame["size"] = frame["change"].abs()
    frame = frame.sort_values(
        ["size", "dimension", "name"], ascending=[False, True, True], ignore_index=True
    )
    return frame.drop(columns=["size"])
