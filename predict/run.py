"""`run_predictions`: read the marts, fit the models, write schema `ml`.

Each model fits, falls back to a simpler one, or is skipped, and the run records
which and why (predict/status.py): the data never stops a run. What does stop it,
with an EcomError in one line, is a database that cannot be read or written, or
marts that are missing or hold no sales.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pandas as pd
import psycopg
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from core import db
from core.errors import EcomError, one_line_or_name
from predict import customers, forecast, frames, segments, tables
from predict.customer_summary import read_customer_summary
from predict.status import (
    BACKTEST,
    CALIBRATION,
    CLV,
    FALLBACK,
    FITTED,
    FORECAST,
    SEGMENTS,
    SKIPPED,
)
from predict.summary import Outcome, summary

Progress = Callable[[str, int, int], None]

STEPS = (
    "reading the marts",
    "forecasting revenue",
    "backtesting the forecast",
    "fitting customer lifetime value",
    "checking CLV calibration",
    "segmenting customers",
    "writing schema ml",
)

REQUIRED_MARTS = ("fct_orders", "fct_order_items", "rpt_customer_rfm")

MONTHLY_REVENUE_SQL = """
select
    date_trunc('month', order_date)::date as month,
    coalesce(category, 'Unknown') as category,
    sum(net_revenue)::float8 as revenue
from marts.fct_order_items
where is_sale
group by 1, 2
order by 1, 2
"""

DATE_RANGE_SQL = "select min(order_date), max(order_date) from marts.fct_orders"

# The build the marts come from: the start of the latest dbt run that wrote the
# facts (every build of the incremental facts rewrites at least its look-back
# window, stamped with the run's start in `refreshed_at`).
MARTS_BUILT_AT_SQL = """
select greatest(
    (select max(refreshed_at) from marts.fct_orders),
    (select max(refreshed_at) from marts.fct_order_items)
)
"""

STAMPED_FACTS_SQL = """
select count(*)
from information_schema.columns
where
    table_schema = 'marts'
    and table_name in ('fct_orders', 'fct_order_items')
    and column_name = 'refreshed_at'
"""


def _check_marts(conn: psycopg.Connection) -> None:
    found = {
        name
        for (name,) in conn.execute(
            "select table_name from information_schema.tables"
            " where table_schema = 'marts' and table_name = any(%s)",
            (list(REQUIRED_MARTS),),
        )
    }
    missing = [m for m in REQUIRED_MARTS if m not in found]
    if missing:
        raise EcomError(
            "predictions read the marts, but "
            + ", ".join(f"marts.{m}" for m in missing)
            + " is missing: run `dbt build` (or `ecom build`) first"
        )


def _frame(conn: psycopg.Connection, query: str, columns: list[str]) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(query)
        return pd.DataFrame(cur.fetchall(), columns=columns)


def marts_built_at(conn: psycopg.Connection) -> datetime | None:
    """When the build the marts come from started (None: facts without stamps)."""
    if conn.execute(STAMPED_FACTS_SQL).fetchone()[0] < 2:
        return None
    return conn.execute(MARTS_BUILT_AT_SQL).fetchone()[0]


def read_inputs(
    env: dict[str, str], holdout_days: int = customers.HORIZON_DAYS
) -> dict:
    """Everything the models need, in a few queries: the monthly revenue and the
    per-customer summary (with the CLV hold-out check's numbers)."""
    try:
        with db.connect(env) as conn:
            _check_marts(conn)
            first_day, last_day = conn.execute(DATE_RANGE_SQL).fetchone()
            if last_day is None:
                raise EcomError("marts.fct_orders is empty: load data and build first")
            built_at = marts_built_at(conn)
            monthly = _frame(
                conn, MONTHLY_REVENUE_SQL, ["month", "category", "revenue"]
            )
            cutoff = last_day - timedelta(days=holdout_days)
            summary_table = read_customer_summary(conn, last_day, cutoff)
    except psycopg.Error as exc:
        raise EcomError(
            f"predictions could not read the marts: {one_line_or_name(exc)}"
        ) from None
    if summary_table.empty:
        raise EcomError("marts.fct_orders has no sale orders: nothing to predict")
    return {
        "first_day": first_day,
        "as_of": last_day,
        "marts_built_at": built_at,
        "monthly": monthly,
        "customers": summary_table,
    }


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - started, 3)


