"""The Predictions page's revenue forecast: one series at a time (the total or a
category), actuals and fitted values, the ETS forecast with its 80 % and 95 %
prediction intervals (or the simpler model a series fell back to, and why), and
the forecast as a table.
"""

from __future__ import annotations

import re

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from streamlit_app import ui
from streamlit_app.predictions_page.model_status import FORECAST, Models

BOUNDS = ("forecast", "lo80", "hi80", "lo95", "hi95")


def series_of(forecast: pd.DataFrame) -> list[str]:
    """The forecast series in their order ('all' first, then the categories)."""
    return list(dict.fromkeys(forecast["category"]))


def series_name(category: str) -> str:
    return "Total (all categories)" if category == "all" else category


def rgba(color: str, alpha: float) -> str:
    """'rgb(136, 204, 238)' -> 'rgba(136, 204, 238, 0.2)'."""
    channels = re.findall(r"\d+", color)[:3]
    return f"rgba({', '.join(channels)}, {alpha})"


def section(forecast: pd.DataFrame, series: list[str], models: Models) -> str | None:
    """Draw the section; return the series the user picked (None: no forecast)."""
    st.subheader("Revenue forecast")
    if not series:
        models.not_fitted(FORECAST, "revenue forecast")
        return None
    picked = st.selectbox(
        "Series", series, format_func=series_name, key="prediction_series"
    )
    shown = forecast[forecast["category"] == picked]
    history = shown[~shown["is_forecast"]]
    future = shown[shown["is_forecast"]]
    st.caption(_caption(len(future), models.of(FORECAST, picked)))
    ui.chart(_chart(history, _joined(history, future)), height=420)
    _table(future, picked)
    return picked


def _caption(months: int, status: dict | None) -> str:
    text = f"Monthly net revenue of complete months and the next {months} months "
    if status is not None and status["status"] == "fallback":
        return (
            text
            + f"forecast by {ui.plain(status['method'])} instead of ETS: "
            + f"{ui.plain(status['reason'])}. No prediction intervals."
        )
    text += (
        "forecast by ETS (exponential smoothing with trend and yearly seasonality, "
        "on log revenue), with 80 % and 95 % prediction intervals."
    )
    if status is not None and status["reason"]:
        text += f" Note: {ui.plain(status['reason'])}."
    return text


def _joined(history: pd.DataFrame, future: pd.DataFrame) -> pd.DataFrame:
    """The forecast and its bands, starting at the last actual month so that they
    join the line of actuals."""
    last = history.tail(1)
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "month": last["month"],
                    **{column: last["actual"] for column in BOUNDS},
                }
            ),
            future[["month", *BOUNDS]],
        ],
        ignore_index=True,
    )


def _chart(history: pd.DataFrame, joined: pd.DataFrame) -> go.Figure:
    band = ui.COLORS[1]
    fig = go.Figure()
    fig.add_scatter(
        x=history["month"],
        y=history["actual"],
        name="Actual",
        mode="lines+markers",
        line={"color": ui.COLORS[0], "width": 2.5},
        marker={"size": 5},
        hovertemplate="%{x|%b %Y}<br>Actual %{y:,.0f}<extra></extra>",
    )
    fig.add_scatter(
        x=history["month"],
        y=history["fitted"],
        name="Fitted (one month ahead)",
        mode="lines",
        line={"color": ui.COLORS[0], "width": 1, "dash": "dot"},
        visible="legendonly",
        hovertemplate="%{x|%b %Y}<br>Fitted %{y:,.0f}<extra></extra>",
    )
    for level, alpha in (("95", 0.15), ("80", 0.3)):
        fig.add_scatter(
            x=joined["month"],
            y=joined[f"hi{level}"],
            mode="lines",
            line={"width": 0},
            showlegend=False,
            legendgroup=level,
            hovertemplate="%{x|%b %Y}<br>" + level + " % high %{y:,.0f}<extra></extra>",
        )
        fig.add_scatter(
            x=joined["month"],
            y=joined[f"lo{level}"],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=rgba(band, alpha),
            name=f"{level} % interval",
            legendgroup=level,
            hovertemplate="%{x|%b %Y}<br>" + level + " % low %{y:,.0f}<extra></extra>",
        )
    fig.add_scatter(
        x=joined["month"],
        y=joined["forecast"],
        name="Forecast",
        mode="lines+markers",
        line={"color": band, "width": 2.5, "dash": "dash"},
        marker={"size": 5},
        hovertemplate="%{x|%b %Y}<br>Forecast %{y:,.0f}<extra></extra>",
    )
    fig.update_layout(
        yaxis={"title": "Net revenue", "rangemode": "tozero"},
        hovermode="x unified",
    )
    return fig


def _table(future: pd.DataFrame, picked: str) -> None:
    ui.table(
        future.assign(month=future["month"].dt.strftime("%Y-%m"))[["month", *BOUNDS]],
        f"forecast_{picked}",
        column_config={
            "month": "Month",
            "forecast": st.column_config.NumberColumn("Forecast", format="%,.0f"),
            "lo80": st.column_config.NumberColumn("80 % low", format="%,.0f"),
            "hi80": st.column_config.NumberColumn("80 % high", format="%,.0f"),
            "lo95": st.column_config.NumberColumn("95 % low", format="%,.0f"),
            "hi95": st.column_config.NumberColumn("95 % high", format="%,.0f"),
        },
    )
