"""The Predictions page's customer lifetime value: predicted 12-month value per
customer and per tier (BG/NBD with Gamma-Gamma), and how well the model predicted
a hold-out year (calibration and fitted parameters).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from streamlit_app import ui
from streamlit_app.predictions_page.model_status import CALIBRATION, CLV, Models

TIERS = ("high", "medium", "low", "very low")
TIER_COLORS = dict(zip(TIERS, ui.COLORS, strict=False))


def section(histogram: pd.DataFrame, tiers: pd.DataFrame, models: Models) -> None:
    st.subheader("Customer lifetime value and churn risk")
    if tiers.empty:
        models.not_fitted(CLV, "customer lifetime value")
        return
    status = models.of(CLV)
    if status is not None and status["status"] == "fallback":
        st.caption(
            f"Value per purchase: {ui.plain(status['method'])}, as Gamma-Gamma could "
            f"not be used ({ui.plain(status['reason'])})."
        )
    st.caption(
        "Per customer, BG/NBD gives the probability of still being active and the "
        "expected purchases in the next 12 months; Gamma-Gamma the expected value of "
        "a purchase. Predicted value = purchases × value, not discounted. One-time "
        "buyers always have a probability alive of 1 in this model, so churn risk is "
        "meaningful for repeat buyers only."
    )
    left, right = st.columns([3, 2])
    with left:
        st.markdown("**Predicted value per customer, next 12 months**")
        ui.chart(_histogram(histogram), height=360)
    with right:
        st.markdown("**Share of customers and of predicted value by tier**")
        ui.chart(_tier_shares(tiers), height=360)
    st.caption(
        "Tiers by predicted value: high = top 10 % of customers, medium = next 20 %, "
        "low = next 30 %, very low = bottom 40 %."
    )
    _tiers_table(tiers)


def _histogram(histogram: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for tier in TIERS:
        part = histogram[histogram["clv_tier"] == tier]
        if part.empty:
            continue
        fig.add_bar(
            x=(part["bin_start"] + part["bin_end"]) / 2,
            y=part["customers"],
            width=part["bin_end"] - part["bin_start"],
            name=f"{tier} tier",
            marker_color=TIER_COLORS[tier],
            customdata=part[["bin_start", "bin_end"]],
            hovertemplate="%{customdata[0]:,.0f} to %{customdata[1]:,.0f}"
            "<br>%{y:,} customers<extra>%{fullData.name}</extra>",
        )
    fig.update_layout(
        barmode="stack",
        bargap=0,
        xaxis_title="Predicted net revenue (the top 1 % are in the last bar)",
        yaxis_title="Customers",
    )
    return fig


def _tier_shares(tiers: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for column, label, color in (
        ("customer_share", "Customers", ui.COLORS[0]),
        ("value_share", "Predicted value", ui.COLORS[1]),
    ):
        fig.add_bar(
            x=list(tiers["clv_tier"]),
            y=tiers[column],
            name=label,
            marker_color=color,
            hovertemplate="%{x} tier<br>%{y:.1%} of "
            + label.lower()
            + "<extra></extra>",
        )
    fig.update_layout(barmode="group", yaxis_tickformat=".0%", xaxis_title="Tier")
    return fig


def _tiers_table(tiers: pd.DataFrame) -> None:
    ui.table(
        tiers[
            [
                "clv_tier",
                "customers",
                "customer_share",
                "expected_value",
                "value_share",
                "avg_expected_value",
                "min_expected_value",
                "historical_revenue",
                "repeat_p_alive",
                "at_risk",
            ]
        ],
        "clv_tiers",
        column_config={
            "clv_tier": "Tier",
            "customers": st.column_config.NumberColumn("Customers", format="%,d"),
            "customer_share": st.column_config.NumberColumn(
                "% of customers", format="percent"
            ),
            "expected_value": st.column_config.NumberColumn(
                "Predicted value", format="%,.0f"
            ),
            "value_share": st.column_config.NumberColumn(
                "% of value", format="percent"
            ),
            "avg_expected_value": st.column_config.NumberColumn(
                "Avg per customer", format="%,.2f"
            ),
            "min_expected_value": st.column_config.NumberColumn(
                "From", format="%,.2f", help="Lowest predicted value in the tier."
            ),
            "historical_revenue": st.column_config.NumberColumn(
                "Past revenue", format="%,.0f"
            ),
            "repeat_p_alive": st.column_config.NumberColumn(
                "P(alive), repeat buyers",
                help="Mean probability of still being active, over the customers "
                "with at least one repeat purchase.",
                format="%.2f",
            ),
            "at_risk": st.column_config.NumberColumn("At risk", format="%,d"),
        },
    )


def calibration(
    calibration: pd.DataFrame, parameters: pd.DataFrame, models: Models
) -> None:
    """The hold-out check of the CLV model, in an expander."""
    with st.expander("How reliable is the CLV model? Hold-out calibration"):
        if calibration.empty:
            models.not_fitted(CALIBRATION, "hold-out check")
            return
        st.caption(_calibration_summary(calibration))
        groups = calibration[calibration["frequency_group"] != "all"]
        ui.chart(_calibration_chart(groups), height=320)
        _calibration_tables(calibration, parameters)


def _calibration_summary(calibration: pd.DataFrame) -> str:
    overall = calibration[calibration["frequency_group"] == "all"]
    start = calibration["holdout_start_date"].iloc[0]
    end = calibration["holdout_end_date"].iloc[0]
    text = (
        f"The model was fitted on the purchases before {start}, then predicted "
        f"the purchase days from {start} to {end} of the customers known by then."
    )
    if len(overall):
        error = overall["error_pct"].iloc[0]
        text += (
            f" In total it predicted {overall['predicted_total'].iloc[0]:,.0f} "
            f"against {overall['actual_total'].iloc[0]:,.0f} actual"
            + (f" ({error:+.0f}%)" if pd.notna(error) else "")
            + ": read the predicted value as a ranking and a rough level."
        )
    return text


def _calibration_chart(groups: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for column, name, color in (
        ("predicted_mean", "Predicted", ui.COLORS[1]),
        ("actual_mean", "Actual", ui.COLORS[0]),
    ):
        fig.add_bar(
            x=ui.safe_text(groups["frequency_group"]),
            y=groups[column],
            name=name,
            marker_color=color,
            hovertemplate="%{x} repeat purchases<br>"
            + name
            + " %{y:.2f} per customer<extra></extra>",
        )
    fig.update_layout(
        barmode="group",
        xaxis_title="Repeat purchases before the hold-out",
        yaxis_title="Purchase days per customer in the hold-out",
    )
    return fig


def _calibration_tables(calibration: pd.DataFrame, parameters: pd.DataFrame) -> None:
    ui.table(
        calibration.drop(columns=["holdout_start_date", "holdout_end_date"]),
        "clv_calibration",
        column_config={
            "frequency_group": "Repeat purchases",
            "customers": st.column_config.NumberColumn("Customers", format="%,d"),
            "predicted_mean": st.column_config.NumberColumn(
                "Predicted per customer", format="%.2f"
            ),
            "actual_mean": st.column_config.NumberColumn(
                "Actual per customer", format="%.2f"
            ),
            "predicted_total": st.column_config.NumberColumn(
                "Predicted", format="%,.0f"
            ),
            "actual_total": st.column_config.NumberColumn("Actual", format="%,.0f"),
            "error_pct": st.column_config.NumberColumn("Error", format="%+.1f%%"),
        },
    )
    st.caption("Fitted parameters (time in weeks).")
    ui.table(
        parameters,
        "clv_parameters",
        column_config={
            "model": "Model",
            "fitted_on": "Fitted on",
            "parameter": "Parameter",
            "value": st.column_config.NumberColumn("Value", format="%.4g"),
            "customers": st.column_config.NumberColumn("Customers", format="%,d"),
        },
    )
