"""Sign-in and roles in the app.

The signed-in account lives in `st.session_state["user"]` (a core.accounts.User).
A browser keeps its sign-in across reloads and new tabs through a cookie holding
a random token; the database stores only the token's hash (app.sessions), bound
to this client (address and browser). Every page view checks the session again,
so signing out (in any tab), a password reset or disabling the account ends it
everywhere. Failed sign-ins are throttled (core.sign_in).
Viewers see the dashboards, editors also the editing pages and the refresh,
admins also the audit trail and the accounts page. Pages call `require()`.
"""

from __future__ import annotations

import hashlib

import psycopg
import streamlit as st

from core import accounts, sign_in
from core.accounts import User
from core.db import connect_app
from core.errors import WarehouseError
from streamlit_app import warehouse

SESSION_KEY = "user"
TOKEN_KEY = "session_token"
COOKIE_KEY = "cookie_to_write"
COOKIE = "ecom_session"
RANK = {"viewer": 0, "editor": 1, "admin": 2}


def _connect() -> psycopg.Connection:
    return connect_app("ecom-sign-in")


def current_user() -> User | None:
    user = st.session_state.get(SESSION_KEY)
    return user if isinstance(user, User) else None


def sign_in_as(user: User) -> None:
    st.session_state[SESSION_KEY] = user


def client() -> str:
    """This browser as the server sees it: its address and a digest of its
    user agent (what a session is bound to and throttling counts)."""
    headers, address = st.context.headers, st.context.ip_address
    agent = headers.get("User-Agent", "") if headers else ""
    agent = agent if isinstance(agent, str) else ""
    digest = hashlib.sha256(agent.encode()).hexdigest()[:16] if agent else "-"
    # no address outside a browser session (e.g. the app's test harness)
    return f"{address if isinstance(address, str) and address else 'local'} {digest}"


def sign_in_with_password(username: str, password: str) -> User:
    """Check the password (EcomError when wrong or throttled), start a session
    and ask the browser to keep its cookie."""
    with _connect() as conn:
        user = sign_in.authenticate(conn, username, password, client())
        token = sign_in.start_session(conn, user.username, client())
    sign_in_as(user)
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
                sign_in.end_session(conn, token)
        except psycopg.Error:
            pass  # the token expires on its own


def restore() -> User | None:
    """The account of this browser session as it is now. A session token (from
    this tab's sign-in or the cookie) is checked on every page view, so a
    session ended anywhere (sign-out in another tab, password reset, disabled
    account, expiry, another client) ends here too, and a new role takes effect.
    Database errors propagate as WarehouseError."""
    token = st.session_state.get(TOKEN_KEY) or _cookie_token()
    if token:
        user = warehouse.with_connection(
            lambda conn: sign_in.session_user(conn, token, client())
        )
        if user is None:
            _forget()
            return None
        st.session_state[TOKEN_KEY] = token
        sign_in_as(user)
        return user
    user = current_user()
    if user is None:
        return None
    # signed in without a token (only the test harness does this): the account
    # as it is now
    now = warehouse.with_connection(lambda conn: accounts.current(conn, user.username))
    if now is None or not now.is_active:
        _forget()
        return None
    sign_in_as(now)
    return now


def _cookie_token() -> str | None:
    cookies = st.context.cookies
    return cookies.get(COOKIE) if cookies else None


def _forget() -> None:
    """Drop this tab's sign-in and clear the browser's cookie."""
    st.session_state.pop(SESSION_KEY, None)
    if st.session_state.pop(TOKEN_KEY, None) or _cookie_token():
        st.session_state[COOKIE_KEY] = ""


def write_cookie() -> None:
    """Set (or clear) the sign-in cookie in the browser, once after a change.

    The token is URL-safe base64 from `secrets`, so it is safe inside the script.
    """
    if COOKIE_KEY not in st.session_state:
        return
    token = st.session_state.pop(COOKIE_KEY)
    age = sign_in.SESSION_HOURS * 3600 if token else 0
    # Set from the page: Streamlit's server offers no hook to send a Set-Cookie
    # header, so the cookie cannot be HttpOnly. What protects the token instead:
    # it is bound to this client (core.sign_in), SameSite=Strict, Secure over
    # HTTPS, and every page view checks it is still valid.
    st.iframe(
        "<script>const w = window.parent; w.document.cookie = "
        f'"{COOKIE}={token}; path=/; max-age={age}; SameSite=Strict" + '
        '(w.location.protocol === "https:" ? "; Secure" : "");</script>',
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
