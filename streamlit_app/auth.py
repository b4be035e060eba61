"""Sign-in and roles in the app.

The signed-in account lives in `st.session_state["user"]` (a loader.accounts.User).
Viewers see the dashboards, editors also the editing pages and the refresh,
admins also the audit trail and the accounts page. Pages call `require()`.
"""

from __future__ import annotations

import streamlit as st

from loader.accounts import User

SESSION_KEY = "user"
RANK = {"viewer": 0, "editor": 1, "admin": 2}


def current_user() -> User | None:
    user = st.session_state.get(SESSION_KEY)
    return user if isinstance(user, User) else None


def sign_in(user: User) -> None:
    st.session_state[SESSION_KEY] = user


def sign_out() -> None:
    st.session_state.pop(SESSION_KEY, None)


def allowed(user: User | None, role: str) -> bool:
    return user is not None and user.is_active and RANK[user.role] >= RANK[role]


def require(role: str) -> User:
    """The signed-in user when their role reaches `role`; otherwise say so and
    stop the page."""
    user = current_user()
    if not allowed(user, role):
        st.error(f"This page needs the {role} role.")
        st.stop()
    return user
