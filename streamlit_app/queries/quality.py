"""Queries of the Data quality page: load batches, reject reasons, freshness of
the marts. (dbt's own reports are read by `dbt_artifacts`.)

Reads only the `marts` schema (tables built by dbt); values always travel as
psycopg parameters, never formatted into SQL. Results are cached by
`warehouse.query`.
"""

from __future__ import annotations

import pandas as pd

from streamlit_app.warehouse import query

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
