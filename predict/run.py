"""`run_predictions`: read the marts, fit the models, write schema `ml`."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import psycopg
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from core import db
from core.errors import EcomError
from predict import customers, forecast, segments, tables

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
    category,
    sum(net_revenue)::float8 as revenue
from marts.fct_order_items
where is_sale
group by 1, 2
order by 1, 2
"""

DATE_RANGE_SQL = "select min(order_date), max(order_date) from marts.fct_orders"

PURCHASE_DAYS_SQL = """
select
    customer_id,
    order_date,
    count(*)::integer as orders,
    sum(net_revenue)::float8 as revenue
from marts.fct_orders
where is_sale
group by customer_id, order_date
order by customer_id, order_date
"""

RFM_SQL = """
select customer_id, segment_name as rfm_segment
from marts.rpt_customer_rfm
order by customer_id
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


def read_inputs(env: dict[str, str]) -> dict:
    """Everything the models need, in four queries."""
    with db.connect(env) as conn:
        _check_marts(conn)
        first_day, last_day = conn.execute(DATE_RANGE_SQL).fetchone()
        if last_day is None:
            raise EcomError("marts.fct_orders is empty: load data and build first")
        monthly = _frame(conn, MONTHLY_REVENUE_SQL, ["month", "category", "revenue"])
        days = _frame(
            conn, PURCHASE_DAYS_SQL, ["customer_id", "order_date", "orders", "revenue"]
        )
        rfm = _frame(conn, RFM_SQL, ["customer_id", "rfm_segment"])
    if days.empty:
        raise EcomError("marts.fct_orders has no sale orders: nothing to predict")
    return {
        "first_day": first_day,
        "as_of": last_day,
        "monthly": monthly,
        "days": days,
        "rfm": rfm,
    }


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - started, 3)


@dataclass(frozen=True)
class Fitted:
    """The models of one run, fitted on what `read_inputs` read."""

    as_of: date
    series: pd.DataFrame  # monthly revenue, one column per category and in total
    future: pd.DataFrame
    backtest: pd.DataFrame
    metrics: pd.DataFrame
    value: customers.ClvResult
    calibration: customers.Calibration
    features: pd.DataFrame
    seg: segments.Segmentation
    stability: float  # adjusted Rand index of the segments refitted with seed + 1


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
    (headline figures, parameters, timings) that is also appended to
    ml.model_runs.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    report = _reporter(progress)

    # one thread for BLAS and OpenMP: the models are small, and thread start-up
    # and contention cost far more than they save (and results stay bit-identical)
    with threadpool_limits(limits=1):
        report(0)
        with _timed(timings, "read"):
            inputs = read_inputs(env)
        fitted = _fit(
            inputs,
            timings,
            report,
            seed=seed,
            horizon=horizon,
            backtest_origins=backtest_origins,
            holdout_days=holdout_days,
            segments_k=segments_k,
        )
        frames = _frames(fitted)
        result = _summary(fitted, seed, frames)
        result["parameters"]["settings"] = {
            "horizon_months": horizon,
            "backtest_origins": backtest_origins,
            "holdout_days": holdout_days,
            "segments_k": segments_k,
        }

        report(6)
        run_id = _write(env, frames, result, seed, fitted.as_of, timings, started)
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
    timings: dict[str, float],
    report: Callable[[int], None],
    *,
    seed: int,
    horizon: int,
    backtest_origins: int,
    holdout_days: int,
    segments_k: int | None,
) -> Fitted:
    """Steps 1 to 5: the forecast and its backtest, CLV and its calibration, the
    segments; each one timed."""
    as_of: date = inputs["as_of"]

    report(1)
    with _timed(timings, "forecast"):
        series = forecast.monthly_revenue(
            inputs["monthly"],
            pd.Timestamp(inputs["first_day"]),
            pd.Timestamp(as_of),
        )
        if len(series) < forecast.MIN_MONTHS:
            raise EcomError(
                f"the forecast needs at least {forecast.MIN_MONTHS} complete "
                f"months of orders, the marts have {len(series)}"
            )
        future = forecast.forecast_all(series, horizon=horizon)

    report(2)
    with _timed(timings, "backtest"):
        backtest = forecast.backtest(series, origins=backtest_origins, horizon=horizon)
        metrics = forecast.metrics(backtest)

    report(3)
    with _timed(timings, "clv"):
        summary = customers.summarise(inputs["days"], as_of)
        value = customers.customer_value(summary)

    report(4)
    with _timed(timings, "calibration"):
        calibration = customers.calibration(
            inputs["days"], as_of, holdout_days=holdout_days
        )

    report(5)
    with _timed(timings, "segments"):
        features = segment_features(summary, inputs["rfm"])
        seg = segments.segment(features, seed=seed, k=segments_k)
        again = segments.refit_labels(features, seg.k, seed + 1)
        stability = float(adjusted_rand_score(seg.labels, again))

    return Fitted(
        as_of=as_of,
        series=series,
        future=future,
        backtest=backtest,
        metrics=metrics,
        value=value,
        calibration=calibration,
        features=features,
        seg=seg,
        stability=stability,
    )


def _frames(fitted: Fitted) -> dict[str, pd.DataFrame]:
    """The tables of schema `ml`, by name."""
    calibration = fitted.calibration
    return {
        "revenue_forecast": _forecast_table(fitted.future),
        "forecast_backtest": _backtest_table(fitted.backtest),
        "forecast_metrics": _metrics_table(fitted.metrics),
        "customer_clv": fitted.value.table,
        "clv_calibration": calibration.table.assign(
            holdout_start_date=calibration.holdout_start,
            holdout_end_date=calibration.holdout_end,
        ),
        "clv_parameters": _parameters_table(fitted.value, calibration),
        "customer_segments": _segments_table(fitted.features, fitted.seg),
        "segment_profiles": segments.profiles(fitted.features, fitted.seg),
        "segment_rfm_crosstab": segments.rfm_crosstab(fitted.features, fitted.seg),
        "segment_k_selection": fitted.seg.selection,
    }


def _write(
    env: dict[str, str],
    frames: dict[str, pd.DataFrame],
    result: dict,
    seed: int,
    as_of: date,
    timings: dict[str, float],
    started: float,
) -> int:
    """Step 6: replace the tables of schema `ml`, append the run; its run_id."""
    with _timed(timings, "write"), db.connect(env) as conn:
        seconds = round(time.perf_counter() - started, 3)
        return tables.replace_all(
            conn,
            frames,
            {
                "seed": seed,
                "parameters": result["parameters"],
                "metrics": result["metrics"],
                "timings": timings,
                "seconds": seconds,
                "as_of_date": as_of,
            },
        )


def segment_features(summary: pd.DataFrame, rfm: pd.DataFrame) -> pd.DataFrame:
    """RFM features as in marts.rpt_customer_rfm (recency from the last sale
    order, frequency = sale orders, monetary = net revenue), sorted by customer."""
    features = pd.DataFrame(
        {
            "customer_id": summary["customer_id"].to_numpy(),
            "recency_days": summary["days_since_last_order"].to_numpy(),
            "frequency": summary["orders"].to_numpy(),
            "monetary": summary["revenue"].to_numpy(float),
        }
    )
    features = features.merge(rfm, on="customer_id", how="left", validate="1:1")
    return features.sort_values("customer_id", ignore_index=True)


def _forecast_table(future: pd.DataFrame) -> pd.DataFrame:
    return future.rename(columns={"series": "category", "spec": "model"})


def _backtest_table(backtest: pd.DataFrame) -> pd.DataFrame:
    return backtest.rename(
        columns={"series": "category", "spec": "model_spec", "origin": "origin_month"}
    ).assign(ape_pct=lambda f: f["ape"] * 100)


def _metrics_table(metrics: pd.DataFrame) -> pd.DataFrame:
    return metrics.rename(
        columns={
            "series": "category",
            "mape": "mape_pct",
            "mape_h1": "mape_h1_pct",
            "coverage80": "coverage80_pct",
            "coverage95": "coverage95_pct",
        }
    ).assign(model_label=lambda f: f["model"].map(forecast.MODEL_LABELS))


def _parameters_table(
    value: customers.ClvResult, calibration: customers.Calibration
) -> pd.DataFrame:
    rows = []
    for model, fitted_on, params in (
        ("bgnbd", "all purchases (time unit: weeks)", value.bgnbd),
        ("gamma_gamma", "customers with repeat purchases", value.gamma_gamma),
        ("bgnbd_calibration", "purchases before the hold-out", calibration.bgnbd),
    ):
        for name, number in params.as_dict().items():
            if name == "n_customers":
                continue
            rows.append(
                {
                    "model": model,
                    "fitted_on": fitted_on,
                    "parameter": name,
                    "value": float(number),
                    "customers": params.n_customers,
                }
            )
    return pd.DataFrame(rows)


def _segments_table(features: pd.DataFrame, seg: segments.Segmentation) -> pd.DataFrame:
    return features.assign(
        cluster=seg.labels,
        segment_name=[seg.names[c] for c in seg.labels],
        pc1=seg.coordinates[:, 0],
        pc2=seg.coordinates[:, 1],
    )


def _mape(metrics: pd.DataFrame, series: str) -> dict[str, float]:
    part = metrics[metrics["series"] == series]
    return {row.model: round(float(row.mape), 3) for row in part.itertuples()}


def _summary(fitted: Fitted, seed: int, frames: dict[str, pd.DataFrame]) -> dict:
    """Headline figures and parameters of the run (also stored in ml.model_runs)."""
    metrics = fitted.metrics
    value = fitted.value
    calibration = fitted.calibration
    seg = fitted.seg
    features = fitted.features
    ets_rows = metrics[metrics["model"] == forecast.ETS]
    beats = ets_rows["beats_baselines"].astype(bool)
    not_beating = sorted(ets_rows.loc[~beats, "series"])
    total = calibration.table[calibration.table["frequency_group"] == "all"].iloc[0]
    chosen = seg.selection[seg.selection["is_chosen"]].iloc[0]
    return {
        "as_of_date": fitted.as_of.isoformat(),
        "seed": seed,
        "rows": {name: len(frame) for name, frame in frames.items()},
        "parameters": {
            "bgnbd": value.bgnbd.as_dict(),
            "gamma_gamma": value.gamma_gamma.as_dict(),
            "bgnbd_calibration": calibration.bgnbd.as_dict(),
            "forecast_model": forecast.MODEL_LABELS[forecast.ETS],
            "segments_k": seg.k,
            "segment_names": seg.names,
            "versions": _versions(),
        },
        "metrics": {
            "months": len(fitted.series),
            "mape_total": _mape(metrics, forecast.TOTAL),
            "ets_beats_baselines_total": bool(
                ets_rows.loc[
                    ets_rows["series"] == forecast.TOTAL, "beats_baselines"
                ].iloc[0]
            ),
            "ets_not_beating_baselines": not_beating,
            "customers": len(value.table),
            "at_risk_customers": int(value.table["is_at_risk"].sum()),
            "expected_revenue_12m": round(
                float(value.table["expected_value_12m"].sum()), 2
            ),
            "frequency_value_correlation": round(value.frequency_value_correlation, 4),
            "calibration_predicted": round(float(total["predicted_total"]), 1),
            "calibration_actual": round(float(total["actual_total"]), 1),
            "calibration_error_pct": round(float(total["error_pct"]), 2),
            "silhouette": round(float(chosen["silhouette"]), 4),
            "segments_stability_ari": round(fitted.stability, 4),
            "segments_vs_rfm_ari": round(segments.agreement_with_rfm(features, seg), 4),
        },
    }


def _versions() -> dict[str, str]:
    import scipy
    import sklearn
    import statsmodels

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "statsmodels": statsmodels.__version__,
    }
