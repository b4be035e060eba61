"""Sales: daily, monthly and cumulative revenue, growth, channels, regions, seasons."""

import plotly.graph_objects as go
import streamlit as st

from streamlit_app import sidebar, ui, warehouse
from streamlit_app.queries import costs, overview, sales

f = sidebar.current()
st.title("Sales")
st.caption(ui.plain(f.describe()))

loaded = warehouse.gather(
    daily=lambda: overview.daily_sales(f),
    monthly=lambda: sales.monthly_sales(f),
    channels=lambda: sales.sales_by_channel(f),
    by_month=lambda: sales.category_monthly(f),
    season=lambda: sales.category_seasonality(f),
    coverage=costs.cost_coverage,
)
why_no_margin = loaded["coverage"].reason
daily, monthly = loaded["daily"], loaded["monthly"]
net_revenue = float(daily["net_revenue"].sum())
if net_revenue == 0:
    ui.no_rows()
    st.stop()

latest = monthly.iloc[-1]
cards = st.columns(4)
ui.kpi(
    cards[0], "Revenue", ui.money(net_revenue), help="Net revenue in the date range."
)
ui.kpi(cards[1], "Average per day", ui.money(net_revenue / len(daily)))
ui.kpi(
    cards[2],
    f"MoM growth, {latest['month_start_date']:%b %Y}",
    ui.percent(latest["mom_growth"]),
    help="Revenue of the latest month in the range against the month before "
    "(whole calendar months; the latest month may still be running).",
)
ui.kpi(
    cards[3],
    f"YoY growth, {latest['month_start_date']:%b %Y}",
    ui.percent(latest["yoy_growth"]),
    help="Revenue of the latest month against the same month a year earlier.",
)

st.subheader("Daily and cumulative revenue")
cumulative = daily["net_revenue"].cumsum()
fig = go.Figure()
fig.add_scatter(
    x=daily["order_date"],
    y=daily["net_revenue"],
    name="Daily revenue",
    line={"color": ui.COLORS[0], "width": 1.5},
    hovertemplate="%{x|%a %Y-%m-%d}<br>Revenue %{y:,.2f}<extra></extra>",
)
fig.add_scatter(
    x=daily["order_date"],
    y=cumulative,
    name="Cumulative revenue",
    yaxis="y2",
    line={"color": ui.COLORS[2], "width": 3},
    hovertemplate="%{x|%Y-%m-%d}<br>Cumulative %{y:,.0f}<extra></extra>",
)
fig.update_layout(
    yaxis={"title": "Daily revenue"},
    yaxis2={
        "title": "Cumulative revenue",
        "overlaying": "y",
        "side": "right",
        "showgrid": False,
        "rangemode": "tozero",
    },
    hovermode="x unified",
)
ui.chart(fig, height=360)

st.subheader("Monthly revenue and growth")
st.caption(
    "Whole calendar months touching the date range; growth compares each month "
    "with the month before (MoM) and the same month a year earlier (YoY)."
)
fig = go.Figure()
fig.add_bar(
    x=monthly["month_start_date"],
    y=monthly["net_revenue"],
    name="Revenue",
    marker_color=ui.COLORS[0],
    hovertemplate="%{x|%b %Y}<br>Revenue %{y:,.0f}<extra></extra>",
)
for column, name, color in (
    ("mom_growth", "MoM growth", ui.COLORS[1]),
    ("yoy_growth", "YoY growth", ui.COLORS[2]),
):
    fig.add_scatter(
        x=monthly["month_start_date"],
        y=monthly[column],
        name=name,
        yaxis="y2",
        mode="lines+markers",
        line={"color": color},
        hovertemplate="%{x|%b %Y}<br>" + name + " %{y:+.1%}<extra></extra>",
    )
fig.update_layout(
    yaxis={"title": "Revenue"},
    yaxis2={
        "title": "Growth",
        "overlaying": "y",
        "side": "right",
        "tickformat": "+.0%",
        "showgrid": False,
    },
    hovermode="x unified",
)
ui.chart(fig, height=380)
ui.table(
    monthly.assign(month=monthly["month_start_date"].dt.strftime("%Y-%m"))[
        [
            "month",
            "net_revenue",
            "gross_margin",
            "units",
            "mom_growth",
            "yoy_growth",
            "cumulative_net_revenue",
        ]
    ],
    "sales_monthly",
    column_config={
        "month": "Month",
        "net_revenue": st.column_config.NumberColumn("Revenue", format="%,.2f"),
        "gross_margin": st.column_config.NumberColumn("Gross margin", format="%,.2f"),
        "units": st.column_config.NumberColumn("Units", format="%,d"),
        "mom_growth": st.column_config.NumberColumn("MoM", format="percent"),
        "yoy_growth": st.column_config.NumberColumn("YoY", format="percent"),
        "cumulative_net_revenue": st.column_config.NumberColumn(
            "Cumulative revenue", format="%,.2f"
        ),
    },
)
ui.margin_note(monthly["gross_margin"], why_no_margin)

