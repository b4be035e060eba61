"""The global filters in SQL: the options the sidebar offers (dates, channels,
regions, categories), the static filter clauses the queries append, and the
parameters that carry the selected values.

Reads only the `marts` schema (tables built by dbt); values always travel as
psycopg parameters, never formatted into SQL. Results are cached by
`warehouse.query`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from streamlit_app.filters import Filters
from streamlit_app.warehouse import query

# ---------------------------------------------------------------- filter options


@dataclass(frozen=True)
class FilterOptions:
    """What the sidebar filters offer: the dates with orders and every channel,
    region (names mapped to ids) and category."""

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
    """The sidebar's choices, read from the marts (through the cache)."""
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
    """A date from what the driver returns for min() / max() of a date column."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(value).date()


def filter_params(f: Filters, **extra: Any) -> dict[str, Any]:
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
# Static SQL fragments (no values) to append to a where clause; they read the
# parameters of filter_params(). Empty arrays mean "all".

_DIMENSIONS = """
    and (
        cardinality(%(channel_ids)s::integer[]) = 0
        or channel_id = any(%(channel_ids)s::integer[])
    )
    and (
        cardinality(%(region_ids)s::integer[]) = 0
        or {region} = any(%(region_ids)s::integer[])
    )"""
CATEGORY_FILTER = """
    and (
        cardinality(%(categories)s::text[]) = 0
        or category = any(%(categories)s::text[])
    )"""
# rpt_sales_daily / rpt_sales_monthly: channel_id, region_id, category
REPORT_FILTER = _DIMENSIONS.format(region="region_id") + CATEGORY_FILTER
# fct_orders: channel_id, ship_region_id (no category)
ORDER_FILTER = _DIMENSIONS.format(region="ship_region_id")
# fct_order_items: channel_id, ship_region_id, category
ITEM_FILTER = ORDER_FILTER + CATEGORY_FILTER
