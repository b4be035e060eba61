"""Accounts (admins): list the app's local accounts, add one, change a role,
disable or enable. The same functions back `ecom users ...`."""

from __future__ import annotations

import psycopg
import streamlit as st

from core import accounts
from core.db import connect_app
from core.errors import EcomError, one_line
from streamlit_app import auth, ui

me = auth.require("admin")
st.title("Accounts")
st.caption(
    "Viewers see the dashboards; editors also edit the source tables and refresh "
    "the warehouse; admins also read the audit trail and manage accounts."
)


def _connect() -> psycopg.Connection:
    return connect_app("ecom-accounts")


def _run(action, *args):
    """Run an accounts function; a user error or a database error becomes a
    message on the page. Returns the result, or None after an error."""
    try:
        with _connect() as conn:
            return action(conn, *args)
    except EcomError as exc:
        st.error(str(exc))
    except psycopg.Error as exc:
        st.error("The database refused the change:")
        st.text(one_line(exc))  # the database's words, shown as plain text
    return None


users = _run(accounts.list_users) or []
st.dataframe(
    [{"username": u.username, "role": u.role, "active": u.is_active} for u in users],
    hide_index=True,
    use_container_width=True,
)

if "new_account" in st.session_state:
    name, password = st.session_state.pop("new_account")
    st.success(f"Account {ui.plain(name)} created. Its password is shown once:")
    st.code(password, language=None)

add_tab, change_tab = st.tabs(["Add an account", "Change an account"])
with add_tab, st.form("add_account", clear_on_submit=True):
    username = st.text_input("Username", help="2–60 of a–z, 0–9, '.', '_', '-'")
    role = st.selectbox("Role", accounts.ROLES, index=0)
    password = st.text_input("Password (leave empty to generate one)", type="password")
    if st.form_submit_button("Add account", type="primary"):
        chosen = password or accounts.new_password()
        created = _run(accounts.add_user, username.strip(), chosen, role)
        if created:
            st.session_state["new_account"] = (created.username, chosen)
            st.rerun()

with change_tab:
    others = [u for u in users if u.username != me.username]
    if not others:
        st.info("No other accounts yet. (You cannot change your own account here.)")
    else:
        chosen_user = st.selectbox(
            "Account",
            others,
            format_func=lambda u: (
                f"{u.username} ({u.role}" + ("" if u.is_active else ", disabled") + ")"
            ),
        )
        new_role = st.selectbox(
            "Role",
            accounts.ROLES,
            index=accounts.ROLES.index(chosen_user.role),
            key="change_role",
        )
        left, right = st.columns(2)
        if left.button("Save role", key="save_role") and _run(
            accounts.set_role, chosen_user.username, new_role
        ):
            st.toast(f"{chosen_user.username} is now {new_role}")
            st.rerun()
        label = "Enable" if not chosen_user.is_active else "Disable"
        if right.button(label, key="toggle_active") and _run(
            accounts.set_active, chosen_user.username, not chosen_user.is_active
        ):
            st.toast(f"{chosen_user.username}: {label.lower()}d")
            st.rerun()
