"""Predictions: a placeholder until the forecasting / segmentation feature lands."""

import streamlit as st

st.title("Predictions")
st.info(
    "Revenue forecasts and K-means customer segments arrive with the predictions "
    "feature. This page is reserved for them.",
    icon=":material/hourglass_top:",
)
st.markdown(
    "Until then:\n"
    "- **Sales** shows monthly revenue with month-over-month and year-over-year "
    "growth;\n"
    "- **Customers** shows RFM segments and lifetime-value tiers."
)
