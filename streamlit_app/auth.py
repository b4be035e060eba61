"""Sign-in and roles in the app.

The signed-in account lives in `st.session_state["user"]` (a core.accounts.User).
A browser keeps its sign-in across reloads and new tabs through a cookie holding
a random token; the database stores only the token's hash (app.sessions).
Viewers see the dashboards, editors also the editing pages and the refresh,
admins also the audit trail and the accounts page. Pages call `require()`.
"""

from __future__ import annotations

import psycopg
import streamlit as st

from core import accounts
from core.accounts import User
from core.db import conninfo
from core.errors import WarehouseError
from streamlit_app import warehouse

SESSION_KEY = "user"
TOKEN_KEY = "session_token"
COOKIE_KEY = "cookie_to_write"
COOKIE = "ecom_session"
RANK = {"viewer": 0, "editor": 1, "admin": 2}


def _connect() -> psycopg.Connection:
    return psycopg.connect(
        conninfo(read_only=False, application_name="ecom-sign-in"),
        autocommit=True,
    )


def current_user() -> User | None:
    user = st.session_state.get(SESSION_KEY)
    return user if isinstance(user, User) else None


def sign_in(user: User) -> None:
    st.session_state[SESSION_KEY] = user


def sign_in_with_password(username: str, password: str) -> User:
    """Check the password (EcomError when wrong), start a session and ask the
    browser to keep its cookie."""
    with _connect() as conn:
        user = accounts.authenticate(conn, username, password)
        token = accounts.start_session(conn, user.username)
    sign_in(user)
    st.session_state[TOKEN_KEY] = token
    st.session_state[COOKIE_KEY] = token
    return user


def sign_out() -> None:
    token = st.session_state.pop(TOKEN_KEY, None)
    st.session_state.pop(SESSION_KEY, None)
    st.session_state[COOKIE_KEY] = ""
    if token:
        try:
            with _connect() as conn:
                accounts.end_session(conn, token)
        except psycopg.Error:
            pass  # the token expires on its own


def restore() -> User | None:
    """The account of this browser session as it is now: from the session state
    (re-read, so disabling an account or changing its role takes effect at the
    next page view) or from the sign-in cookie. Database errors propagate as
    WarehouseError."""
    user = current_user()
    if user is None:
        token = st.context.cookies.get(COOKIE) if st.context.cookies else None
        if not token:
            return None
        user = warehouse.with_connection(
            lambda conn: accounts.session_user(conn, token)
        )
        if user is not None:
            st.session_state[TOKEN_KEY] = token
            sign_in(user)
        return user
    now = warehouse.with_connection(lambda conn: accounts.current(conn, user.username))
    if now is None or not now.is_active:
        sign_out()
        return None
    if now != user:
        sign_in(now)
    return now


def write_cookie() -> None:
    """Set (or clear) the sign-in cookie in the browser, once after a change.

    The token is URL-safe base64 from `secrets`, so it is safe inside the script.
    """
    if COOKIE_KEY not in st.session_state:
        return
    token = st.session_state.pop(COOKIE_KEY)
    age = accounts.SESSION_HOURS * 3600 if token else 0
    st.iframe(
        "<script>window.parent.document.cookie = "
        f'"{COOKIE}={token}; path=/; max-age={age}; SameSite=Strict";</script>',
        height=1,
    )


def accounts_exist() -> bool:
    """Whether any account exists (True when that cannot be told: the form then
    says what is wrong)."""
    try:
        rows = warehouse.run_uncached(
            "select exists (select 1 from app.users) as found"
        )
    except WarehouseError:
        return True
    return bool(rows.iloc[0]["found"])


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
