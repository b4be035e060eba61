"""Edit regions; a region used by customers or orders cannot be deleted."""

from streamlit_app import auth
from streamlit_app.editing.entity_page import entity_page
from streamlit_app.editing.list_view import WHEN

user = auth.require("editor")
entity_page(
    "regions",
    user,
    "Sales regions (raw.regions): where customers live and orders are shipped.",
    column_config={"updated_at": WHEN},
)
