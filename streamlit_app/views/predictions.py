"""Predictions: revenue forecast and its backtest, customer lifetime value and churn
risk, K-means segments. Reads schema `ml`, written by `ecom predict`
(docs/predictions.md); the global filters do not apply.

The sections live in `streamlit_app/predictions_page/`; this script runs them in
order.
"""

import streamlit as st

from streamlit_app.predictions_page import (
    backtest,
    customer_lists,
    forecast,
    kpi_cards,
    lifetime_value,
    run_status,
    segments,
)

st.title("Predictions")

loaded = run_status.load()  # stops the page when there are no predictions to show
run_status.caption(loaded["run"])
kpi_cards.draw(loaded["forecast"], loaded["metrics"], loaded["tiers"])

series = forecast.series_of(loaded["forecast"])
picked = forecast.section(loaded["forecast"], series)
backtest.section(loaded["metrics"], loaded["horizons"], series, picked)

lifetime_value.section(loaded["histogram"], loaded["tiers"])
customer_lists.section(loaded["top"], loaded["at_risk"])
lifetime_value.calibration(loaded["calibration"], loaded["parameters"])

segments.section(
    loaded["profiles"], loaded["points"], loaded["k_selection"], loaded["crosstab"]
)
