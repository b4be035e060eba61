"""Predictions: revenue forecast and its backtest, customer lifetime value and churn
risk, K-means segments. Reads schema `ml`, written by `ecom predict`
(docs/predictions.md); the global filters do not apply.
"""

import re

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from core.errors import MartMissing, QueryFailed
from streamlit_app import data, ui, warehouse

MODEL_NAMES = {
    "ets": "ETS",
    "seasonal_naive": "Seasonal naive",
    "moving_average_3": "Moving average (3)",
}
TIERS = ("high", "medium", "low", "very low")
TIER_COLORS = dict(zip(TIERS, ui.COLORS, strict=False))
TOP_CUSTOMERS = 25
AT_RISK_ROWS = 100
SCATTER_POINTS = 3000

st.title("Predictions")


def series_name(category: str) -> str:
    return "Total (all categories)" if category == "all" else category


def rgba(color: str, alpha: float) -> str:
    """'rgb(136, 204, 238)' -> 'rgba(136, 204, 238, 0.2)'."""
    channels = re.findall(r"\d+", color)[:3]
    return f"rgba({', '.join(channels)}, {alpha})"


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
        if missing and len(missing) < len(data.ML_TABLES):
            st.text("Missing tables: " + ", ".join(f"ml.{t}" for t in missing))
    retry_button()


warehouse_ready = st.session_state.get("warehouse_state", "ready") == "ready"
ml = data.predictions_status() if warehouse_ready else None
if ml is None or not ml.ready:
    not_ready(warehouse_ready, ml.missing if ml else ())
    st.stop()

try:
    loaded = warehouse.gather(
        run=lambda: data.model_run(ml),
        forecast=lambda: data.revenue_forecast(ml),
        metrics=lambda: data.forecast_metrics(ml),
        horizons=lambda: data.backtest_by_horizon(ml),
        tiers=lambda: data.clv_tiers(ml),
        histogram=lambda: data.clv_histogram(ml),
        top=lambda: data.top_clv_customers(ml, TOP_CUSTOMERS),
        at_risk=lambda: data.at_risk_customers(ml, AT_RISK_ROWS),
        calibration=lambda: data.clv_calibration(ml),
        parameters=lambda: data.clv_parameters(ml),
        profiles=lambda: data.segment_profiles(ml),
        points=lambda: data.segment_points(ml, SCATTER_POINTS),
        k_selection=lambda: data.segment_k_selection(ml),
        crosstab=lambda: data.segment_rfm_crosstab(ml),
    )
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

run = loaded["run"]
forecast, metrics = loaded["forecast"], loaded["metrics"]
tiers, profiles = loaded["tiers"], loaded["profiles"]
at_risk, k_selection = loaded["at_risk"], loaded["k_selection"]

if run is not None:
    st.caption(
        f"Computed by `ecom predict` from the marts as of {run['as_of_date']} "
        f"(run {run['run_id']}, {run['run_at']:%Y-%m-%d %H:%M} UTC, seed "
        f"{run['seed']}). The sidebar filters do not apply to this page: the models "
        "are fitted on the whole history."
    )
else:
    st.caption(
        "The sidebar filters do not apply to this page: the models are fitted on "
        "the whole history."
    )

# ------------------------------------------------------------------------ KPIs

total = forecast[forecast["category"] == "all"]
ahead = total[total["is_forecast"]]
year_before = total.set_index("month")["actual"].reindex(
    ahead["month"] - pd.DateOffset(years=1)
)
ets = metrics[metrics["model"] == "ets"]
ets_total = ets[ets["category"] == "all"]
beating = int(ets["beats_baselines"].fillna(False).astype(bool).sum())
chosen_k = k_selection[k_selection["is_chosen"]]

