"""Edit customers: search and filter them, create, change, and delete one (a
customer with orders is deactivated instead, so the orders keep their history)."""

import streamlit as st

from streamlit_app import auth
from streamlit_app.editing.entity_page import entity_page
from streamlit_app.editing.list_view import WHEN

user = auth.require("editor")
entity_page(
    "customers",
    user,
    "The shop's customers (raw.customers). Changes reach the dashboards with the "
    "next warehouse refresh.",
    column_config={
        "signup_at": WHEN,
        "updated_at": WHEN,
        "is_active": st.column_config.CheckboxColumn("active"),
    },
)
