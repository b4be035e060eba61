"""Customers: top customers, RFM segments, LTV tiers, outstanding payments."""

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from streamlit_app import sidebar, ui, warehouse
from streamlit_app.queries import costs, customers

f = sidebar.current()
st.title("Customers")

loaded = warehouse.gather(
    top=lambda: customers.top_customers(f),
    segments=customers.rfm_segments,
    tiers=customers.ltv_tiers,
    ageing=customers.payments_ageing,
    unpaid=customers.payments_customer_count,
    outstanding=customers.payments_outstanding,
    coverage=costs.cost_coverage,
)
segments, tiers, ageing, top = (
    loaded["segments"],
    loaded["tiers"],
    loaded["ageing"],
    loaded["top"],
)
in_period = int(top["customers_in_period"].iloc[0]) if len(top) else 0

cards = st.columns(4)
ui.kpi(
    cards[0],
    "Customers with sales",
    ui.count(in_period),
    help="Distinct customers with a sale in the date range and filters.",
)
ui.kpi(
    cards[1],
    "Customers scored (RFM)",
    ui.count(segments["customers"].sum()),
    help="Every customer with at least one sale, scored on their whole history.",
)
ui.kpi(
    cards[2],
    "Amount outstanding",
    ui.money(ageing["amount_due"].sum()),
    help="Orders whose payment is pending or failed.",
)
ui.kpi(
    cards[3],
    "Customers with unpaid orders",
    ui.count(loaded["unpaid"]),
)

money = {
    "customer_name": "Customer",
    "segment": "Segment",
    "region_name": "Region",
    "orders": st.column_config.NumberColumn("Orders", format="%,d"),
    "net_revenue": st.column_config.NumberColumn("Revenue", format="%,.2f"),
    "gross_margin": st.column_config.NumberColumn("Gross margin", format="%,.2f"),
    "avg_order_value": st.column_config.NumberColumn("Avg order", format="%,.2f"),
    "last_order_date": st.column_config.DateColumn("Last order"),
}

st.subheader("Top customers")
if len(top):
    share = top["net_revenue"].sum() / top["net_revenue_in_period"].iloc[0]
    st.caption(
        f"{ui.plain(f.describe())} · the {len(top)} biggest of {in_period:,} "
        "customers bring "
        f"{ui.percent(share)} of the revenue."
    )
ui.table(
    top.drop(columns=["customers_in_period", "net_revenue_in_period"]),
    "top_customers",
    column_config=money | {"customer_id": st.column_config.TextColumn("Id")},
)
ui.margin_note(top["gross_margin"], loaded["coverage"].reason)

st.subheader("RFM segments")
st.caption(
    "Recency, frequency and monetary value scored 1–5 on each customer's whole "
    f"history, as of {segments['as_of_date'].max()} (the sidebar filters do not apply)."
)
left, right = st.columns(2)
with left:
    shown = segments.sort_values("customers")
    fig = go.Figure()
    fig.add_bar(
        y=ui.safe_text(shown["segment_name"]),
        x=shown["customer_share"],
        orientation="h",
        name="Share of customers",
        marker_color=ui.COLORS[0],
        customdata=shown[["customers"]],
        hovertemplate=(
            "%{y}<br>%{x:.1%} of customers (%{customdata[0]:,})<extra></extra>"
        ),
    )
    fig.add_bar(
        y=ui.safe_text(shown["segment_name"]),
        x=shown["net_revenue_share"],
        orientation="h",
        name="Share of revenue",
        marker_color=ui.COLORS[1],
        customdata=shown[["net_revenue"]],
        hovertemplate=(
            "%{y}<br>%{x:.1%} of revenue (%{customdata[0]:,.0f})<extra></extra>"
        ),
    )
    fig.update_layout(barmode="group", xaxis_tickformat=".0%", yaxis_title=None)
    ui.chart(fig, height=max(320, 40 * len(shown) + 100))
with right:
    grid = customers.rfm_grid().pivot_table(
        index="r_score", columns="f_score", values="customers", fill_value=0
    )
    fig = go.Figure(
        go.Heatmap(
            z=grid.values,
            x=[f"F{v}" for v in grid.columns],
            y=[f"R{v}" for v in grid.index],
            colorscale="Blues",
            colorbar={"title": "Customers"},
            hovertemplate=(
                "Recency %{y} · Frequency %{x}<br>%{z:,} customers<extra></extra>"
            ),
        )
    )
    fig.update_layout(
        title="Recency × frequency (5 = best)",
        xaxis_title="Frequency score",
        yaxis_title="Recency score",
    )
    ui.chart(fig, height=max(320, 40 * len(segments) + 100))