cards = st.columns(5)
ui.kpi(
    cards[0],
    f"{len(ahead)}-month forecast",
    ui.money(ahead["forecast"].sum()),
    ui.change(ahead["forecast"].sum(), year_before.sum())
    if year_before.notna().all()
    else None,
    help="Total net revenue forecast for the next months by the ETS model; the "
    "change compares with the same months a year earlier.",
)
ui.kpi(
    cards[1],
    "Backtest MAPE",
    "–" if ets_total.empty else f"{ets_total['mape_pct'].iloc[0]:.1f}%",
    help="Mean absolute percentage error of the ETS forecasts of total revenue in "
    "the rolling-origin backtest over the last 6 months of history (lower is "
    "better).",
)
ui.kpi(
    cards[2],
    "Beats baselines",
    f"{beating} of {len(ets)}",
    help="Series (the total and each category) where ETS has a lower backtest MAPE "
    "than both the seasonal-naive forecast and the 3-month moving average.",
)
ui.kpi(
    cards[3],
    "12-month CLV",
    ui.money(tiers["expected_value"].sum()),
    help="Predicted net revenue of all current customers in the next 12 months "
    "(BG/NBD with Gamma-Gamma, not discounted).",
)
ui.kpi(
    cards[4],
    "Customers at risk",
    ui.count(tiers["at_risk"].sum()),
    help="High past value (historical revenue in the top 20 %) and a probability "
    "of still being active below 0.5.",
)

# ------------------------------------------------------------------- forecast

st.subheader("Revenue forecast")
series = list(dict.fromkeys(forecast["category"]))
picked = st.selectbox(
    "Series", series, format_func=series_name, key="prediction_series"
)
shown = forecast[forecast["category"] == picked]
history = shown[~shown["is_forecast"]]
future = shown[shown["is_forecast"]]
st.caption(
    f"Monthly net revenue of complete months and the next {len(future)} months "
    "forecast by ETS (exponential smoothing with trend and yearly seasonality, on "
    "log revenue), with 80 % and 95 % prediction intervals."
)

# The forecast and its bands start at the last actual month, so they join the line.
last = history.tail(1)
joined = pd.concat(
    [
        pd.DataFrame(
            {
                "month": last["month"],
                **{
                    column: last["actual"]
                    for column in ("forecast", "lo80", "hi80", "lo95", "hi95")
                },
            }
        ),
        future[["month", "forecast", "lo80", "hi80", "lo95", "hi95"]],
    ],
    ignore_index=True,
)
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
ui.chart(fig, height=420)

