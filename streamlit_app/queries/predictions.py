"""Queries of the Predictions page: the state of schema `ml`, the revenue
forecast and its backtest, customer lifetime value and churn risk, K-means
segments.

Reads only the `ml` schema (written by `ecom predict` from the marts) and the
`marts` it joins for names; values always travel as psycopg parameters, never
formatted into SQL. Results are cached by `warehouse.query`, keyed by the
predictions run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from streamlit_app.queries.measures import share
from streamlit_app.warehouse import query

# Schema ml is written by `ecom predict` (package predict/, docs/predictions.md)
# after `dbt build`. Every run drops and recreates its tables, so the tables' OIDs
# identify a run: they key the cache, and a new run is seen at once.

ML_TABLES = (
    "revenue_forecast",
    "forecast_backtest",
    "forecast_metrics",
    "customer_clv",
    "clv_calibration",
    "clv_parameters",
    "customer_segments",
    "segment_profiles",
    "segment_rfm_crosstab",
    "segment_k_selection",
    "model_runs",
)


@dataclass(frozen=True)
class PredictionsStatus:
    """Which ml tables are missing, and a stamp that changes with every run."""

    missing: tuple[str, ...]
    stamp: str

    @property
    def ready(self) -> bool:
        return not self.missing


_ML_STATUS_SQL = """
select
    name,
    to_regclass('ml.' || name)::oid::bigint as relation
from unnest(%(tables)s::text[]) with ordinality as tables (name, position)
order by position
"""


def predictions_status() -> PredictionsStatus:
    """The ml tables' state, read from the catalog on every call (not cached:
    the answer must change as soon as `ecom predict` has run)."""
    frame = query(_ML_STATUS_SQL, {"tables": list(ML_TABLES)}, cached=False)
    found = frame["relation"].notna()
    return PredictionsStatus(
        missing=tuple(frame.loc[~found, "name"]),
        stamp=",".join(str(int(v)) for v in frame.loc[found, "relation"]),
    )


def _ml_query(
    ml: PredictionsStatus, statement: str, params: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Run a query on schema ml through the cache, keyed by the predictions run."""
    return query(statement, params, key=f"|ml:{ml.stamp}")


_MODEL_RUN_SQL = """
select
    run_id,
    seed,
    as_of_date,
    run_at,
    marts_built_at,
    seconds
from ml.model_runs
order by run_id desc
limit 1
"""


def model_run(ml: PredictionsStatus) -> dict[str, Any] | None:
    """The latest run of the predictions (None if model_runs is empty): when it
    was fitted (run_at) and on which build of the marts (marts_built_at: None
    for a run that did not record it)."""
    frame = _ml_query(ml, _MODEL_RUN_SQL)
    if not len(frame):
        return None
    run = frame.iloc[0].to_dict()
    for column in ("run_at", "marts_built_at"):
        run[column] = None if pd.isna(run[column]) else pd.Timestamp(run[column])
    return run


# Per model of the latest run: fitted, fallback or skipped, and why (null for a
# run that did not record it).
_MODEL_STATUS_SQL = """
with latest as (
    select models
    from ml.model_runs
    order by run_id desc
    limit 1
)

select
    statuses.model,
    statuses.scope,
    statuses.status,
    statuses.method,
    statuses.reason
from latest
cross join lateral jsonb_to_recordset(coalesce(latest.models, '[]'::jsonb))
    as statuses (model text, scope text, status text, method text, reason text)
"""


def model_statuses(ml: PredictionsStatus) -> pd.DataFrame:
    """model, scope ('all', or the category of a forecast), status, method,
    reason: one row per model of the latest run, in the order they were fitted
    (None where the run recorded none)."""
    frame = _ml_query(ml, _MODEL_STATUS_SQL)
    return frame.astype(object).where(frame.notna(), None)


# The latest build of the marts the predictions read, as predict/run.py stamps
# a run with it: the start of the latest dbt run that wrote the facts.
_LATEST_BUILD_SQL = """
select greatest(
    (select max(refreshed_at) from marts.fct_orders),
    (select max(refreshed_at) from marts.fct_order_items)
) as built_at
"""


def latest_build() -> pd.Timestamp | None:
    """When the latest build of the facts started; None when the facts carry no
    build stamp. Not cached: a build elsewhere is seen at once."""
    frame = query(_LATEST_BUILD_SQL, cached=False)
    value = frame["built_at"].iloc[0] if len(frame) else None
    return None if value is None or pd.isna(value) else pd.Timestamp(value)


