"""Edit promotions: codes, discount and validity; a promotion used by orders
cannot be deleted."""

from streamlit_app import auth
from streamlit_app.editing.entity_page import entity_page
from streamlit_app.editing.list_view import WHEN

user = auth.require("editor")
entity_page(
    "promotions",
    user,
    "Promotion codes (raw.promotions). Times are in UTC; a promotion runs from its "
    "start to its end, both included.",
    column_config={
        "starts_at": WHEN,
        "ends_at": WHEN,
        "updated_at": WHEN,
    },
)
