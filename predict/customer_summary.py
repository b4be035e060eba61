"""The per-customer inputs of the CLV and segment models, summed up in SQL.

One row per customer with a sale, sorted by customer_id, with the columns of
`customers.summarise` (which builds the same table from purchase days in pandas)
plus the customer's numbers at the start of the CLV hold-out period and her
rule-based RFM segment. The database does the grouping; the rows stream through
COPY into compact columns (integers, float64, dates, a categorical), so that the
memory needed grows by about a hundred bytes per customer, not by the purchases.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date

import pandas as pd
import psycopg
from psycopg import sql

# A purchase day is a (customer, day) with at least one sale order (see
# customers.py). One sort of the orders by customer and day serves everything:
# `nth` numbers a customer's purchase days from her first (dense_rank), so her
# purchase days up to a date are the largest `nth` up to it.
CUSTOMER_SUMMARY_SQL = """
with orders as (
    select
        customer_id,
        order_date,
        net_revenue,
        dense_rank() over (
            partition by customer_id order by order_date
        ) as nth
    from marts.fct_orders
    -- anonymous orders (no customer) count in the revenue forecast, not here
    where is_sale and customer_id is not null
),

per_customer as (
    select
        customer_id,
        max(nth) - 1 as repeat_purchases,
        max(order_date) - min(order_date) as active_span_days,
        {as_of} - min(order_date) as customer_age_days,
        {as_of} - max(order_date) as days_since_last_order,
        count(*) as orders,
        sum(net_revenue)::float8 as revenue,
        sum(net_revenue) filter (where nth = 1)::float8 as first_day_revenue,
        (sum(net_revenue) filter (where nth > 1) / nullif(max(nth) - 1, 0))::float8
            as avg_repeat_value,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        coalesce(max(nth) filter (where order_date <= {cutoff}), 0) - 1
            as calibration_repeat_purchases,
        max(order_date) filter (where order_date <= {cutoff}) - min(order_date)
            as calibration_span_days,
        max(nth) - coalesce(max(nth) filter (where order_date <= {cutoff}), 0)
            as holdout_purchases
    from orders
    group by customer_id
)

select
    c.*,
    r.segment_name as rfm_segment
from per_customer as c
left join marts.rpt_customer_rfm as r on c.customer_id = r.customer_id
order by c.customer_id collate "C"
"""

INTEGER_COLUMNS = (
    "repeat_purchases",
    "active_span_days",
    "customer_age_days",
    "days_since_last_order",
    "orders",
    "calibration_repeat_purchases",
    "holdout_purchases",
)
DTYPES = {
    "customer_id": "str",
    **{name: "int32" for name in INTEGER_COLUMNS},
    # missing for customers who first bought in the hold-out period
    "calibration_span_days": "float64",
    "revenue": "float64",
    "first_day_revenue": "float64",
    "avg_repeat_value": "float64",
    "rfm_segment": "category",
}
DATE_COLUMNS = ["first_order_date", "last_order_date"]


class _CopyStream(io.RawIOBase):
    """The blocks of a COPY TO STDOUT as a readable binary file, for pandas."""

    def __init__(self, blocks: Iterator) -> None:
        self._blocks = blocks
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            block = next(self._blocks, None)
            if block is None:
                return 0
            self._pending = memoryview(bytes(block))
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def read_customer_summary(
    conn: psycopg.Connection, as_of: date, cutoff: date
) -> pd.DataFrame:
    """The per-customer summary as of `as_of`, with the calibration columns for
    a hold-out period that starts the day after `cutoff` (see the module)."""
    query = sql.SQL(CUSTOMER_SUMMARY_SQL).format(
        as_of=sql.Literal(as_of), cutoff=sql.Literal(cutoff)
    )
    statement = sql.SQL("copy ({}) to stdout (format csv, header true)").format(query)
    with conn.cursor() as cur:
        # the sort of the orders stays in memory rather than spill to disk
        cur.execute("set local work_mem = '256MB'")
        with cur.copy(statement) as copy:
            stream = io.BufferedReader(_CopyStream(iter(copy)), 1 << 20)
            frame = pd.read_csv(
                stream,
                dtype=DTYPES,
                parse_dates=DATE_COLUMNS,
                date_format="%Y-%m-%d",
                keep_default_na=False,
                na_values={
                    name: [""]
                    for name in (
                        "calibration_span_days",
                        "first_day_revenue",
                        "avg_repeat_value",
                        "rfm_segment",
                    )
                },
            )
    return frame