_REVENUE_FORECAST_SQL = """
select
    category,
    model,
    month,
    is_forecast,
    actual,
    fitted,
    forecast,
    lo80,
    hi80,
    lo95,
    hi95
from ml.revenue_forecast
order by category = 'all' desc, category, month
"""


def revenue_forecast(ml: PredictionsStatus) -> pd.DataFrame:
    """History and forecast of every series ('all' first, then the categories)."""
    frame = _ml_query(ml, _REVENUE_FORECAST_SQL)
    frame["month"] = pd.to_datetime(frame["month"])
    frame["is_forecast"] = frame["is_forecast"].astype(bool)
    return frame


_FORECAST_METRICS_SQL = """
select
    category,
    model,
    model_label,
    forecasts,
    mape_pct,
    mape_h1_pct,
    coverage80_pct,
    coverage95_pct,
    rank,
    beats_baselines
from ml.forecast_metrics
order by category = 'all' desc, category, rank, model
"""


def forecast_metrics(ml: PredictionsStatus) -> pd.DataFrame:
    """Backtest MAPE per series and model, with ranks and ETS interval coverage."""
    return _ml_query(ml, _FORECAST_METRICS_SQL)


_BACKTEST_BY_HORIZON_SQL = """
select
    category,
    model,
    horizon,
    count(ape_pct) as forecasts,
    avg(ape_pct) as mape_pct
from ml.forecast_backtest
group by category, model, horizon
order by category, model, horizon
"""


def backtest_by_horizon(ml: PredictionsStatus) -> pd.DataFrame:
    """Backtest MAPE per series, model and months ahead (1-6)."""
    return _ml_query(ml, _BACKTEST_BY_HORIZON_SQL)


_CLV_TIERS_SQL = """
select
    clv_tier,
    case clv_tier
        when 'high' then 1
        when 'medium' then 2
        when 'low' then 3
        else 4
    end as tier_order,
    count(*) as customers,
    sum(expected_value_12m) as expected_value,
    avg(expected_value_12m) as avg_expected_value,
    min(expected_value_12m) as min_expected_value,
    sum(expected_purchases_12m) as expected_purchases,
    sum(historical_revenue) as historical_revenue,
    count(*) filter (where repeat_purchases > 0) as repeat_buyers,
    avg(p_alive) filter (where repeat_purchases > 0) as repeat_p_alive,
    count(*) filter (where is_at_risk) as at_risk
from ml.customer_clv
group by clv_tier
order by tier_order
"""


def clv_tiers(ml: PredictionsStatus) -> pd.DataFrame:
    """Customers and predicted 12-month value per CLV tier, best tier first."""
    frame = _ml_query(ml, _CLV_TIERS_SQL)
    frame["value_share"] = share(frame["expected_value"])
    frame["customer_share"] = share(frame["customers"])
    return frame


_CLV_HISTOGRAM_SQL = """
with bounds as (
    select
        greatest(
            percentile_cont(0.99) within group (order by expected_value_12m), 1
        ) as top
    from ml.customer_clv
),

binned as (
    select
        clv.clv_tier,
        least(
            width_bucket(clv.expected_value_12m::float8, 0, bounds.top, %(bins)s),
            %(bins)s
        ) as bin,
        bounds.top
    from ml.customer_clv as clv
    cross join bounds
)

select
    bin,
    clv_tier,
    count(*) as customers,
    (bin - 1) * max(top) / %(bins)s as bin_start,
    bin * max(top) / %(bins)s as bin_end
from binned
group by bin, clv_tier
order by bin, clv_tier
"""


def clv_histogram(ml: PredictionsStatus, bins: int = 40) -> pd.DataFrame:
    """Customers per bin of predicted 12-month value and tier.

    The bins cover 0 to the 99th percentile; the top 1 % fall in the last bin.
    """
    return _ml_query(ml, _CLV_HISTOGRAM_SQL, {"bins": int(bins)})


_CLV_CUSTOMER_COLUMNS = """
    clv.customer_id,
    coalesce(nullif(customers.full_name, ''), clv.customer_id) as customer_name,
    customers.email,
    customers.region_name,
    clv.clv_tier,
    clv.orders,
    clv.historical_revenue,
    clv.last_order_date,
    clv.days_since_last_order,
    clv.p_alive,
    clv.expected_purchases_12m,
    clv.expected_avg_value,
    clv.expected_value_12m"""

_TOP_CLV_SQL = f"""
select
    clv.clv_rank,{_CLV_CUSTOMER_COLUMNS}
from ml.customer_clv as clv
left join marts.dim_customers as customers
    on clv.customer_id = customers.customer_id
order by clv.clv_rank
limit %(limit)s
"""