ui.table(
    future.assign(month=future["month"].dt.strftime("%Y-%m"))[
        ["month", "forecast", "lo80", "hi80", "lo95", "hi95"]
    ],
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

st.subheader("Backtest: ETS against the baselines")
losing = ets[~ets["beats_baselines"].fillna(False).astype(bool)]
forecasts = int(ets["forecasts"].max()) if len(ets) else 0
summary = (
    f"Rolling origin over the last 6 months of history: each model is refitted at "
    f"each origin and forecasts up to 6 months ahead ({forecasts} forecasts per "
    f"series and model). ETS beats both the seasonal-naive forecast (same month last "
    f"year) and the 3-month moving average on {beating} of {len(ets)} series."
)
if len(losing):
    summary += (
        f" On the other {len(losing)} a baseline is as good or better (unticked "
        "below): on short, noisy series the model's many parameters can overfit."
    )
st.caption(summary)

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
    comparison[column] = comparison["category"].map(ets.set_index("category")[column])
comparison["category"] = comparison["category"].replace({"all": "Total"})
percent = {"format": "%.1f%%"}
ui.table(
    comparison,
    "forecast_backtest_mape",
    column_config={
        "category": "Series",
        "ets": st.column_config.NumberColumn("ETS MAPE", **percent),
        "seasonal_naive": st.column_config.NumberColumn(
            "Seasonal naive MAPE", **percent
        ),
        "moving_average_3": st.column_config.NumberColumn(
            "Moving avg (3) MAPE", **percent
        ),
        "best_model": "Best",
        "ets_beats_both": st.column_config.CheckboxColumn("ETS beats both"),
        "coverage80_pct": st.column_config.NumberColumn(
            "In 80 % interval",
            help="Share of backtest actuals inside ETS's 80 % interval "
            "(ideally about 80 %).",
            **percent,
        ),
        "coverage95_pct": st.column_config.NumberColumn(
            "In 95 % interval",
            help="Share of backtest actuals inside ETS's 95 % interval "
            "(ideally about 95 %).",
            **percent,
        ),
    },
)
st.markdown("**MAPE by months ahead** (the series chosen above)")
horizons = loaded["horizons"]
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

# ------------------------------------------------------------------------ CLV

st.subheader("Customer lifetime value and churn risk")
st.caption(
    "Per customer, BG/NBD gives the probability of still being active and the "
    "expected purchases in the next 12 months; Gamma-Gamma the expected value of a "
    "purchase. Predicted value = purchases × value, not discounted. One-time buyers "
    "always have a probability alive of 1 in this model, so churn risk is "
    "meaningful for repeat buyers only."
)
left, right = st.columns([3, 2])
with left:
    st.markdown("**Predicted value per customer, next 12 months**")
    histogram = loaded["histogram"]
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
    ui.chart(fig, height=360)
with right:
    st.markdown("**Share of customers and of predicted value by tier**")
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
    ui.chart(fig, height=360)
st.caption(
    "Tiers by predicted value: high = top 10 % of customers, medium = next 20 %, "
    "low = next 30 %, very low = bottom 40 %."
)
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
        "value_share": st.column_config.NumberColumn("% of value", format="percent"),
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

customer_columns = {
    "clv_rank": st.column_config.NumberColumn("Rank", format="%d"),
    "customer_id": st.column_config.NumberColumn("Id", format="%d"),
    "customer_name": "Customer",
    "email": "Email",
    "region_name": "Region",
    "clv_tier": "Tier",
    "orders": st.column_config.NumberColumn("Orders", format="%,d"),
    "historical_revenue": st.column_config.NumberColumn("Past revenue", format="%,.2f"),
    "last_order_date": st.column_config.DateColumn("Last order"),
    "days_since_last_order": st.column_config.NumberColumn("Days since", format="%,d"),
    "p_alive": st.column_config.ProgressColumn(
        "P(alive)", min_value=0.0, max_value=1.0, format="%.2f"
    ),
    "expected_purchases_12m": st.column_config.NumberColumn(
        "Expected purchases", format="%.1f"
    ),
    "expected_avg_value": st.column_config.NumberColumn(
        "Value per purchase", format="%,.2f"
    ),
    "expected_value_12m": st.column_config.NumberColumn(
        "Predicted value", format="%,.2f"
    ),
}

st.markdown("**Top predicted-value customers**")
TOP_ORDER = [
    "clv_rank",
    "customer_name",
    "expected_value_12m",
    "expected_purchases_12m",
    "expected_avg_value",
    "p_alive",
    "orders",
    "historical_revenue",
    "last_order_date",
    "clv_tier",
    "region_name",
    "customer_id",
]
AT_RISK_ORDER = [
    "customer_name",
    "email",
    "historical_revenue",
    "orders",
    "p_alive",
    "last_order_date",
    "days_since_last_order",
    "expected_value_12m",
    "clv_tier",
    "region_name",
    "customer_id",
]
ui.table(
    loaded["top"][TOP_ORDER],
    "top_predicted_value_customers",
    column_config=customer_columns,
)

st.markdown("**At risk: high past value, low probability alive**")
if len(at_risk):
    st.caption(
        f"{int(at_risk['at_risk_customers'].iloc[0]):,} customers in the top 20 % "
        "by past revenue have a probability of still being active below 0.5; "
        f"together they spent {ui.money(at_risk['at_risk_revenue'].iloc[0])}. "
        + (
            f"The {len(at_risk)} biggest past spenders"
            if len(at_risk) < at_risk["at_risk_customers"].iloc[0]
            else "All of them"
        )
        + ", for win-back actions."
    )
ui.table(
    at_risk[AT_RISK_ORDER],
    "customers_at_risk",
    column_config=customer_columns,
    empty="No customer is at risk: every high-value customer is likely active.",
)

with st.expander("How reliable is the CLV model? Hold-out calibration"):
    calibration = loaded["calibration"]
    if len(calibration):
        overall = calibration[calibration["frequency_group"] == "all"]
        start = calibration["holdout_start_date"].iloc[0]
        end = calibration["holdout_end_date"].iloc[0]
        text = (
            f"The model was fitted on the purchases before {start}, then predicted "
            f"the purchase days from {start} to {end} of the customers known by then."
        )
        if len(overall):
            text += (
                f" In total it predicted {overall['predicted_total'].iloc[0]:,.0f} "
                f"against {overall['actual_total'].iloc[0]:,.0f} actual "
                f"({overall['error_pct'].iloc[0]:+.0f}%): read the predicted value "
                "as a ranking and a rough level."
            )
        st.caption(text)
    groups = calibration[calibration["frequency_group"] != "all"]
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
    ui.chart(fig, height=320)
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
        loaded["parameters"],
        "clv_parameters",
        column_config={
            "model": "Model",
            "fitted_on": "Fitted on",
            "parameter": "Parameter",
            "value": st.column_config.NumberColumn("Value", format="%.4g"),
            "customers": st.column_config.NumberColumn("Customers", format="%,d"),
        },
    )

