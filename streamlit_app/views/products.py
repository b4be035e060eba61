"""Products: top products and categories, category margin by month, slow movers."""

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from streamlit_app import sidebar, ui, warehouse
from streamlit_app.queries import costs, products, sales

TOP_N = 15
f = sidebar.current()
st.title("Products")
st.caption(ui.plain(f.describe()))

loaded = warehouse.gather(
    products=lambda: products.product_sales(f),
    categories=lambda: products.category_sales(f),
    by_month=lambda: sales.category_monthly(f),
    coverage=costs.cost_coverage,
)
why_no_margin = loaded["coverage"].reason
catalog = loaded["products"]
sold = catalog[catalog["units"] > 0]
if sold.empty:
    ui.no_rows()
    st.stop()

categories = loaded["categories"]
top = sold.sort_values(["net_revenue", "product_id"], ascending=[False, True]).head(
    TOP_N
)
unsold = catalog[(catalog["units"] == 0) & catalog["is_active"].astype(bool)]
cards = st.columns(4)
ui.kpi(
    cards[0],
    "Products sold",
    ui.count(len(sold)),
    help="Products with a sale in the range.",
)
ui.kpi(cards[1], "Units sold", ui.count(sold["units"].sum()))
ui.kpi(
    cards[2],
    f"Top {TOP_N} share of revenue",
    ui.percent(top["net_revenue"].sum() / sold["net_revenue"].sum()),
)
ui.kpi(
    cards[3],
    "Active products not sold",
    ui.count(len(unsold)),
    help="Active products without any sale in the range and filters.",
)

money = {
    "net_revenue": st.column_config.NumberColumn("Revenue", format="%,.2f"),
    "gross_margin": st.column_config.NumberColumn("Gross margin", format="%,.2f"),
    "gross_margin_pct": st.column_config.NumberColumn("Margin %", format="%.1f%%"),
    "units": st.column_config.NumberColumn("Units", format="%,d"),
    "order_lines": st.column_config.NumberColumn("Order lines", format="%,d"),
    "net_revenue_share": st.column_config.NumberColumn("Share", format="percent"),
    "stock_quantity": st.column_config.NumberColumn("In stock", format="%,d"),
    "stock_value": st.column_config.NumberColumn("Stock value", format="%,.2f"),
    "days_of_cover": st.column_config.NumberColumn("Days of cover", format="%.0f"),
    "product_name": "Product",
    "sku": "SKU",
    "category": "Category",
    "subcategory": "Subcategory",
    "brand": "Brand",
    "last_sold_date": st.column_config.DateColumn("Last sold"),
}

st.subheader(f"Top {TOP_N} products")
shown = top.iloc[::-1]
fig = go.Figure(
    go.Bar(
        x=shown["net_revenue"],
        y=ui.safe_text(shown["product_name"]),
        orientation="h",
        marker_color=ui.COLORS[0],
        customdata=shown[["units"]].assign(
            margin=ui.margin_labels(shown["gross_margin_pct"]),
            category=ui.safe_text(shown["category"]),
        ),
        hovertemplate=(
            "%{y}<br>%{customdata[2]}<br>Revenue %{x:,.0f}<br>Units %{customdata[0]:,}"
            "<br>Margin %{customdata[1]}<extra></extra>"
        ),
    )
)
fig.update_layout(xaxis_title="Revenue", yaxis_title=None)
ui.chart(fig, height=32 * len(top) + 80)
ui.table(
    top[
        [
            "sku",
            "product_name",
            "category",
            "brand",
            "net_revenue",
            "units",
            "order_lines",
            "gross_margin",
            "gross_margin_pct",
        ]
    ],
    "top_products",
    column_config=money,
)
ui.margin_note(top["gross_margin"], why_no_margin)

st.subheader("Categories")
left, right = st.columns([2, 3])
with left:
    fig = px.pie(
        categories.assign(category=ui.safe_text(categories["category"])),
        names="category",
        values="net_revenue",
        hole=0.5,
        color_discrete_sequence=ui.COLORS,
    )
    fig.update_traces(
        hovertemplate="%{label}<br>Revenue %{value:,.0f}<br>%{percent}<extra></extra>"
    )
    ui.chart(fig, height=340)
with right:
    ui.table(
        categories[
            [
                "category",
                "net_revenue",
                "net_revenue_share",
                "gross_margin",
                "gross_margin_pct",
                "units",
            ]
        ],
        "top_categories",
        column_config=money,
    )
    ui.margin_note(categories["gross_margin"], why_no_margin)

st.subheader("Category margin by month")
by_month = loaded["by_month"]
if by_month["gross_margin_pct"].isna().all():
    st.info(
        f"Gross margin {ui.NOT_AVAILABLE}: {why_no_margin}.", icon=":material/info:"
    )
else:
    fig = px.line(
        by_month.assign(category=ui.safe_text(by_month["category"])),
        x="month_start_date",
        y="gross_margin_pct",
        color="category",
        markers=True,
        labels={
            "month_start_date": "Month",
            "gross_margin_pct": "Gross margin %",
            "category": "Category",
        },
        color_discrete_sequence=ui.COLORS,
    )
    fig.update_traces(
        hovertemplate="%{x|%b %Y}<br>Margin %{y:.1f}%<extra>%{fullData.name}</extra>"
    )
    fig.update_layout(yaxis_ticksuffix="%", hovermode="x unified")
    ui.chart(fig, height=380)
    ui.margin_note(by_month["gross_margin_pct"], why_no_margin, "Margin %")

st.subheader("Slow movers")
st.caption(
    "Active products with the fewest units sold in the range, most stock value first: "
    "candidates for a promotion or delisting."
)
slow = (
    catalog[catalog["is_active"].astype(bool)]
    .sort_values(["units", "stock_value"], ascending=[True, False])
    .head(25)
)
ui.table(
    slow[
        [
            "sku",
            "product_name",
            "category",
            "units",
            "net_revenue",
            "last_sold_date",
            "stock_quantity",
            "stock_value",
            "days_of_cover",
        ]
    ],
    "slow_movers",
    column_config=money,
)
