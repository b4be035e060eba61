"""Overview: headline KPIs against the previous period, revenue trend, movers."""

import plotly.graph_objects as go
import streamlit as st

from streamlit_app import sidebar, ui, warehouse
from streamlit_app.queries import costs, overview

f = sidebar.current()
previous = f.previous()

st.title("Overview")
st.caption(
    f"{ui.plain(f.describe())} · compared with the previous {f.days} days "
    f"({previous.start:%Y-%m-%d} – {previous.end:%Y-%m-%d})"
)

loaded = warehouse.gather(
    now=lambda: overview.kpis(f),
    before=lambda: overview.kpis(previous),
    daily=lambda: overview.daily_sales(f),
    earlier=lambda: overview.daily_sales(previous),
    movers=lambda: overview.movers(f),
    coverage=costs.cost_coverage,
)
now, before = loaded["now"], loaded["before"]
cards = st.columns(5)
ui.kpi(
    cards[0],
    "Revenue",
    ui.money(now.net_revenue),
    ui.change(now.net_revenue, before.net_revenue),
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
    ui.money2(now.avg_order_value),
    ui.change(now.avg_order_value, before.avg_order_value),
    help="Revenue / orders.",
)
margin_known = now.gross_margin is not None
ui.kpi(
    cards[4],
    "Gross margin",
    ui.percentage(now.gross_margin_pct) if margin_known else ui.NOT_AVAILABLE,
    ui.points(now.gross_margin_pct, before.gross_margin_pct),
    help="Gross margin / revenue (margin = revenue − cost of goods).",
)
if now.orders and not margin_known:
    st.caption(
        f"Gross margin {ui.NOT_AVAILABLE}: {loaded['coverage'].reason} "
        "(a margin is only shown when every sale in it has a unit cost)."
    )

if now.orders == 0:
    ui.no_rows()
    st.stop()

st.subheader("Revenue trend")
daily, earlier = loaded["daily"], loaded["earlier"]
window = 7 if f.days <= 120 else 28
daily["average"] = daily["net_revenue"].rolling(window, min_periods=1).mean()
earlier["average"] = earlier["net_revenue"].rolling(window, min_periods=1).mean()
fig = go.Figure()
fig.add_bar(
    x=daily["order_date"],
    y=daily["net_revenue"],
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
st.caption(
    "Biggest revenue movers against the previous period, by category, channel and "
    "region."
)
changes = loaded["movers"]
columns = st.columns(3)
for column, (by, title) in zip(
    columns,
    (("category", "By category"), ("channel", "By channel"), ("region", "By region")),
    strict=True,
):
    with column:
        top = changes[changes["dimension"] == by].head(8).iloc[::-1]
        bars = go.Figure(
            go.Bar(
                x=top["change"],
                y=ui.safe_text(top["name"]),
                orientation="h",
                marker_color=[ui.GOOD if v >= 0 else ui.BAD for v in top["change"]],
                customdata=top[["net_revenue", "previous_net_revenue"]],
                hovertemplate=(
                    "%{y}<br>Change %{x:+,.0f}<br>Now %{customdata[0]:,.0f}"
                    "<br>Before %{customdata[1]:,.0f}<extra></extra>"
                ),
            )
        )
        bars.update_layout(title=title, xaxis_title="Revenue change", yaxis_title=None)
        ui.chart(bars, height=320)

ui.table(
    changes,
    "overview_movers",
    column_config={
        "dimension": "Dimension",
        "name": "Name",
        "net_revenue": st.column_config.NumberColumn("Revenue", format="%,.0f"),
        "previous_net_revenue": st.column_config.NumberColumn(
            "Previous period", format="%,.0f"
        ),
        "change": st.column_config.NumberColumn("Change", format="%+,.0f"),
        "change_pct": st.column_config.NumberColumn("Change %", format="percent"),
    },
)