st.subheader("Revenue by channel and region")
left, right = st.columns(2)
channels = loaded["channels"]
regions = sales.sales_by_region(f)  # same query as the channels: from the cache
for column, frame, label, title in (
    (left, channels, "channel_name", "Channels"),
    (right, regions, "region_name", "Regions, ranked"),
):
    with column:
        shown = frame.iloc[::-1]
        fig = go.Figure(
            go.Bar(
                x=shown["net_revenue"],
                y=ui.safe_text(shown[label]),
                orientation="h",
                marker_color=ui.COLORS[0],
                customdata=shown[["net_revenue_share"]].assign(
                    margin=ui.margin_labels(shown["gross_margin_pct"])
                ),
                hovertemplate=(
                    "%{y}<br>Revenue %{x:,.0f}<br>Share %{customdata[0]:.1%}"
                    "<br>Margin %{customdata[1]}<extra></extra>"
                ),
            )
        )
        fig.update_layout(title=title, xaxis_title="Revenue", yaxis_title=None)
        ui.chart(fig, height=max(260, 32 * len(frame) + 80))
share_config = {
    "net_revenue": st.column_config.NumberColumn("Revenue", format="%,.2f"),
    "gross_margin": st.column_config.NumberColumn("Gross margin", format="%,.2f"),
    "units": st.column_config.NumberColumn("Units", format="%,d"),
    "net_revenue_share": st.column_config.NumberColumn("Share", format="percent"),
    "gross_margin_pct": st.column_config.NumberColumn("Margin %", format="%.1f%%"),
}
with left:
    ui.table(
        channels,
        "sales_by_channel",
        column_config={
            "channel_name": "Channel",
            "channel_type": "Type",
            **share_config,
        },
    )
with right:
    ui.table(
        regions,
        "sales_by_region",
        column_config={"region_name": "Region", **share_config},
    )
ui.margin_note(channels["gross_margin"], why_no_margin)

st.subheader("Revenue by category and month")
by_month = loaded["by_month"]
if by_month.empty:
    ui.no_rows()
else:
    grid = by_month.pivot_table(
        index="category", columns="month_start_date", values="net_revenue", fill_value=0
    )
    fig = go.Figure(
        go.Heatmap(
            z=grid.values,
            x=grid.columns,
            y=ui.safe_text(grid.index),
            colorscale="Blues",
            colorbar={"title": "Revenue"},
            hovertemplate="%{y}<br>%{x|%b %Y}<br>Revenue %{z:,.0f}<extra></extra>",
        )
    )
    fig.update_layout(xaxis_title=None, yaxis_title=None)
    ui.chart(fig, height=max(300, 28 * len(grid) + 120))
    ui.table(
        by_month.assign(month=by_month["month_start_date"].dt.strftime("%Y-%m"))[
            [
                "category",
                "month",
                "net_revenue",
                "gross_margin",
                "units",
                "gross_margin_pct",
            ]
        ],
        "sales_category_month",
        column_config={"category": "Category", "month": "Month", **share_config},
    )
    ui.margin_note(by_month["gross_margin"], why_no_margin)

st.subheader("Seasonality index by month of year")
st.caption(
    "Each category's revenue in a calendar month divided by its average month, "
    "averaged over every year of history (1.0 = an average month). Only the "
    "category filter applies."
)
season = loaded["season"]
if season.empty:
    ui.no_rows()
else:
    index = season.pivot_table(
        index="category", columns="month_of_year", values="seasonality_index"
    )
    names = season.drop_duplicates("month_of_year").set_index("month_of_year")
    fig = go.Figure(
        go.Heatmap(
            z=index.values,
            x=[names.loc[m, "month_name"] for m in index.columns],
            y=ui.safe_text(index.index),
            colorscale="RdBu",
            zmid=1,
            colorbar={"title": "Index"},
            hovertemplate="%{y} · %{x}<br>Index %{z:.2f}<extra></extra>",
        )
    )
    fig.update_layout(xaxis_title=None, yaxis_title=None)
    ui.chart(fig, height=max(300, 28 * len(index) + 120))
    ui.table(
        season,
        "sales_seasonality",
        column_config={
            "category": "Category",
            "month_of_year": None,
            "month_name": "Month",
            "net_revenue": st.column_config.NumberColumn("Revenue", format="%,.2f"),
            "avg_net_revenue": st.column_config.NumberColumn(
                "Average per year", format="%,.2f"
            ),
            "seasonality_index": st.column_config.NumberColumn("Index", format="%.2f"),
            "years_observed": st.column_config.NumberColumn("Years", format="%d"),
        },
    )
