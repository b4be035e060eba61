"""Queries of the Inventory page: current stock, stock movements and the stock
history of one product (from the product snapshots).

Reads only the `marts` schema (tables built by dbt); values always travel as
psycopg parameters, never formatted into SQL. Results are cached by
`warehouse.query`.
"""

from __future__ import annotations

import pandas as pd

from streamlit_app.filters import Filters
from streamlit_app.queries.filtering import CATEGORY_FILTER
from streamlit_app.warehouse import query

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
    is_active{CATEGORY_FILTER}
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
    stock_change is not null{CATEGORY_FILTER}
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
    true{CATEGORY_FILTER}
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


def stock_history(product_id: str) -> pd.DataFrame:
    """Every recorded stock level of one product (SCD2 versions)."""
    return query(_STOCK_HISTORY_SQL, {"product_id": str(product_id)})
