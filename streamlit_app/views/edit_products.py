"""Edit products: the catalogue with stock and reorder points (flagged when the
stock is below the reorder point); a product on orders is deactivated instead of
deleted."""

import streamlit as st

from streamlit_app import auth, crud, crud_ui

user = auth.require("editor")


def suggestions() -> dict[str, list[str]]:
    """Existing categories, subcategories and brands to pick from."""
    return {
        name: crud.distinct_values("products", name)
        for name in ("category", "subcategory", "brand")
    }


def stock_flag() -> None:
    stock = st.session_state.get(crud_ui.field_key("products", "stock_quantity"))
    reorder = st.session_state.get(crud_ui.field_key("products", "reorder_point"))
    if isinstance(stock, int) and isinstance(reorder, int) and stock < reorder:
        st.warning(
            f"Below reorder point: {stock:,} in stock, reorder at {reorder:,}.",
            icon=":material/production_quantity_limits:",
        )


crud_ui.entity_page(
    "products",
    user,
    "The product catalogue (raw.products). A product is flagged when its stock "
    "is below its reorder point.",
    suggestions=suggestions,
    extras=stock_flag,
    column_config={
        "unit_cost": crud_ui.MONEY,
        "list_price": crud_ui.MONEY,
        "below_reorder_point": st.column_config.CheckboxColumn("below reorder point"),
        "is_active": st.column_config.CheckboxColumn("active"),
        "updated_at": crud_ui.WHEN,
    },
)
