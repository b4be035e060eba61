"""Queries of the Products page: sales and stock per product, sales per category.

Reads only the `marts` schema (tables built by dbt); values always travel as
psycopg parameters, never formatted into SQL. Results are cached by
`warehouse.query`.
"""

from __future__ import annotations

import pandas as pd

from streamlit_app.filters import Filters
from streamlit_app.queries.costs import KNOWN_MARGIN_SUM
from streamlit_app.queries.filtering import ITEM_FILTER, REPORT_FILTER, filter_params
from streamlit_app.queries.measures import gross_margin_pct, with_share
from streamlit_app.warehouse import query

_PRODUCT_SALES_SQL = f"""
with sales as (
    select
        product_id,
        sum(net_revenue) as net_revenue,
        {KNOWN_MARGIN_SUM} as gross_margin,
        sum(units) as units,
        count(*) as order_lines,
        max(order_date) as last_sold_date
    from marts.fct_order_items
    where
        is_sale
        and order_date between %(start)s and %(end)s{ITEM_FILTER}
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
    coalesce(sales.net_revenue, 0) as net_revenue,
    -- unsold: no margin (0); sold with a line of unknown cost: unknown (null)
    case
        when sales.product_id is null then 0 else sales.gross_margin
    end as gross_margin,
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
    frame = query(_PRODUCT_SALES_SQL, filter_params(f))
    frame["gross_margin_pct"] = gross_margin_pct(frame)
    return frame


_CATEGORY_SALES_SQL = f"""
select
    category,
    sum(net_revenue) as net_revenue,
    {KNOWN_MARGIN_SUM} as gross_margin,
    sum(units) as units
from marts.rpt_sales_daily
where
    order_date between %(start)s and %(end)s{REPORT_FILTER}
group by category
order by net_revenue desc
"""


def category_sales(f: Filters) -> pd.DataFrame:
    """Revenue, margin and share per category in f, biggest revenue first."""
    return with_share(query(_CATEGORY_SALES_SQL, filter_params(f)))