# ------------------------------------------------------------------- segments

st.subheader("Customer segments (K-means)")
k = int(chosen_k["k"].iloc[0]) if len(chosen_k) else len(profiles)
silhouette = chosen_k["silhouette"].iloc[0] if len(chosen_k) else None
st.caption(
    f"K-means on standardised log recency, frequency and monetary value; k = {k} "
    "chosen by the silhouette score"
    + (f" ({silhouette:.3f})" if silhouette is not None else "")
    + " among 2 to 8. Each cluster is named from its profile."
)
names = ui.safe_text(profiles["segment_name"])
colors = {name: ui.COLORS[i % len(ui.COLORS)] for i, name in enumerate(names)}
left, right = st.columns(2)
with left:
    st.markdown("**Segment sizes**")
    fig = go.Figure()
    for column, label, color, count in (
        ("share_pct", "Share of customers", ui.COLORS[0], "customers"),
        ("revenue_share_pct", "Share of revenue", ui.COLORS[1], None),
    ):
        fig.add_bar(
            x=names,
            y=profiles[column] / 100,
            name=label,
            marker_color=color,
            customdata=profiles[["customers"]] if count else None,
            hovertemplate="%{x}<br>%{y:.1%} of "
            + ("customers (%{customdata[0]:,})" if count else "revenue")
            + "<extra></extra>",
        )
    fig.update_layout(
        barmode="group",
        yaxis_tickformat=".0%",
        xaxis_title=None,
    )
    ui.chart(fig, height=380)
with right:
    points = loaded["points"]
    segmented = int(points["customers"].iloc[0]) if len(points) else 0
    st.markdown(
        f"**Clusters** ({len(points):,} of {segmented:,} customers, on the first two "
        "principal components)"
    )
    shown_points = points.assign(segment=ui.safe_text(points["segment_name"]))
    fig = px.scatter(
        shown_points,
        x="pc1",
        y="pc2",
        color="segment",
        color_discrete_map=colors,
        category_orders={"segment": names},
        custom_data=["customer_id", "recency_days", "frequency", "monetary"],
        labels={
            "pc1": "Principal component 1",
            "pc2": "Principal component 2",
            "segment": "Segment",
        },
        opacity=0.6,
    )
    fig.update_traces(
        marker={"size": 5},
        hovertemplate="Customer %{customdata[0]}<br>%{customdata[1]} days since "
        "last order<br>%{customdata[2]} orders, %{customdata[3]:,.2f}"
        "<extra>%{fullData.name}</extra>",
    )
    ui.chart(fig, height=380)

ui.table(
    profiles,
    "segment_profiles",
    column_config={
        "cluster": st.column_config.NumberColumn("Cluster", format="%d"),
        "segment_name": "Segment",
        "customers": st.column_config.NumberColumn("Customers", format="%,d"),
        "share_pct": st.column_config.NumberColumn("% of customers", format="%.1f%%"),
        "revenue_share_pct": st.column_config.NumberColumn(
            "% of revenue", format="%.1f%%"
        ),
        "median_recency_days": st.column_config.NumberColumn(
            "Median days since order", format="%.0f"
        ),
        "median_frequency": st.column_config.NumberColumn(
            "Median orders", format="%.0f"
        ),
        "median_monetary": st.column_config.NumberColumn(
            "Median revenue", format="%,.2f"
        ),
        "mean_recency_days": st.column_config.NumberColumn(
            "Avg days since order", format="%.0f"
        ),
        "mean_frequency": st.column_config.NumberColumn("Avg orders", format="%.1f"),
        "mean_monetary": st.column_config.NumberColumn("Avg revenue", format="%,.2f"),
        "top_rfm_segment": "Main RFM segment",
        "top_rfm_segment_pct": st.column_config.NumberColumn(
            "% in main RFM segment", format="%.1f%%"
        ),
        "centre_recency_days_z": st.column_config.NumberColumn(
            "Centre: recency (z)", format="%+.2f"
        ),
        "centre_frequency_z": st.column_config.NumberColumn(
            "Centre: frequency (z)", format="%+.2f"
        ),
        "centre_monetary_z": st.column_config.NumberColumn(
            "Centre: monetary (z)", format="%+.2f"
        ),
    },
)

