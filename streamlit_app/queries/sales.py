"""Queries of the Sales page: monthly trend with growth, revenue by channel and
region, category revenue by month, category seasonality.

Reads only the `marts` schema (tables built by dbt); values always travel as
psycopg parameters, never formatted into SQL. Results are cached by
`warehouse.query`.
"""

from __future__ import annotations

import pandas as pd

from streamlit_app.filters import Filters
from streamlit_app.queries.costs import KNOWN_MARGIN_SUM
from streamlit_app.queries.filtering import (
    CATEGORY_FILTER,
    REPORT_FILTER,
    filter_params,
)
from streamlit_app.queries.measures import gross_margin_pct, growth, with_share
from streamlit_app.warehouse import query

_MONTHLY_SQL = f"""
select
    month_start_date,
    sum(net_revenue) as net_revenue,
    {KNOWN_MARGIN_SUM} as gross_margin,
    sum(units) as units
from marts.rpt_sales_monthly
where
    month_start_date <= %(end)s{REPORT_FILTER}
group by month_start_date
order by month_start_date
"""


def monthly_sales(f: Filters) -> pd.DataFrame:
    """Months touching f's date range, with MoM / YoY growth and cumulative revenue.

    Growth compares whole calendar months over the filtered channels, regions and
    categories; earlier months are read only to compute it.
    """
    frame = query(_MONTHLY_SQL, filter_params(f))
    if frame.empty:
        return frame.assign(
            prev_month_net_revenue=[],
            mom_growth=[],
            prev_year_net_revenue=[],
            yoy_growth=[],
        )
    frame["month_start_date"] = pd.to_datetime(frame["month_start_date"])
    months = pd.date_range(frame["month_start_date"].min(), f.end, freq="MS")
    frame = (
        frame.set_index("month_start_date")
        .reindex(months, fill_value=0.0)
        .rename_axis("month_start_date")
        .reset_index()
    )
    frame["prev_month_net_revenue"] = frame["net_revenue"].shift(1)
    frame["prev_year_net_revenue"] = frame["net_revenue"].shift(12)
    frame["mom_growth"] = growth(frame["net_revenue"], frame["prev_month_net_revenue"])
    frame["yoy_growth"] = growth(frame["net_revenue"], frame["prev_year_net_revenue"])
    first_month = pd.Timestamp(f.start).to_period("M").to_timestamp()
    frame = frame[frame["month_start_date"] >= first_month].reset_index(drop=True)
    frame["cumulative_net_revenue"] = frame["net_revenue"].cumsum()
    return frame


_BY_CHANNEL_REGION_SQL = f"""
select
    grouping(channel_name) = 0 as is_channel,
    channel_name,
    channel_type,
    region_name,
    sum(net_revenue) as net_revenue,
    {KNOWN_MARGIN_SUM} as gross_margin,
    sum(units) as units
from marts.rpt_sales_daily
where
    order_date between %(start)s and %(end)s{REPORT_FILTER}
group by grouping sets ((channel_name, channel_type), (region_name))
order by net_revenue desc
"""


def _channel_region(f: Filters) -> pd.DataFrame:
    """Channels and regions in one pass (sales_by_channel / _by_region split it)."""
    return query(_BY_CHANNEL_REGION_SQL, filter_params(f))


def sales_by_channel(f: Filters) -> pd.DataFrame:
    """Revenue, margin and share per channel in f, biggest revenue first."""
    frame = _channel_region(f)
    frame = frame.loc[frame["is_channel"].astype(bool)]
    frame = frame.drop(columns=["is_channel", "region_name"])
    return with_share(frame.reset_index(drop=True))


def sales_by_region(f: Filters) -> pd.DataFrame:
    """Revenue, margin and share per region in f, biggest revenue first."""
    frame = _channel_region(f)
    frame = frame.loc[~frame["is_channel"].astype(bool)]
    frame = frame.drop(columns=["is_channel", "channel_name", "channel_type"])
    return with_share(frame.reset_index(drop=True))


_CATEGORY_MONTHLY_SQL = f"""
select
    category,
    month_start_date,
    sum(net_revenue) as net_revenue,
    {KNOWN_MARGIN_SUM} as gross_margin,
    sum(units) as units
from marts.rpt_sales_monthly
where
    month_start_date between date_trunc('month', %(start)s::date) and %(end)s
    {REPORT_FILTER}
group by category, month_start_date
order by category, month_start_date
"""


def category_monthly(f: Filters) -> pd.DataFrame:
    """Revenue and margin per category and month (whole months touching f)."""
    frame = query(_CATEGORY_MONTHLY_SQL, filter_params(f))
    frame["gross_margin_pct"] = gross_margin_pct(frame)
    frame["month_start_date"] = pd.to_datetime(frame["month_start_date"])
    return frame


_SEASONALITY_SQL = f"""
select
    category,
    month_of_year,
    month_name,
    net_revenue,
    avg_net_revenue,
    seasonality_index,
    years_observed
from marts.rpt_category_seasonality
where
    true{CATEGORY_FILTER}
order by category, month_of_year
"""


def category_seasonality(f: Filters) -> pd.DataFrame:
    """Seasonality index per category and month of year, over all history."""
    return query(_SEASONALITY_SQL, {"categories": list(f.categories)})