ui.table(
    segments[
        [
            "segment_name",
            "customers",
            "customer_share",
            "net_revenue",
            "net_revenue_share",
            "avg_recency_days",
            "avg_lifetime_orders",
            "avg_lifetime_net_revenue",
        ]
    ],
    "rfm_segments",
    column_config={
        "segment_name": "Segment",
        "customers": st.column_config.NumberColumn("Customers", format="%,d"),
        "customer_share": st.column_config.NumberColumn(
            "% of customers", format="percent"
        ),
        "net_revenue": st.column_config.NumberColumn("Revenue", format="%,.2f"),
        "net_revenue_share": st.column_config.NumberColumn(
            "% of revenue", format="percent"
        ),
        "avg_recency_days": st.column_config.NumberColumn(
            "Avg days since order", format="%.0f"
        ),
        "avg_lifetime_orders": st.column_config.NumberColumn(
            "Avg orders", format="%.1f"
        ),
        "avg_lifetime_net_revenue": st.column_config.NumberColumn(
            "Avg revenue", format="%,.2f"
        ),
    },
)

st.subheader("Lifetime value tiers")
left, right = st.columns([2, 3])
with left:
    fig = px.bar(
        tiers,
        x="ltv_tier",
        y="net_revenue",
        color="ltv_tier",
        color_discrete_sequence=ui.COLORS,
        custom_data=["customers", "avg_lifetime_net_revenue"],
        labels={"ltv_tier": "Tier", "net_revenue": "Lifetime revenue"},
    )
    fig.update_traces(
        hovertemplate=(
            "%{x}<br>Revenue %{y:,.0f}<br>%{customdata[0]:,} customers"
            "<br>Average %{customdata[1]:,.0f}<extra></extra>"
        )
    )
    fig.update_layout(showlegend=False)
    ui.chart(fig, height=320)
with right:
    ui.table(
        tiers.drop(columns=["ltv_tier_order"]),
        "ltv_tiers",
        column_config={
            "ltv_tier": "Tier",
            "customers": st.column_config.NumberColumn("Customers", format="%,d"),
            "net_revenue": st.column_config.NumberColumn("Revenue", format="%,.2f"),
            "avg_lifetime_net_revenue": st.column_config.NumberColumn(
                "Avg LTV", format="%,.2f"
            ),
            "avg_lifetime_orders": st.column_config.NumberColumn(
                "Avg orders", format="%.1f"
            ),
            "avg_order_value": st.column_config.NumberColumn(
                "Avg order", format="%,.2f"
            ),
            "avg_tenure_days": st.column_config.NumberColumn(
                "Avg tenure (days)", format="%.0f"
            ),
            "net_revenue_share": st.column_config.NumberColumn(
                "% of revenue", format="percent"
            ),
        },
    )

st.subheader("Pending and failed payments")
if ageing.empty:
    st.success("No pending or failed payments.", icon=":material/check_circle:")
else:
    fig = px.bar(
        ageing,
        x="ageing_bucket",
        y="amount_due",
        color="payment_status",
        barmode="stack",
        color_discrete_map={"pending": ui.WARN, "failed": ui.BAD},
        custom_data=["orders", "customers"],
        category_orders={"ageing_bucket": ["0-7", "8-30", "31-90", "90+"]},
        labels={
            "ageing_bucket": "Days outstanding",
            "amount_due": "Amount due",
            "payment_status": "Payment",
        },
    )
    fig.update_traces(
        hovertemplate=(
            "%{x} days<br>Amount %{y:,.0f}<br>%{customdata[0]:,} orders, "
            "%{customdata[1]:,} customers<extra>%{fullData.name}</extra>"
        )
    )
    ui.chart(fig, height=320)
    ui.table(
        loaded["outstanding"],
        "payments_outstanding",
        column_config={
            "customer_id": st.column_config.TextColumn("Id"),
            "customer_name": "Customer",
            "email": "Email",
            "payment_status": "Payment",
            "ageing_bucket": "Days outstanding",
            "orders": st.column_config.NumberColumn("Orders", format="%,d"),
            "amount_due": st.column_config.NumberColumn("Amount due", format="%,.2f"),
            "max_days_outstanding": st.column_config.NumberColumn("Oldest (days)"),
            "oldest_order_date": st.column_config.DateColumn("Oldest order"),
        },
    )
