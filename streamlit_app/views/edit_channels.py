"""Edit sales channels; a channel used by customers or orders cannot be deleted."""

from streamlit_app import auth
from streamlit_app.editing.entity_page import entity_page
from streamlit_app.editing.list_view import WHEN

user = auth.require("editor")
entity_page(
    "channels",
    user,
    "Sales channels (raw.channels): where orders are placed and customers come from.",
    column_config={"updated_at": WHEN},
)
