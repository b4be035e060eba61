"""The Predictions page's backtest: ETS against the seasonal-naive forecast and the
3-month moving average, per series (MAPE, best model, interval coverage) and per
month ahead.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from streamlit_app import ui
from streamlit_app.predictions_page.model_status import BACKTEST, Models

MODEL_NAMES = {
    "ets": "ETS",
    "seasonal_naive": "Seasonal naive",
    "moving_average_3": "Moving average (3)",
}
PERCENT = {"format": "%.1f%%"}


def ets_metrics(metrics: pd.DataFrame) -> pd.DataFrame:
    """The ETS model's backtest metrics, one row per series."""
    return metrics[metrics["model"] == "ets"]


def _beats_baselines(ets: pd.DataFrame) -> pd.Series:
    return ets["beats_baselines"].fillna(False).astype(bool)


def series_beating(ets: pd.DataFrame) -> int:
    """How many series ETS forecasts better than both baselines."""
    return int(_beats_baselines(ets).sum())


def section(
    metrics: pd.DataFrame,
    horizons: pd.DataFrame,
    series: list[str],
    picked: str | None,
    models: Models,
) -> None:
    st.subheader("Backtest: ETS against the baselines")
    if metrics.empty or picked is None:
        models.not_fitted(BACKTEST, "backtest")
        return
    ets = ets_metrics(metrics)
    st.caption(_summary(metrics, ets))
    note = models.reason(BACKTEST)
    if note:
        st.caption(f"Note: {ui.plain(note)}.")
    _comparison_table(_comparison(metrics, ets, series))
    st.markdown("**MAPE by months ahead** (the series chosen above)")
    _horizon_chart(horizons, picked)


def _summary(metrics: pd.DataFrame, ets: pd.DataFrame) -> str:
    ets = ets[ets["mape_pct"].notna()]  # no month with sales: no MAPE
    losing = ets[~_beats_baselines(ets)]
    forecasts = int(metrics["forecasts"].max()) if len(metrics) else 0
    summary = (
        f"Rolling origin over the last 6 months of history: each model is refitted "
        f"at each origin and forecasts up to 6 months ahead ({forecasts} forecasts "
        f"per series and model). ETS beats both the seasonal-naive forecast (same "
        f"month last year) and the 3-month moving average on {series_beating(ets)} "
        f"of {len(ets)} series."
    )
    if len(losing):
        summary += (
            f" On the other {len(losing)} a baseline is as good or better (unticked "
            "below): on short, noisy series the model's many parameters can overfit."
        )
    return summary


def _comparison(
    metrics: pd.DataFrame, ets: pd.DataFrame, series: list[str]
) -> pd.DataFrame:
    """One row per series: each model's MAPE, the best model, ETS's coverage."""
    comparison = (
        metrics.pivot_table(
            index="category", columns="model", values="mape_pct", aggfunc="first"
        )
        .reindex(columns=list(MODEL_NAMES))
        .reindex(series)
        .reset_index()
    )
    best = metrics[metrics["rank"] == 1].set_index("category")["model"]
    comparison["best_model"] = comparison["category"].map(best).map(MODEL_NAMES)
    comparison["ets_beats_both"] = (
        comparison["category"]
        .map(ets.set_index("category")["beats_baselines"])
        .fillna(False)
        .astype(bool)
    )
    for column in ("coverage80_pct", "coverage95_pct"):
        comparison[column] = comparison["category"].map(
            ets.set_index("category")[column]
        )
    comparison["category"] = comparison["category"].replace({"all": "Total"})
    return comparison


def _comparison_table(comparison: pd.DataFrame) -> None:
    ui.table(
        comparison,
        "forecast_backtest_mape",
        column_config={
            "category": "Series",
            "ets": st.column_config.NumberColumn("ETS MAPE", **PERCENT),
            "seasonal_naive": st.column_config.NumberColumn(
                "Seasonal naive MAPE", **PERCENT
            ),
            "moving_average_3": st.column_config.NumberColumn(
                "Moving avg (3) MAPE", **PERCENT
            ),
            "best_model": "Best",
            "ets_beats_both": st.column_config.CheckboxColumn("ETS beats both"),
            "coverage80_pct": st.column_config.NumberColumn(
                "In 80 % interval",
                help="Share of backtest actuals inside ETS's 80 % interval "
                "(ideally about 80 %).",
                **PERCENT,
            ),
            "coverage95_pct": st.column_config.NumberColumn(
                "In 95 % interval",
                help="Share of backtest actuals inside ETS's 95 % interval "
                "(ideally about 95 %).",
                **PERCENT,
            ),
        },
    )


def _horizon_chart(horizons: pd.DataFrame, picked: str) -> None:
    horizons = horizons[horizons["category"] == picked].assign(
        model_name=lambda frame: frame["model"].map(MODEL_NAMES)
    )
    fig = px.line(
        horizons,
        x="horizon",
        y="mape_pct",
        color="model_name",
        markers=True,
        color_discrete_sequence=ui.COLORS[1:],
        category_orders={"model_name": list(MODEL_NAMES.values())},
        custom_data=["forecasts"],
        labels={
            "horizon": "Months ahead",
            "mape_pct": "MAPE (%)",
            "model_name": "Model",
        },
    )
    fig.update_traces(
        hovertemplate="%{x} months ahead<br>MAPE %{y:.1f}%"
        "<br>%{customdata[0]} forecasts<extra>%{fullData.name}</extra>"
    )
    fig.update_layout(xaxis_dtick=1, yaxis_rangemode="tozero")
    ui.chart(fig, height=300)
