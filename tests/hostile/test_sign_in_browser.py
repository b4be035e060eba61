"""Sign-in in a real browser (Chromium): signing out in one tab ends the
session in the other tabs, a password reset ends it too, repeated wrong
passwords lock the account out with a message, and the session cookie is
SameSite=Strict (and not Secure over plain HTTP)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_app_browser import CHROMIUM, CHROMIUM_ARGS, fill_sign_in

from core import accounts, db, sign_in
from core.schema import apply_schema
from streamlit_app import launch

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is missing"),
]


@pytest.fixture(scope="module")
def app_env(pg_env) -> Iterator[dict[str, str]]:
    env = db.create_database(pg_env, "ecom_signin_browser")
    with db.connect(env) as conn:
        apply_schema(conn)
        accounts.add_user(conn, "sam", "right-password", "editor")
        accounts.add_user(conn, "lee", "lees-password", "viewer")
    yield env
    db.drop_database(pg_env, env["PGDATABASE"])


@pytest.fixture(scope="module")
def server(app_env, tmp_path_factory) -> Iterator[launch.AppServer]:
    log = tmp_path_factory.mktemp("signin_app") / "streamlit.log"
    app = launch.start_background(app_env, log_path=log)
    yield app
    app.stop()


@pytest.fixture
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def _signed_in(page, username: str) -> None:
    page.get_by_text(f"Signed in as {username}").wait_for()


def _showsfill_sign_in(page) -> None:
    page.get_by_role("heading", name="Sign in").wait_for()


def _go_to(page, name: str) -> None:
    """Another page through the sidebar: a rerun of the same browser session."""
    page.get_by_role("link", name=name).first.click()


def test_sign_out_in_one_tab_ends_the_other_tabs(server, browser):
    context = browser.new_context()
    first = context.new_page()
    first.set_default_timeout(60_000)
    fill_sign_in(first, server.url, "sam", "right-password")
    _signed_in(first, "sam")
    # The cookie is written by a script that runs after the page shows the
    # sign-in, so wait for it rather than read it at once.
    first.wait_for_function("document.cookie.includes('ecom_session=')")
    cookie = next(c for c in context.cookies() if c["name"] == "ecom_session")
    assert cookie["sameSite"] == "Strict" and not cookie["secure"]

    second = context.new_page()
    second.set_default_timeout(60_000)
    second.goto(server.url)
    _signed_in(second, "sam")  # the cookie signs the new tab in

    first.get_by_role("button", name="Sign out").click()
    _showsfill_sign_in(first)
    _go_to(second, "Sales")
    _showsfill_sign_in(second)
    context.close()


def test_a_password_reset_ends_an_open_session(server, browser, app_env):
    page = browser.new_page()
    page.set_default_timeout(60_000)
    fill_sign_in(page, server.url, "lee", "lees-password")
    _signed_in(page, "lee")
    with db.connect(app_env) as conn:
        accounts.add_user(conn, "lee", "a-new-password", "viewer", replace=True)
    _go_to(page, "Sales")
    _showsfill_sign_in(page)
    page.reload()
    _showsfill_sign_in(page)  # the cookie's token no longer signs in either
    page.close()


def test_repeated_wrong_passwords_lock_the_account(server, browser):
    page = browser.new_page()
    page.set_default_timeout(60_000)
    for _ in range(sign_in.MAX_ACCOUNT_FAILURES):
        fill_sign_in(page, server.url, "sam", "wrong-password")
        page.get_by_text("unknown username or wrong password").wait_for()
    fill_sign_in(page, server.url, "sam", "right-password")
    page.get_by_text("too many failed sign-ins; try again in").wait_for()
    page.close()
