"""Edit products: the catalogue with stock and reorder points (flagged when the
stock is below the reorder point); a product on orders is deactivated instead of
deleted."""

import streamlit as st

from core import editing
from streamlit_app import auth
from streamlit_app.editing.entity_page import entity_page
from streamlit_app.editing.list_view import MONEY, WHEN
from streamlit_app.editing.state import field_key

user = auth.require("editor")


def suggestions() -> dict[str, list[str]]:
    """Existing categories, subcategories and brands to pick from."""
    return {
        name: editing.distinct_values("products", name)
        for name in ("category", "subcategory", "brand")
    }


def stock_flag() -> None:
    stock = st.session_state.get(field_key("products", "stock_quantity"))
    reorder = st.session_state.get(field_key("products", "reorder_point"))
    if isinstance(stock, int) and isinstance(reorder, int) and stock < reorder:
        st.warning(
            f"Below reorder point: {stock:,} in stock, reorder at {reorder:,}.",
            icon=":material/production_quantity_limits:",
        )


entity_page(
    "products",
    user,
    "The product catalogue (raw.products). A product is flagged when its stock "
    "is below its reorder point.",
    suggestions=suggestions,
    extras=stock_flag,
    column_config={
        "unit_cost": MONEY,
        "list_price": MONEY,
        "below_reorder_point": st.column_config.CheckboxColumn("below reorder point"),
        "is_active": st.column_config.CheckboxColumn("active"),
        "updated_at": WHEN,
    },
)
