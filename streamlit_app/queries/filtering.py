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


# An order without a channel (or a ship region) is offered and labelled as this,
# as the report marts label it.
UNKNOWN = "Unknown"


@dataclass(frozen=True)
class FilterOptions:
    """What the sidebar filters offer: the dates with orders and every channel,
    region (names mapped to ids; UNKNOWN maps to None, the orders without one, when
    there are such orders) and category."""

    min_date: date
    max_date: date
    channels: dict[str, str | None]
    regions: dict[str, str | None]
    categories: tuple[str, ...]


_DATE_BOUNDS_SQL = """
select
    min(order_date) as min_date,
    max(order_date) as max_date,
    coalesce(bool_or(channel_id is null), false) as has_unknown_channel,
    coalesce(bool_or(ship_region_id is null), false) as has_unknown_region
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
    bounds = query(_DATE_BOUNDS_SQL).iloc[0]
    channels = query(_CHANNELS_SQL)
    regions = query(_REGIONS_SQL)
    categories = query(_CATEGORIES_SQL)
    return FilterOptions(
        min_date=_as_date(bounds["min_date"]),
        max_date=_as_date(bounds["max_date"]),
        channels=_named_ids(
            channels["channel_name"],
            channels["channel_id"],
            bool(bounds["has_unknown_channel"]),
        ),
        regions=_named_ids(
            regions["region_name"],
            regions["region_id"],
            bool(bounds["has_unknown_region"]),
        ),
        categories=tuple(categories["category"]),
    )


def _named_ids(
    names: pd.Series, ids: pd.Series, has_unknown: bool
) -> dict[str, str | None]:
    """Names to (text) ids, plus UNKNOWN -> None when some orders have no id."""
    named: dict[str, str | None] = {
        str(name): str(id_) for name, id_ in zip(names, ids, strict=True)
    }
    if has_unknown:
        named.setdefault(UNKNOWN, None)
    return named


def _as_date(value: Any) -> date:
    """A date from what the driver returns for min() / max() of a date column."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(value).date()


def filter_params(f: Filters, **extra: Any) -> dict[str, Any]:
    """Query parameters for the global filters (names mapped to ids; the unknown
    channel / region as a flag, as it has no id)."""
    options = filter_options()
    channels = [options.channels[n] for n in f.channels if n in options.channels]
    regions = [options.regions[n] for n in f.regions if n in options.regions]
    return {
        "start": f.start,
        "end": f.end,
        "channel_ids": [i for i in channels if i is not None],
        "unknown_channel": None in channels,
        "region_ids": [i for i in regions if i is not None],
        "unknown_region": None in regions,
        "categories": list(f.categories),
        **extra,
    }


# ------------------------------------------------------------------ filter clauses
# Static SQL fragments (no values) to append to a where clause; they read the
# parameters of filter_params(). Empty arrays (and no unknown flag) mean "all".

_DIMENSIONS = """
    and (
        (cardinality(%(channel_ids)s::text[]) = 0 and not %(unknown_channel)s)
        or channel_id = any(%(channel_ids)s::text[])
        or (%(unknown_channel)s and channel_id is null)
    )
    and (
        (cardinality(%(region_ids)s::text[]) = 0 and not %(unknown_region)s)
        or {region} = any(%(region_ids)s::text[])
        or (%(unknown_region)s and {region} is null)
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
