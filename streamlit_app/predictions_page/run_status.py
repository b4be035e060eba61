"""The Predictions page's data: reads every section's data from schema `ml`, and
shows what to run when the predictions are missing or unreadable (and stops the
page). Which run the page shows, and how old it is: `model_status`.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.errors import MartMissing, QueryFailed
from streamlit_app import warehouse
from streamlit_app.queries import predictions

TOP_CUSTOMERS = 25
AT_RISK_ROWS = 100
SCATTER_POINTS = 3000


def retry_button() -> None:
    if st.button("Try again", icon=":material/refresh:", key="retry_predictions"):
        warehouse.clear_cache()
        st.rerun()


def not_ready(warehouse_ready: bool, missing: tuple[str, ...] = ()) -> None:
    """Empty state: the predictions have not run on this warehouse."""
    if not warehouse_ready:
        st.info(
            "No predictions yet: they are computed from the marts, which are not "
            "built or hold no orders.",
            icon=":material/model_training:",
        )
        st.markdown(
            "Run `ecom build` to build the marts, then `ecom predict` (or `ecom demo`"
            ", which does everything), and press **Try again**."
        )
    else:
        st.info(
            "No predictions yet: the models have not run on this warehouse.",
            icon=":material/model_training:",
        )
        st.markdown(
            "Run `ecom predict` (or `ecom demo`) to fit the revenue forecast, the "
            "customer lifetime value and the segments, then press **Try again**."
        )
        if missing and len(missing) < len(predictions.ML_TABLES):
            st.text("Missing tables: " + ", ".join(f"ml.{t}" for t in missing))
    retry_button()


def _gather(ml: predictions.PredictionsStatus) -> dict[str, Any]:
    """Every section's data, read at the same time."""
    return warehouse.gather(
        run=lambda: predictions.model_run(ml),
        models=lambda: predictions.model_statuses(ml),
        forecast=lambda: predictions.revenue_forecast(ml),
        metrics=lambda: predictions.forecast_metrics(ml),
        horizons=lambda: predictions.backtest_by_horizon(ml),
        tiers=lambda: predictions.clv_tiers(ml),
        histogram=lambda: predictions.clv_histogram(ml),
        top=lambda: predictions.top_clv_customers(ml, TOP_CUSTOMERS),
        at_risk=lambda: predictions.at_risk_customers(ml, AT_RISK_ROWS),
        calibration=lambda: predictions.clv_calibration(ml),
        parameters=lambda: predictions.clv_parameters(ml),
        profiles=lambda: predictions.segment_profiles(ml),
        points=lambda: predictions.segment_points(ml, SCATTER_POINTS),
        k_selection=lambda: predictions.segment_k_selection(ml),
        crosstab=lambda: predictions.segment_rfm_crosstab(ml),
    )


def load() -> dict[str, Any]:
    """The page's data by name; stops the page with a message when there is none."""
    warehouse_ready = st.session_state.get("warehouse_state", "ready") == "ready"
    ml = predictions.predictions_status() if warehouse_ready else None
    if ml is None or not ml.ready:
        not_ready(warehouse_ready, ml.missing if ml else ())
        st.stop()

    try:
        return _gather(ml)
    except MartMissing:
        # The tables went away between the check and the queries (a run in progress).
        not_ready(True)
        st.stop()
    except QueryFailed as exc:
        st.warning("The predictions could not be read.", icon=":material/warning:")
        st.text(str(exc))
        st.markdown(
            "If the app was upgraded, run `ecom predict` again to rewrite them, then "
            "press **Try again**."
        )
        retry_button()
        st.stop()
