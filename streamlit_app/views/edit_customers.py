"""Edit customers: search and filter them, create, change, and delete one (a
customer with orders is deactivated instead, so the orders keep their history)."""

import streamlit as st

from streamlit_app import auth, crud_ui

user = auth.require("editor")
crud_ui.entity_page(
    "customers",
    user,
    "The shop's customers (raw.customers). Changes reach the dashboards with the "
    "next warehouse refresh.",
    column_config={
        "signup_at": crud_ui.WHEN,
        "updated_at": crud_ui.WHEN,
        "is_active": st.column_config.CheckboxColumn("active"),
    },
)
