"""Predictions on the marts: revenue forecast, customer lifetime value and churn
risk, K-means segments. Results go to schema `ml` (see docs/predictions.md).

    from predict import run_predictions
    summary = run_predictions(env, seed=42)
"""

from __future__ import annotations

from typing import Any

__all__ = ["run_predictions"]


def __getattr__(name: str) -> Any:
    # lazy: importing the package (e.g. for `predict.clv`) does not load statsmodels
    if name == "run_predictions":
        from predict.run import run_predictions

        return run_predictions
    raise AttributeError(f"module 'predict' has no attribute {name!r}")
