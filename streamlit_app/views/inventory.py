"""Inventory: stock by category, below-reorder list with days of cover, stock value."""

import plotly.graph_objects as go
import streamlit as st

from streamlit_app import sidebar, ui, warehouse
from streamlit_app.queries import costs, inventory

NOT_TRACKED = "not_tracked"

f = sidebar.current()
st.title("Inventory")

loaded = warehouse.gather(
    stock=lambda: inventory.inventory(f),
    changes=lambda: inventory.stock_changes(f),
    changed=lambda: inventory.stock_products(f),
    coverage=costs.cost_coverage,
)
stock = loaded["stock"]
if stock.empty:
    ui.no_rows("No active products in these categories.")
    st.stop()

as_of = stock["as_of_date"].max()
st.caption(
    f"Current stock of active products; sales rates over the 30 days up to {as_of}. "
    "Only the category filter applies here."
    + (f" Categories: {', '.join(f.categories)}." if f.categories else "")
)
# a product without a stock level in the data is not tracked (never out of stock)
not_tracked = stock[stock["stock_status"] == NOT_TRACKED]
stock = stock[stock["stock_status"] != NOT_TRACKED]
below = stock[stock["is_below_reorder"].eq(True)].sort_values(
    ["days_of_cover", "reorder_gap"], ascending=[True, False], na_position="last"
)
cards = st.columns(4)
if stock.empty:
    labels = ("Stock value", "Units in stock", "Below reorder point", "Out of stock")
    for column, label in zip(cards, labels, strict=True):
        ui.kpi(column, label, "not tracked")
    st.info(
        "Inventory is not tracked: the data has no stock levels for these products, "
        "so there is no stock, reorder or stock-history figure to show.",
        icon=":material/inventory_2:",
    )
    st.stop()
stock_value = None if stock["stock_value"].isna().any() else stock["stock_value"].sum()
ui.kpi(
    cards[0],
    "Stock value",
    ui.NOT_AVAILABLE if stock_value is None else ui.money(stock_value),
    help="Units × unit cost.",
)
ui.kpi(cards[1], "Units in stock", ui.count(stock["stock_quantity"].sum()))
ui.kpi(
    cards[2],
    "Below reorder point",
    ui.count(len(below)),
    help="Products whose stock is under their reorder point.",
)
ui.kpi(
    cards[3],
    "Out of stock",
    ui.count(int((stock["stock_status"] == "out_of_stock").sum())),
)
if len(not_tracked):
    st.caption(
        f"{len(not_tracked):,} products are not tracked (no stock level in the data) "
        "and are left out of these figures."
    )
if stock_value is None:
    st.caption(f"Stock value {ui.NOT_AVAILABLE}: {loaded['coverage'].reason}.")

st.subheader("Stock by category")
by_category = (
    stock.groupby("category", as_index=False)
    .agg(
        products=("product_id", "count"),
        units=("stock_quantity", "sum"),
        stock_value=("stock_value", "sum"),
        below_reorder=("is_below_reorder", lambda v: int(v.eq(True).sum())),
    )
    .sort_values("stock_value", ascending=False)
)
shown = by_category.iloc[::-1]
fig = go.Figure(
    go.Bar(
        x=shown["stock_value"],
        y=ui.safe_text(shown["category"]),
        orientation="h",
        marker_color=ui.COLORS[0],
        customdata=shown[["units", "products", "below_reorder"]],
        hovertemplate=(
            "%{y}<br>Stock value %{x:,.0f}<br>%{customdata[0]:,} units in "
            "%{customdata[1]:,} products<br>%{customdata[2]:,} below reorder point"
            "<extra></extra>"
        ),
    )
)
fig.update_layout(xaxis_title="Stock value", yaxis_title=None)
ui.chart(fig, height=max(260, 34 * len(by_category) + 80))
ui.table(
    by_category,
    "stock_by_category",
    column_config={
        "category": "Category",
        "products": st.column_config.NumberColumn("Products", format="%,d"),
        "units": st.column_config.NumberColumn("Units", format="%,d"),
        "stock_value": st.column_config.NumberColumn("Stock value", format="%,.2f"),
        "below_reorder": st.column_config.NumberColumn("Below reorder", format="%,d"),
    },
)

st.subheader("Below reorder point")
st.caption(
    "Sorted by days of cover: stock ÷ average units sold per day over the last 30 "
    "days (empty when nothing sold)."
)
columns = {
    "sku": "SKU",
    "product_name": "Product",
    "category": "Category",
    "stock_status": "Status",
    "stock_quantity": st.column_config.NumberColumn("In stock", format="%,d"),
    "reorder_point": st.column_config.NumberColumn("Reorder point", format="%,d"),
    "reorder_gap": st.column_config.NumberColumn("Short by", format="%,d"),
    "units_sold_30d": st.column_config.NumberColumn("Sold, 30 days", format="%,d"),
    "days_of_cover": st.column_config.NumberColumn("Days of cover", format="%.1f"),
    "stock_value": st.column_config.NumberColumn("Stock value", format="%,.2f"),
}
ui.table(
    below[list(columns)],
    "below_reorder",
    column_config=columns,
    empty="No product is below its reorder point.",
)

st.subheader("Recent stock movements")
st.caption("Changes of stock level recorded by the product snapshots, newest first.")
changes = loaded["changes"]
ui.table(
    changes,
    "stock_movements",
    column_config={
        "changed_at": st.column_config.DatetimeColumn(
            "Changed at", format="YYYY-MM-DD HH:mm"
        ),
        "sku": "SKU",
        "product_name": "Product",
        "category": "Category",
        "stock_quantity": st.column_config.NumberColumn("Stock", format="%,d"),
        "stock_change": st.column_config.NumberColumn("Change", format="%+d"),
        "reorder_point": st.column_config.NumberColumn("Reorder point", format="%,d"),
        "is_below_reorder": "Below reorder",
    },
    empty="No stock change recorded yet (snapshots record one after each build).",
)

st.subheader("Stock history of a product")
changed = loaded["changed"]
if changed.empty:
    st.info(
        "No product's stock has changed since the first build yet.",
        icon=":material/info:",
    )
else:
    names = {
        str(row.product_id): f"{row.product_name} ({row.sku}, {row.versions} levels)"
        for row in changed.itertuples(index=False)
    }
    product = st.selectbox(
        "Product", list(names), format_func=names.get, key="inventory_product"
    )
    history = inventory.stock_history(product)
    fig = go.Figure()
    fig.add_scatter(
        x=history["valid_from"],
        y=history["stock_quantity"],
        name="Stock",
        line={"shape": "hv", "color": ui.COLORS[0], "width": 3},
        hovertemplate="%{x|%Y-%m-%d %H:%M}<br>Stock %{y:,}<extra></extra>",
    )
    fig.add_scatter(
        x=history["valid_from"],
        y=history["reorder_point"],
        name="Reorder point",
        line={"shape": "hv", "color": ui.BAD, "dash": "dot"},
        hovertemplate="%{x|%Y-%m-%d %H:%M}<br>Reorder point %{y:,}<extra></extra>",
    )
    fig.update_layout(yaxis_title="Units", xaxis_title=None, hovermode="x unified")
    ui.chart(fig, height=320)
