"""The models' results shaped as the tables of schema `ml` (columns named as in
predict/tables.py, checked there before they are written)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from predict import customers, forecast, segments


def forecast_table(future: pd.DataFrame) -> pd.DataFrame:
    return future.rename(columns={"series": "category", "spec": "model"})


def backtest_table(backtest: pd.DataFrame) -> pd.DataFrame:
    return backtest.rename(
        columns={"series": "category", "spec": "model_spec", "origin": "origin_month"}
    ).assign(ape_pct=lambda f: f["ape"] * 100)


def metrics_table(metrics: pd.DataFrame) -> pd.DataFrame:
    return metrics.rename(
        columns={
            "series": "category",
            "mape": "mape_pct",
            "mape_h1": "mape_h1_pct",
            "coverage80": "coverage80_pct",
            "coverage95": "coverage95_pct",
        }
    ).assign(model_label=lambda f: f["model"].map(forecast.MODEL_LABELS))


def calibration_table(calibration: customers.Calibration) -> pd.DataFrame:
    return calibration.table.assign(
        holdout_start_date=calibration.holdout_start,
        holdout_end_date=calibration.holdout_end,
    )


def parameters_table(
    value: customers.ClvResult | None, calibration: customers.Calibration | None
) -> pd.DataFrame:
    """The fitted CLV parameters, of the models that were fitted."""
    fits = []
    if value is not None:
        fits.append(("bgnbd", "all purchases (time unit: weeks)", value.bgnbd))
        if value.gamma_gamma is not None:
            fits.append(
                ("gamma_gamma", "customers with repeat purchases", value.gamma_gamma)
            )
    if calibration is not None:
        fits.append(
            ("bgnbd_calibration", "purchases before the hold-out", calibration.bgnbd)
        )
    rows = []
    for model, fitted_on, params in fits:
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
    columns = ["model", "fitted_on", "parameter", "value", "customers"]
    return pd.DataFrame(rows, columns=columns)


def segments_table(features: pd.DataFrame, seg: segments.Segmentation) -> pd.DataFrame:
    return features.assign(
        cluster=seg.labels,
        segment_name=np.array(seg.names, dtype=object)[seg.labels],
        pc1=seg.coordinates[:, 0],
        pc2=seg.coordinates[:, 1],
    )
