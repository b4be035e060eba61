"""Market basket: association rules with filters, "frequently bought together"."""

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from streamlit_app import sidebar, ui, warehouse
from streamlit_app.queries import basket

f = sidebar.current()
st.title("Market basket")
st.caption(
    "Products bought in the same order, over the whole order history. A rule "
    "A → B reads: baskets with A also hold B. Support = share of baskets with both; "
    "confidence = share of A's baskets that hold B; lift > 1 = bought together "
    "more often than chance. The category filter applies to either side."
)

loaded = warehouse.gather(
    summary=basket.basket_summary,
    products=basket.basket_products,
    by_category=basket.category_rules,
)
summary = loaded["summary"]
if not summary["rules"]:
    st.info(
        "No pairs to show: no two products are bought together more often than "
        "chance (lift above 1) in the order history, so there is no rule yet.",
        icon=":material/info:",
    )
    st.stop()

cards = st.columns(4)
ui.kpi(cards[0], "Rules", ui.count(summary["rules"]))
ui.kpi(cards[1], "Products with rules", ui.count(summary["products"]))
ui.kpi(cards[2], "Highest lift", f"{summary['max_lift']:,.1f}")
ui.kpi(cards[3], "Baskets analysed", ui.count(summary["baskets"]))

st.subheader("Frequently bought together")
products = loaded["products"]
labels = {
    str(row.product_id): f"{row.product_name} ({row.category})"
    for row in products.itertuples(index=False)
}
if f.categories:
    in_categories = products[products["category"].isin(f.categories)]
    choices = [str(p) for p in in_categories["product_id"]] or list(labels)
else:
    choices = list(labels)
picked = st.selectbox(
    "Product",
    choices,
    format_func=labels.get,
    key="basket_product",
    help="Products that start at least one rule, most frequently bought first.",
)
together = basket.bought_together(picked)
if together.empty:
    ui.no_rows("No rule starts from this product.")
else:
    shown = together.iloc[::-1]
    fig = go.Figure(
        go.Bar(
            x=shown["confidence"],
            y=ui.safe_text(shown["product_name"]),
            orientation="h",
            marker_color=ui.COLORS[0],
            customdata=shown[["lift", "pair_count"]],
            hovertemplate=(
                "%{y}<br>Confidence %{x:.1%}<br>Lift %{customdata[0]:.2f}"
                "<br>%{customdata[1]:,} baskets together<extra></extra>"
            ),
        )
    )
    fig.update_layout(
        xaxis_title="Share of this product's baskets that also hold it",
        xaxis_tickformat=".0%",
        yaxis_title=None,
    )
    ui.chart(fig, height=32 * len(together) + 90)
    ui.table(
        together,
        "bought_together",
        column_config={
            "product_id": None,
            "product_name": "Also bought",
            "category": "Category",
            "pair_count": st.column_config.NumberColumn(
                "Baskets together", format="%,d"
            ),
            "confidence": st.column_config.NumberColumn("Confidence", format="percent"),
            "lift": st.column_config.NumberColumn("Lift", format="%.2f"),
            "support": st.column_config.NumberColumn("Support", format="%.4f"),
        },
    )

st.subheader("Association rules")
left, middle, right = st.columns(3)
min_support = left.number_input(
    "Minimum support",
    min_value=0.0,
    max_value=1.0,
    value=0.0,
    step=0.0005,
    format="%.4f",
    key="basket_min_support",
)
min_confidence = middle.slider(
    "Minimum confidence", 0.0, 1.0, 0.0, 0.05, key="basket_min_confidence"
)
min_lift = right.number_input(
    "Minimum lift", min_value=0.0, value=1.0, step=0.5, key="basket_min_lift"
)
rules = basket.basket_rules(
    f, min_support=min_support, min_confidence=min_confidence, min_lift=min_lift
)
st.caption(f"{len(rules):,} rules shown (the 500 with the highest lift at most).")
if not rules.empty:
    fig = px.scatter(
        rules.assign(
            rule=ui.safe_text(
                rules["antecedent_product_name"]
                + " → "
                + rules["consequent_product_name"]
            )
        ),
        x="support",
        y="confidence",
        size="lift",
        color="lift",
        color_continuous_scale="Viridis",
        hover_name="rule",
        hover_data={"support": ":.4f", "confidence": ":.1%", "lift": ":.2f"},
        labels={"support": "Support", "confidence": "Confidence", "lift": "Lift"},
    )
    fig.update_layout(yaxis_tickformat=".0%")
    ui.chart(fig, height=380)
ui.table(
    rules.drop(columns=["antecedent_product_id", "consequent_product_id"]),
    "basket_rules",
    column_config={
        "rule_rank": st.column_config.NumberColumn("Rank", format="%d"),
        "antecedent_product_name": "If bought",
        "antecedent_category": "Category",
        "consequent_product_name": "Then also",
        "consequent_category": "Category ",
        "pair_count": st.column_config.NumberColumn("Baskets", format="%,d"),
        "support": st.column_config.NumberColumn("Support", format="%.4f"),
        "confidence": st.column_config.NumberColumn("Confidence", format="percent"),
        "lift": st.column_config.NumberColumn("Lift", format="%.2f"),
    },
    empty="No rule passes these thresholds.",
)

st.subheader("Between categories")
by_category = loaded["by_category"]
if by_category.empty:
    ui.no_rows("No category rules yet.")
else:
    grid = by_category.pivot_table(
        index="antecedent_category", columns="consequent_category", values="lift"
    )
    fig = go.Figure(
        go.Heatmap(
            z=grid.values,
            x=ui.safe_text(grid.columns),
            y=ui.safe_text(grid.index),
            colorscale="RdBu",
            zmid=1,
            colorbar={"title": "Lift"},
            hovertemplate="%{y} → %{x}<br>Lift %{z:.2f}<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis_title="Then also (category)", yaxis_title="If bought (category)"
    )
    ui.chart(fig, height=max(320, 34 * len(grid) + 140))
    ui.table(
        by_category,
        "basket_category_rules",
        column_config={
            "antecedent_category": "If bought",
            "consequent_category": "Then also",
            "pair_count": st.column_config.NumberColumn("Baskets", format="%,d"),
            "support": st.column_config.NumberColumn("Support", format="%.4f"),
            "confidence": st.column_config.NumberColumn("Confidence", format="percent"),
            "lift": st.column_config.NumberColumn("Lift", format="%.2f"),
        },
    )
