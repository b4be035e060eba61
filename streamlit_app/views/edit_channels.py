"""Edit sales channels; a channel used by customers or orders cannot be deleted."""

from streamlit_app import auth, crud_ui

user = auth.require("editor")
crud_ui.entity_page(
    "channels",
    user,
    "Sales channels (raw.channels): where orders are placed and customers come from.",
    column_config={"updated_at": crud_ui.WHEN},
)
