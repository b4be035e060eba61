"""Queries of the Retention page: monthly cohorts and their activity.

Reads only the `marts` schema (tables built by dbt); values always travel as
psycopg parameters, never formatted into SQL. Results are cached by
`warehouse.query`.
"""

from __future__ import annotations

import pandas as pd

from streamlit_app.filters import Filters
from streamlit_app.warehouse import query

_COHORTS_SQL = """
select
    cohort_month,
    cohort_year_month,
    months_since_first_order,
    cohort_size,
    active_customers,
    retention_pct / 100.0 as retention,
    orders,
    net_revenue,
    cumulative_net_revenue_per_customer
from marts.rpt_cohort_retention
where cohort_month between date_trunc('month', %(start)s::date) and %(end)s
order by cohort_month, months_since_first_order
"""


def cohorts(f: Filters) -> pd.DataFrame:
    """Monthly cohorts (by first order month in f's range) and their activity."""
    frame = query(_COHORTS_SQL, {"start": f.start, "end": f.end})
    first = frame[frame["months_since_first_order"] == 0].set_index("cohort_month")
    base = frame["cohort_month"].map(first["net_revenue"])
    frame["net_revenue_retention"] = frame["net_revenue"] / base.where(base != 0)
    return frame