_AT_RISK_SQL = f"""
select{_CLV_CUSTOMER_COLUMNS},
    count(*) over () as at_risk_customers,
    sum(clv.historical_revenue) over () as at_risk_revenue
from ml.customer_clv as clv
left join marts.dim_customers as customers
    on clv.customer_id = customers.customer_id
where clv.is_at_risk
order by clv.historical_revenue desc, clv.customer_id
limit %(limit)s
"""


def top_clv_customers(ml: PredictionsStatus, limit: int = 25) -> pd.DataFrame:
    """The customers with the highest predicted 12-month value."""
    return _ml_query(ml, _TOP_CLV_SQL, {"limit": int(limit)})


def at_risk_customers(ml: PredictionsStatus, limit: int = 100) -> pd.DataFrame:
    """High past value, low probability alive: the biggest past spenders first.

    at_risk_customers and at_risk_revenue repeat, on every row, the number of
    customers at risk and their historical revenue.
    """
    return _ml_query(ml, _AT_RISK_SQL, {"limit": int(limit)})


_CLV_CALIBRATION_SQL = """
select
    frequency_group,
    customers,
    predicted_mean,
    actual_mean,
    predicted_total,
    actual_total,
    error_pct,
    holdout_start_date,
    holdout_end_date
from ml.clv_calibration
order by group_order
"""

_CLV_PARAMETERS_SQL = """
select
    model,
    fitted_on,
    parameter,
    value,
    customers
from ml.clv_parameters
order by model, parameter
"""


def clv_calibration(ml: PredictionsStatus) -> pd.DataFrame:
    """Predicted against actual purchases in the hold-out year, per group."""
    return _ml_query(ml, _CLV_CALIBRATION_SQL)


def clv_parameters(ml: PredictionsStatus) -> pd.DataFrame:
    return _ml_query(ml, _CLV_PARAMETERS_SQL)


_SEGMENT_PROFILES_SQL = """
select
    cluster,
    segment_name,
    customers,
    share_pct,
    revenue_share_pct,
    median_recency_days,
    median_frequency,
    median_monetary,
    mean_recency_days,
    mean_frequency,
    mean_monetary,
    top_rfm_segment,
    top_rfm_segment_pct,
    centre_recency_days_z,
    centre_frequency_z,
    centre_monetary_z
from ml.segment_profiles
order by cluster
"""


def segment_profiles(ml: PredictionsStatus) -> pd.DataFrame:
    """One row per K-means cluster, most valuable first."""
    return _ml_query(ml, _SEGMENT_PROFILES_SQL)


# An evenly spaced sample by customer_id: the same points on every run.
_SEGMENT_POINTS_SQL = """
with numbered as (
    select
        customer_id,
        cluster,
        segment_name,
        recency_days,
        frequency,
        monetary,
        pc1,
        pc2,
        row_number() over (order by customer_id) as position,
        count(*) over () as customers
    from ml.customer_segments
)

select
    customer_id,
    cluster,
    segment_name,
    recency_days,
    frequency,
    monetary,
    pc1,
    pc2,
    customers
from numbered
where
    mod(
        position - 1,
        greatest(1, ceil(customers::numeric / %(points)s))::bigint
    ) = 0
order by cluster, customer_id
"""


def segment_points(ml: PredictionsStatus, points: int = 3000) -> pd.DataFrame:
    """At most `points` customers with their cluster and principal components.

    customers repeats, on every row, the number of segmented customers.
    """
    return _ml_query(ml, _SEGMENT_POINTS_SQL, {"points": int(points)})


_SEGMENT_K_SQL = """
select
    k,
    silhouette,
    inertia,
    is_chosen
from ml.segment_k_selection
order by k
"""


def segment_k_selection(ml: PredictionsStatus) -> pd.DataFrame:
    """Silhouette and inertia of K-means for each k tried."""
    frame = _ml_query(ml, _SEGMENT_K_SQL)
    frame["is_chosen"] = frame["is_chosen"].astype(bool)
    return frame


_SEGMENT_CROSSTAB_SQL = """
select
    cluster,
    segment_name,
    rfm_segment,
    customers,
    share_of_cluster_pct,
    share_of_rfm_segment_pct
from ml.segment_rfm_crosstab
order by cluster, customers desc, rfm_segment
"""


def segment_rfm_crosstab(ml: PredictionsStatus) -> pd.DataFrame:
    """Customers per (K-means cluster, rule-based RFM segment)."""
    return _ml_query(ml, _SEGMENT_CROSSTAB_SQL)
