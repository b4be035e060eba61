"""The summary of a run: headline figures and parameters (also stored in
ml.model_runs), and what the command line prints of it. A model that was skipped
leaves its figures null."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd

from predict import customers, forecast, segments
from predict.status import Statuses, lines


@dataclass
class Outcome:
    """What the steps of one run produced; None where a model was skipped."""

    as_of: date
    marts_built_at: datetime | None
    statuses: Statuses = field(default_factory=Statuses)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    months: int = 0  # complete months of history
    customers: int = 0  # customers with a sale
    metrics: pd.DataFrame | None = None  # backtest metrics per series and model
    value: customers.ClvResult | None = None
    calibration: customers.Calibration | None = None
    features: pd.DataFrame | None = None
    seg: segments.Segmentation | None = None
    stability: float | None = None  # adjusted Rand index, segments refitted


def _rounded(value: float | None, digits: int) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return round(float(value), digits)


def _forecast_metrics(metrics: pd.DataFrame | None) -> dict:
    if metrics is None or metrics.empty:
        return {
            "mape_total": None,
            "ets_beats_baselines_total": None,
            "ets_not_beating_baselines": [],
        }
    total = metrics[metrics["series"] == forecast.TOTAL]
    ets_rows = metrics[metrics["model"] == forecast.ETS]
    beats = ets_rows["beats_baselines"]
    ets_total = ets_rows.loc[ets_rows["series"] == forecast.TOTAL, "beats_baselines"]
    return {
        "mape_total": {row.model: _rounded(row.mape, 3) for row in total.itertuples()},
        "ets_beats_baselines_total": (
            bool(ets_total.iloc[0])
            if len(ets_total) and ets_total.iloc[0] is not None
            else None
        ),
        "ets_not_beating_baselines": sorted(
            name
            for name, beat in zip(ets_rows["series"], beats, strict=True)
            if beat is not None and not pd.isna(beat) and not beat
        ),
    }


def _clv_metrics(out: Outcome) -> dict:
    value, calibration = out.value, out.calibration
    found: dict = {
        "at_risk_customers": None,
        "expected_revenue_12m": None,
        "frequency_value_correlation": None,
        "calibration_predicted": None,
        "calibration_actual": None,
        "calibration_error_pct": None,
    }
    if value is not None:
        found["at_risk_customers"] = int(value.table["is_at_risk"].sum())
        found["expected_revenue_12m"] = _rounded(
            value.table["expected_value_12m"].sum(), 2
        )
        found["frequency_value_correlation"] = _rounded(
            value.frequency_value_correlation, 4
        )
    if calibration is not None:
        table = calibration.table
        total = table[table["frequency_group"] == "all"].iloc[0]
        found["calibration_predicted"] = _rounded(total["predicted_total"], 1)
        found["calibration_actual"] = _rounded(total["actual_total"], 1)
        error = total["error_pct"]
        found["calibration_error_pct"] = None if error is None else _rounded(error, 2)
    return found


def _segment_metrics(out: Outcome) -> dict:
    seg = out.seg
    if seg is None or out.features is None:
        return {
            "silhouette": None,
            "segments_stability_ari": None,
            "segments_vs_rfm_ari": None,
        }
    chosen = seg.selection[seg.selection["is_chosen"]]
    return {
        "silhouette": _rounded(chosen["silhouette"].iloc[0], 4)
        if len(chosen)
        else None,
        "segments_stability_ari": _rounded(out.stability, 4),
        "segments_vs_rfm_ari": _rounded(
            segments.agreement_with_rfm(out.features, seg), 4
        ),
    }


def summary(out: Outcome, seed: int) -> dict:
    """Headline figures and parameters of the run (also stored in ml.model_runs)."""
    value, calibration, seg = out.value, out.calibration, out.seg
    return {
        "as_of_date": out.as_of.isoformat(),
        "marts_built_at": (
            out.marts_built_at.isoformat() if out.marts_built_at else None
        ),
        "seed": seed,
        "rows": {name: len(frame) for name, frame in out.frames.items()},
        "models": out.statuses.as_list(),
        "parameters": {
            "bgnbd": value.bgnbd.as_dict() if value else None,
            "gamma_gamma": (
                value.gamma_gamma.as_dict() if value and value.gamma_gamma else None
            ),
            "clv_method": value.method if value else None,
            "bgnbd_calibration": calibration.bgnbd.as_dict() if calibration else None,
            "forecast_model": forecast.MODEL_LABELS[forecast.ETS],
            "segments_k": seg.k if seg else None,
            "segment_names": seg.names if seg else [],
            "versions": _versions(),
        },
        "metrics": {
            "months": out.months,
            **_forecast_metrics(out.metrics),
            "customers": out.customers,
            **_clv_metrics(out),
            **_segment_metrics(out),
        },
    }


def report(result: dict) -> list[str]:
    """What `ecom predict` and `python -m predict` print: the run, then one line
    per model (fitted, fallback or skipped, and why)."""
    built = result.get("marts_built_at")
    head = f"predictions as of {result['as_of_date']}"
    if result.get("run_id") is not None:
        head += f" (run {result['run_id']})"
    head += (
        f", fitted on the marts built at {built}"
        if built
        else ", build time of the marts unknown"
    )
    counts = {s: 0 for s in ("fitted", "fallback", "skipped")}
    for row in result["models"]:
        counts[row["status"]] += 1
    tally = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    return [
        head,
        f"models: {tally}",
        *("  " + line for line in lines(result["models"])),
    ]


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
