"""Overview: headline KPIs against the previous period, revenue trend, movers."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from streamlit_app import data, sidebar, ui

f = sidebar.current()
previous = f.previous()

st.title("Overview")
st.caption(
    f"{f.describe()} · compared with the previous {f.days} days "
    f"({previous.start:%Y-%m-%d} – {previous.end:%Y-%m-%d})"
)

now = data.kpis(f)
before = data.kpis(previous)
cards = st.columns(5)
ui.kpi(
    cards[0],
    "Revenue",
    ui.money(now.revenue),
    ui.change(now.revenue, before.revenue),
    help="Net revenue of sales (after discounts, before shipping and tax).",
)
ui.kpi(
    cards[1],
    "Orders",
    ui.count(now.orders),
    ui.change(now.orders, before.orders),
    help="Orders that count as sales (not cancelled, failed or returned).",
)
ui.kpi(
    cards[2],
    "Customers",
    ui.count(now.customers),
    ui.change(now.customers, before.customers),
    help="Distinct customers with at least one sale.",
)
ui.kpi(
    cards[3],
    "Average order value",
    ui.money2(now.aov),
    ui.change(now.aov, before.aov),
    help="Revenue / orders.",
)
ui.kpi(
    cards[4],
    "Gross margin",
    ui.percent(now.margin_ratio),
    ui.points(now.margin_ratio, before.margin_ratio),
    help="Gross margin / revenue (margin = revenue − cost of goods).",
)

if now.orders == 0:
    ui.no_rows()
    st.stop()

st.subheader("Revenue trend")
daily = data.daily_sales(f)
earlier = data.daily_sales(previous)
window = 7 if f.days <= 120 else 28
daily["average"] = daily["revenue"].rolling(window, min_periods=1).mean()
earlier["average"] = earlier["revenue"].rolling(window, min_periods=1).mean()
fig = go.Figure()
fig.add_bar(
    x=daily["order_date"],
    y=daily["revenue"],
    name="Daily revenue",
    marker_color=ui.COLORS[0],
    opacity=0.35,
    hovertemplate="%{x|%a %Y-%m-%d}<br>Revenue %{y:,.0f}<extra></extra>",
)
fig.add_scatter(
    x=daily["order_date"],
    y=daily["average"],
    name=f"{window}-day average",
    line={"color": ui.COLORS[0], "width": 3},
    hovertemplate="%{x|%Y-%m-%d}<br>Average %{y:,.0f}<extra></extra>",
)
if len(earlier) == len(daily):
    fig.add_scatter(
        x=daily["order_date"],
        y=earlier["average"],
        customdata=earlier["order_date"],
        name=f"{window}-day average, previous period",
        line={"color": ui.COLORS[2], "width": 2, "dash": "dot"},
        hovertemplate="%{customdata|%Y-%m-%d}<br>Average %{y:,.0f}<extra></extra>",
    )
fig.update_layout(yaxis_title="Revenue", xaxis_title=None, hovermode="x unified")
ui.chart(fig, height=380)

st.subheader("What changed")
st.caption("Biggest revenue movers against the previous period.")
left, right = st.columns(2)
movers = []
for column, (by, title) in zip(
    (left, right), (("category", "By category"), ("channel", "By channel")), strict=True
):
    frame = data.movers(f, by)
    movers.append(frame)
    with column:
        top = frame.head(8).iloc[::-1]
        labels = ui.safe_text(top["name"])
        bars = go.Figure(
            go.Bar(
                x=top["change"],
                y=labels,
                orientation="h",
                marker_color=[ui.GOOD if v >= 0 else ui.BAD for v in top["change"]],
                customdata=top[["revenue", "previous_revenue"]],
                hovertemplate=(
                    "%{y}<br>Change %{x:+,.0f}<br>Now %{customdata[0]:,.0f}"
                    "<br>Before %{customdata[1]:,.0f}<extra></extra>"
                ),
            )
        )
        bars.update_layout(title=title, xaxis_title="Revenue change", yaxis_title=None)
        ui.chart(bars, height=320)

changes = pd.concat(movers, ignore_index=True)
ui.table(
    changes.rename(
        columns={
            "dimension": "Dimension",
            "name": "Name",
            "revenue": "Revenue",
            "previous_revenue": "Previous period",
            "change": "Change",
            "change_pct": "Change %",
        }
    ),
    "overview_movers",
    column_config={
        "Revenue": st.column_config.NumberColumn(format="%,.0f"),
        "Previous period": st.column_config.NumberColumn(format="%,.0f"),
        "Change": st.column_config.NumberColumn(format="%+,.0f"),
        "Change %": st.column_config.NumberColumn(format="percent"),
    },
)