left, right = st.columns([2, 3])
with left:
    st.markdown("**Choice of k**")
    fig = go.Figure()
    fig.add_scatter(
        x=k_selection["k"],
        y=k_selection["silhouette"],
        mode="lines+markers",
        name="Silhouette",
        line={"color": ui.COLORS[0]},
        hovertemplate="k = %{x}<br>Silhouette %{y:.3f}<extra></extra>",
    )
    fig.add_scatter(
        x=chosen_k["k"],
        y=chosen_k["silhouette"],
        mode="markers",
        name="Chosen",
        marker={"color": ui.GOOD, "size": 14, "symbol": "star"},
        hovertemplate="k = %{x} (chosen)<br>Silhouette %{y:.3f}<extra></extra>",
    )
    fig.update_layout(
        xaxis={"title": "Number of clusters k", "dtick": 1},
        yaxis_title="Silhouette score",
        showlegend=False,
    )
    ui.chart(fig, height=260)
    ui.table(
        k_selection,
        "segment_k_selection",
        column_config={
            "k": st.column_config.NumberColumn("k", format="%d"),
            "silhouette": st.column_config.NumberColumn("Silhouette", format="%.3f"),
            "inertia": st.column_config.NumberColumn("Inertia", format="%,.0f"),
            "is_chosen": st.column_config.CheckboxColumn("Chosen"),
        },
    )
with right:
    st.markdown("**Against the rule-based RFM segments**")
    crosstab = loaded["crosstab"]
    st.caption(
        "Each row: how the customers of one rule-based RFM segment (dbt, "
        "`rpt_customer_rfm`) split across the K-means clusters."
    )
    grid = crosstab.pivot_table(
        index="rfm_segment",
        columns="segment_name",
        values="share_of_rfm_segment_pct",
        aggfunc="first",
        fill_value=0.0,
    ).reindex(columns=list(profiles["segment_name"]), fill_value=0.0)
    customers = crosstab.pivot_table(
        index="rfm_segment",
        columns="segment_name",
        values="customers",
        aggfunc="first",
        fill_value=0,
    ).reindex(index=grid.index, columns=grid.columns, fill_value=0)
    fig = go.Figure(
        go.Heatmap(
            z=grid.values / 100,
            x=ui.safe_text(grid.columns),
            y=ui.safe_text(grid.index),
            customdata=customers.values,
            colorscale="Blues",
            zmin=0,
            zmax=1,
            texttemplate="%{z:.0%}",
            colorbar={"title": "Share", "tickformat": ".0%"},
            hovertemplate="RFM %{y} → %{x}<br>%{z:.1%} of the RFM segment "
            "(%{customdata:,} customers)<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis_title="K-means segment",
        yaxis={"title": None, "autorange": "reversed"},
    )
    ui.chart(fig, height=max(300, 32 * len(grid) + 120))
ui.table(
    crosstab,
    "segment_rfm_crosstab",
    column_config={
        "cluster": st.column_config.NumberColumn("Cluster", format="%d"),
        "segment_name": "Segment",
        "rfm_segment": "RFM segment",
        "customers": st.column_config.NumberColumn("Customers", format="%,d"),
        "share_of_cluster_pct": st.column_config.NumberColumn(
            "% of the cluster", format="%.1f%%"
        ),
        "share_of_rfm_segment_pct": st.column_config.NumberColumn(
            "% of the RFM segment", format="%.1f%%"
        ),
    },
)
