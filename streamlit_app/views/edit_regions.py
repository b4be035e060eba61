"""Edit regions; a region used by customers or orders cannot be deleted."""

from streamlit_app import auth, crud_ui

user = auth.require("editor")
crud_ui.entity_page(
    "regions",
    user,
    "Sales regions (raw.regions): where customers live and orders are shipped.",
    column_config={"updated_at": crud_ui.WHEN},
)
