"""The Predictions page's KPI cards: the revenue forecast ahead, its backtest
error, the series where it beats the baselines, predicted CLV, customers at risk.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from streamlit_app import ui
from streamlit_app.predictions_page.backtest import ets_metrics, series_beating


def draw(forecast: pd.DataFrame, metrics: pd.DataFrame, tiers: pd.DataFrame) -> None:
    total = forecast[forecast["category"] == "all"]
    ahead = total[total["is_forecast"]]
    year_before = total.set_index("month")["actual"].reindex(
        ahead["month"] - pd.DateOffset(years=1)
    )
    ets = ets_metrics(metrics)
    ets = ets[ets["mape_pct"].notna()]  # a series without sales has no MAPE
    ets_total = ets[ets["category"] == "all"]
    no_clv = tiers.empty

    cards = st.columns(5)
    ui.kpi(
        cards[0],
        f"{len(ahead)}-month forecast",
        ui.money(ahead["forecast"].sum()) if len(ahead) else "–",
        ui.change(ahead["forecast"].sum(), year_before.sum())
        if len(ahead) and year_before.notna().all()
        else None,
        help="Total net revenue forecast for the next months (by ETS, or the "
        "simpler model named above when ETS could not be used); the change "
        "compares with the same months a year earlier.",
    )
    ui.kpi(
        cards[1],
        "Backtest MAPE",
        "–" if ets_total.empty else f"{ets_total['mape_pct'].iloc[0]:.1f}%",
        help="Mean absolute percentage error of the ETS forecasts of total revenue "
        "in the rolling-origin backtest over the last 6 months of history (lower is "
        "better).",
    )
    ui.kpi(
        cards[2],
        "Beats baselines",
        f"{series_beating(ets)} of {len(ets)}" if len(ets) else "–",
        help="Series (the total and each category) where ETS has a lower backtest "
        "MAPE than both the seasonal-naive forecast and the 3-month moving average.",
    )
    ui.kpi(
        cards[3],
        "12-month CLV",
        "–" if no_clv else ui.money(tiers["expected_value"].sum()),
        help="Predicted net revenue of all current customers in the next 12 months "
        "(BG/NBD with Gamma-Gamma, not discounted).",
    )
    ui.kpi(
        cards[4],
        "Customers at risk",
        "–" if no_clv else ui.count(tiers["at_risk"].sum()),
        help="High past value (historical revenue in the top 20 %) and a probability "
        "of still being active below 0.5.",
    )
