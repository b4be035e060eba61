"""Predictions: revenue forecast and its backtest, customer lifetime value and churn
risk, K-means segments. Reads schema `ml`, written by `ecom predict`
(docs/predictions.md); the global filters do not apply.

The sections live in `streamlit_app/predictions_page/`; this script runs them in
order. A model that fell back or was skipped is explained at the top and in its
section; a fit older than the latest build of the marts is flagged.
"""

import streamlit as st

from streamlit_app.predictions_page import (
    backtest,
    customer_lists,
    forecast,
    kpi_cards,
    lifetime_value,
    model_status,
    run_status,
    segments,
)

st.title("Predictions")

loaded = run_status.load()  # stops the page when there are no predictions to show
models = model_status.Models(loaded["models"])
model_status.caption(loaded["run"], model_status.latest_build())
models.overview()
kpi_cards.draw(loaded["forecast"], loaded["metrics"], loaded["tiers"])

series = forecast.series_of(loaded["forecast"])
picked = forecast.section(loaded["forecast"], series, models)
backtest.section(loaded["metrics"], loaded["horizons"], series, picked, models)

lifetime_value.section(loaded["histogram"], loaded["tiers"], models)
customer_lists.section(loaded["top"], loaded["at_risk"])
lifetime_value.calibration(loaded["calibration"], loaded["parameters"], models)

segments.section(
    loaded["profiles"],
    loaded["points"],
    loaded["k_selection"],
    loaded["crosstab"],
    models,
)