def run_predictions(
    env: dict[str, str],
    *,
    seed: int = 42,
    progress: Progress | None = None,
    horizon: int = 6,
    backtest_origins: int = 6,
    holdout_days: int = customers.HORIZON_DAYS,
    segments_k: int | None = None,
) -> dict:
    """Fit the forecast, CLV and segment models on the marts and replace the
    tables of schema `ml` in one transaction. Same data and seed, same tables.

    `progress(step, done, total)` is called before each step. Returns a summary
    (headline figures, parameters, per-model status, timings) that is also
    appended to ml.model_runs. A model that cannot be fitted is recorded as such
    and leaves its tables empty; EcomError only when the marts cannot be read or
    schema ml cannot be written.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    report = _reporter(progress)

    # one thread for BLAS and OpenMP: the models are small, and thread start-up
    # and contention cost far more than they save (and results stay bit-identical)
    with threadpool_limits(limits=1):
        report(0)
        with _timed(timings, "read"):
            inputs = read_inputs(env, holdout_days)
        out = Outcome(as_of=inputs["as_of"], marts_built_at=inputs["marts_built_at"])
        settings = {
            "horizon_months": horizon,
            "backtest_origins": backtest_origins,
            "holdout_days": holdout_days,
            "segments_k": segments_k,
        }
        _fit(inputs, out, timings, report, seed=seed, **settings)
        out.frames["clv_parameters"] = frames.parameters_table(
            out.value, out.calibration
        )
        result = summary(out, seed)
        result["parameters"]["settings"] = settings

        report(6)
        run_id = _write(env, out, result, seed, timings, started)
    result["run_id"] = run_id
    result["timings"] = timings
    result["seconds"] = round(time.perf_counter() - started, 3)
    if progress:
        progress("done", len(STEPS), len(STEPS))
    return result


def _reporter(progress: Progress | None) -> Callable[[int], None]:
    """`report(step)`: tell `progress` (if any) that step number `step` begins."""

    def report(step: int) -> None:
        if progress:
            progress(STEPS[step], step, len(STEPS))

    return report


def _fit(
    inputs: dict,
    out: Outcome,
    timings: dict[str, float],
    report: Callable[[int], None],
    *,
    seed: int,
    horizon_months: int,
    backtest_origins: int,
    holdout_days: int,
    segments_k: int | None,
) -> None:
    """Steps 1 to 5: the forecast and its backtest, CLV and its calibration, the
    segments; each one timed, each model on its own (see `Statuses.attempt`)."""
    report(1)
    with _timed(timings, "forecast"):
        series = forecast.monthly_revenue(
            inputs["monthly"],
            pd.Timestamp(inputs["first_day"]),
            pd.Timestamp(out.as_of),
        )
        out.months = len(series)
        _forecast_step(series, out, horizon_months)

    report(2)
    with _timed(timings, "backtest"):
        _backtest_step(series, out, backtest_origins, horizon_months)

    report(3)
    with _timed(timings, "clv"):
        summary_table = inputs["customers"]
        out.customers = len(summary_table)
        _clv_step(summary_table, out)

    report(4)
    with _timed(timings, "calibration"):
        _calibration_step(summary_table, out, holdout_days)

    report(5)
    with _timed(timings, "segments"):
        _segments_step(summary_table, out, seed, segments_k)


def _skip_tables(out: Outcome, *names: str) -> None:
    for name in names:
        out.frames[name] = tables.empty(name)


def _forecast_step(series: pd.DataFrame, out: Outcome, horizon: int) -> None:
    """Per series: ETS, a fallback, or skipped (see forecast.predict_series)."""
    statuses = out.statuses
    if len(series) < forecast.MIN_MONTHS:
        reason = (
            f"needs at least {forecast.MIN_MONTHS} complete months of history, "
            f"the marts have {len(series)}"
        )
        for name in series.columns:
            statuses.add(FORECAST, SKIPPED, scope=name, reason=reason)
        _skip_tables(out, "revenue_forecast")
        return

    def fit() -> tuple[pd.DataFrame, list[forecast.SeriesForecast]]:
        future, outcomes = forecast.forecast_all(series, horizon=horizon)
        table = tables.checked("revenue_forecast", frames.forecast_table(future))
        return table, outcomes

    fitted = statuses.attempt(FORECAST, fit)
    if fitted is None:
        _skip_tables(out, "revenue_forecast")
        return
    out.frames["revenue_forecast"], outcomes = fitted
    for one in outcomes:
        if one.choice is None:
            statuses.add(FORECAST, SKIPPED, scope=one.name, reason=one.reason)
            continue
        statuses.add(
            FORECAST,
            FALLBACK if one.choice.fallback else FITTED,
            scope=one.name,
            method=one.choice.forecast.spec,
            reason=one.choice.reason,
        )


def _backtest_step(
    series: pd.DataFrame, out: Outcome, origins: int, horizon: int
) -> None:
    """The rolling-origin backtest of ETS and the baselines, and its metrics."""
    statuses = out.statuses
    used = forecast.backtest_origins(len(series), origins)
    if used == 0:
        statuses.add(
            BACKTEST,
            SKIPPED,
            reason=f"needs at least {forecast.MIN_MONTHS + 1} complete months of "
            f"history, the marts have {len(series)}",
        )
        _skip_tables(out, "forecast_backtest", "forecast_metrics")
        return

    def fit() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        rows = forecast.backtest(series, origins=used, horizon=horizon)
        metrics = forecast.metrics(rows)
        return (
            tables.checked("forecast_backtest", frames.backtest_table(rows)),
            tables.checked("forecast_metrics", frames.metrics_table(metrics)),
            metrics,
        )

    fitted = statuses.attempt(BACKTEST, fit)
    if fitted is None:
        _skip_tables(out, "forecast_backtest", "forecast_metrics")
        return
    out.frames["forecast_backtest"], out.frames["forecast_metrics"], out.metrics = (
        fitted
    )
    statuses.add(
        BACKTEST,
        FITTED,
        method=f"rolling origin, {used} origins, up to {horizon} months ahead",
        reason=_unscored(series, out.metrics),
    )


def _unscored(series: pd.DataFrame, metrics: pd.DataFrame) -> str | None:
    """A note naming the series ETS was not scored on (not used at any origin)."""
    scored = set(metrics.loc[metrics["model"] == forecast.ETS, "series"])
    unscored = [name for name in series.columns if name not in scored]
    if not unscored:
        return None
    if len(unscored) == len(series.columns):
        return "ETS not scored on any series: it was not used at any origin"
    names = ["the total" if name == forecast.TOTAL else name for name in unscored]
    return f"ETS not scored for {', '.join(names)}: not used at any origin"


def _clv_step(summary_table: pd.DataFrame, out: Outcome) -> None:
    """BG/NBD and Gamma-Gamma per customer (or the customer's own average value
    per purchase when Gamma-Gamma cannot be fitted)."""

    def fit() -> tuple[customers.ClvResult, pd.DataFrame]:
        value = customers.customer_value(summary_table)
        return value, tables.checked("customer_clv", value.table)

    fitted = out.statuses.attempt(CLV, fit)
    if fitted is None:
        _skip_tables(out, "customer_clv")
        return
    out.value, out.frames["customer_clv"] = fitted
    out.statuses.add(
        CLV,
        FALLBACK if out.value.fallback_reason else FITTED,
        method=out.value.method,
        reason=out.value.fallback_reason,
    )


def _calibration_step(
    summary_table: pd.DataFrame, out: Outcome, holdout_days: int
) -> None:
    """BG/NBD refitted before a hold-out period, against what customers did."""

    def fit() -> tuple[customers.Calibration, pd.DataFrame]:
        calibration = customers.calibration_from_summary(
            summary_table, out.as_of, holdout_days=holdout_days
        )
        table = tables.checked("clv_calibration", frames.calibration_table(calibration))
        return calibration, table

    fitted = out.statuses.attempt(CALIBRATION, fit)
    if fitted is None:
        _skip_tables(out, "clv_calibration")
        return
    out.calibration, out.frames["clv_calibration"] = fitted
    out.statuses.add(
        CALIBRATION,
        FITTED,
        method=f"BG/NBD refitted before a {holdout_days}-day hold-out",
    )


SEGMENT_TABLES = (
    "customer_segments",
    "segment_profiles",
    "segment_rfm_crosstab",
    "segment_k_selection",
)


def _segments_step(
    summary_table: pd.DataFrame,
    out: Outcome,
    seed: int,
    segments_k: int | None,
) -> None:
    """K-means on the RFM features, and its stability under another seed."""

    def fit() -> tuple[pd.DataFrame, segments.Segmentation, float, list]:
        features = segment_features(summary_table)
        seg = segments.segment(features, seed=seed, k=segments_k)
        again = segments.refit_labels(features, seg.k, seed + 1)
        shaped = [
            frames.segments_table(features, seg),
            segments.profiles(features, seg),
            segments.rfm_crosstab(features, seg),
            seg.selection,
        ]
        checked = [
            tables.checked(*pair) for pair in zip(SEGMENT_TABLES, shaped, strict=True)
        ]
        return features, seg, float(adjusted_rand_score(seg.labels, again)), checked

    fitted = out.statuses.attempt(SEGMENTS, fit)
    if fitted is None:
        _skip_tables(out, *SEGMENT_TABLES)
        return
    out.features, out.seg, out.stability, checked = fitted
    out.frames.update(zip(SEGMENT_TABLES, checked, strict=True))
    out.statuses.add(SEGMENTS, FITTED, method=f"K-means, k = {out.seg.k}")


def _write(
    env: dict[str, str],
    out: Outcome,
    result: dict,
    seed: int,
    timings: dict[str, float],
    started: float,
) -> int:
    """Step 6: replace the tables of schema `ml`, append the run; its run_id."""
    try:
        with _timed(timings, "write"), db.connect(env) as conn:
            seconds = round(time.perf_counter() - started, 3)
            return tables.replace_all(
                conn,
                out.frames,
                {
                    "seed": seed,
                    "parameters": result["parameters"],
                    "metrics": result["metrics"],
                    "timings": timings,
                    "seconds": seconds,
                    "as_of_date": out.as_of,
                    "models": result["models"],
                    "marts_built_at": out.marts_built_at,
                },
            )
    except psycopg.Error as exc:
        raise EcomError(
            f"predictions could not write schema ml: {one_line_or_name(exc)}"
        ) from None


def segment_features(summary_table: pd.DataFrame) -> pd.DataFrame:
    """RFM features as in marts.rpt_customer_rfm (recency from the last sale
    order, frequency = sale orders, monetary = net revenue) and the customer's
    rule-based RFM segment, in the summary's order (by customer)."""
    return pd.DataFrame(
        {
            "customer_id": summary_table["customer_id"],
            "recency_days": summary_table["days_since_last_order"],
            "frequency": summary_table["orders"],
            "monetary": summary_table["revenue"].astype(float),
            # the category's own strings, one reference per customer
            "rfm_segment": summary_table["rfm_segment"].astype(object),
        }
    )
