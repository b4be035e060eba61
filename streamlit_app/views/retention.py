"""Retention: monthly cohort heatmaps (customers and revenue) and survival curves."""

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from streamlit_app import sidebar, ui
from streamlit_app.queries import retention

MAX_MONTHS = 24
f = sidebar.current()
st.title("Retention")
st.caption(
    f"Customers grouped by the month of their first purchase, for first purchases "
    f"from {f.start:%b %Y} to {f.end:%b %Y}. Only the date range applies here."
)

frame = retention.cohorts(f)
if frame.empty:
    ui.no_rows("No customer made a first purchase in this date range.")
    st.stop()

frame = frame[frame["months_since_first_order"] <= MAX_MONTHS]
sizes = frame[frame["months_since_first_order"] == 0]


def weighted_retention(month: int) -> float | None:
    """Share of customers active in month N, over cohorts old enough to have one."""
    rows = frame[frame["months_since_first_order"] == month]
    total = rows["cohort_size"].sum()
    return rows["active_customers"].sum() / total if total else None


cards = st.columns(4)
ui.kpi(cards[0], "Cohorts", ui.count(len(sizes)))
ui.kpi(cards[1], "New customers", ui.count(sizes["cohort_size"].sum()))
ui.kpi(
    cards[2],
    "Month-1 retention",
    ui.percent(weighted_retention(1)),
    help="Share of new customers who bought again in the month after their first, "
    "over all cohorts shown (weighted by cohort size).",
)
ui.kpi(cards[3], "Month-3 retention", ui.percent(weighted_retention(3)))

measure = st.segmented_control(
    "Heatmap",
    ["Customers retained", "Revenue retained"],
    default="Customers retained",
    key="retention_measure",
)
column, hover = (
    ("net_revenue_retention", "Revenue %{z:.1%} of month 0<br>%{customdata:,.0f}")
    if measure == "Revenue retained"
    else ("retention", "%{z:.1%} active<br>%{customdata:,} customers")
)
values = frame.pivot_table(
    index="cohort_year_month", columns="months_since_first_order", values=column
)
detail = frame.pivot_table(
    index="cohort_year_month",
    columns="months_since_first_order",
    values="net_revenue" if measure == "Revenue retained" else "active_customers",
)
fig = go.Figure(
    go.Heatmap(
        z=values.values,
        x=[str(m) for m in values.columns],
        y=list(values.index),
        customdata=detail.values,
        colorscale="Blues",
        zmin=0,
        zmax=1 if measure != "Revenue retained" else None,
        colorbar={"title": "Retained", "tickformat": ".0%"},
        hovertemplate="Cohort %{y} · month %{x}<br>" + hover + "<extra></extra>",
    )
)
fig.update_layout(
    xaxis_title="Months since first purchase",
    yaxis_title="Cohort (first purchase month)",
    yaxis={"autorange": "reversed", "type": "category"},
)
ui.chart(fig, height=max(360, 22 * len(values) + 140))

st.subheader("Survival curves")
st.caption("Share of each cohort still buying N months after its first purchase.")
recent = sizes["cohort_year_month"].tail(12)
curves = frame[frame["cohort_year_month"].isin(recent)]
fig = px.line(
    curves,
    x="months_since_first_order",
    y="retention",
    color="cohort_year_month",
    markers=True,
    labels={
        "months_since_first_order": "Months since first purchase",
        "retention": "Active share",
        "cohort_year_month": "Cohort",
    },
    color_discrete_sequence=px.colors.sequential.Viridis,
)
fig.update_traces(
    hovertemplate="Month %{x}<br>%{y:.1%} active<extra>%{fullData.name}</extra>"
)
fig.update_layout(yaxis_tickformat=".0%")
ui.chart(fig, height=380)

ui.table(
    frame[
        [
            "cohort_year_month",
            "months_since_first_order",
            "cohort_size",
            "active_customers",
            "retention",
            "orders",
            "net_revenue",
            "net_revenue_retention",
            "cumulative_net_revenue_per_customer",
        ]
    ],
    "cohort_retention",
    column_config={
        "cohort_year_month": "Cohort",
        "months_since_first_order": "Month",
        "cohort_size": st.column_config.NumberColumn("Cohort size", format="%,d"),
        "active_customers": st.column_config.NumberColumn("Active", format="%,d"),
        "retention": st.column_config.NumberColumn("Retention", format="percent"),
        "orders": st.column_config.NumberColumn("Orders", format="%,d"),
        "net_revenue": st.column_config.NumberColumn("Revenue", format="%,.2f"),
        "net_revenue_retention": st.column_config.NumberColumn(
            "Revenue vs month 0", format="percent"
        ),
        "cumulative_net_revenue_per_customer": st.column_config.NumberColumn(
            "Cumulative revenue / customer", format="%,.2f"
        ),
    },
)
