"""Edit promotions: codes, discount and validity; a promotion used by orders
cannot be deleted."""

from streamlit_app import auth, crud_ui

user = auth.require("editor")
crud_ui.entity_page(
    "promotions",
    user,
    "Promotion codes (raw.promotions). Times are in UTC; a promotion runs from its "
    "start to its end, both included.",
    column_config={
        "starts_at": crud_ui.WHEN,
        "ends_at": crud_ui.WHEN,
        "updated_at": crud_ui.WHEN,
    },
)
