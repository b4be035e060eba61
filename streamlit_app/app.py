"""Entry point of the dashboards: `streamlit run streamlit_app/app.py` (or `ecom app`).

Asks for a sign-in, builds the navigation the account's role may see (viewer:
dashboards; editor: + editing pages and refresh; admin: + audit trail and
accounts), checks the warehouse once per run (reachable, built, not empty), draws
the global sidebar filters and runs the selected page. Database problems become a
friendly message instead of a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run` puts this folder on sys.path; the pages import the package.
_PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)
if _PROJECT_ROOT not in sys.path:
    sys.path.insert(0, _PROJECT_ROOT)

import psycopg  # noqa: E402
import streamlit as st  # noqa: E402

from core.accounts import User  # noqa: E402
from core.errors import (  # noqa: E402
    EcomError,
    WarehouseError,
    WarehouseUnavailable,
    one_line,
)
from streamlit_app import auth, sidebar, ui, warehouse  # noqa: E402
from streamlit_app.queries import filtering  # noqa: E402

st.set_page_config(
    page_title="E-commerce warehouse",
    page_icon=":material/storefront:",
    layout="wide",
)


# The page scripts live in views/, not pages/: Streamlit treats a `pages/` folder
# next to the entry point as an old-style multipage app and, on the first run of a
# process (and on every AppTest run), runs a page script directly without this
# router, so the filters and warehouse checks below would be skipped.


def _page(path: str, title: str, icon: str, **kwargs) -> st.Page:
    return st.Page(path, title=title, icon=f":material/{icon}:", **kwargs)


DASHBOARDS = {
    "Dashboards": [
        _page("views/overview.py", "Overview", "dashboard", default=True),
        _page("views/sales.py", "Sales", "trending_up", url_path="sales"),
        _page("views/products.py", "Products", "inventory_2", url_path="products"),
        _page("views/customers.py", "Customers", "group", url_path="customers"),
        _page("views/retention.py", "Retention", "event_repeat", url_path="retention"),
        _page(
            "views/basket.py",
            "Market basket",
            "shopping_basket",
            url_path="market_basket",
        ),
        _page("views/inventory.py", "Inventory", "warehouse", url_path="inventory"),
    ],
    "Operations": [
        _page(
            "views/quality.py", "Data quality", "fact_check", url_path="data_quality"
        ),
        _page(
            "views/predictions.py", "Predictions", "insights", url_path="predictions"
        ),
    ],
}
# Editors and admins: the editing pages on the raw tables, and the refresh.
EDITING = [
    _page(
        "views/edit_orders.py", "Edit orders", "receipt_long", url_path="edit_orders"
    ),
    _page(
        "views/edit_customers.py", "Edit customers", "person", url_path="edit_customers"
    ),
    _page("views/edit_products.py", "Edit products", "sell", url_path="edit_products"),
    _page(
        "views/edit_promotions.py",
        "Edit promotions",
        "percent",
        url_path="edit_promotions",
    ),
    _page("views/edit_regions.py", "Edit regions", "public", url_path="edit_regions"),
    _page(
        "views/edit_channels.py",
        "Edit channels",
        "storefront",
        url_path="edit_channels",
    ),
    _page(
        "views/refresh.py", "Refresh warehouse", "sync", url_path="refresh_warehouse"
    ),
]
ADMIN = [
    _page("views/audit.py", "Audit trail", "history", url_path="audit"),
    _page("views/accounts.py", "Accounts", "manage_accounts", url_path="accounts"),
]
# Pages on raw and app data: no marts needed, and the dashboards' filters do not
# apply to them.
RAW_PAGES = {p.title for p in EDITING + ADMIN}
# Pages that work without any marts data (they explain themselves, or read raw).
STANDALONE = {"Data quality", "Predictions"} | RAW_PAGES


def pages_for(user: User) -> dict[str, list[st.Page]]:
    """The navigation a role may see: viewer < editor < admin."""
    pages = dict(DASHBOARDS)
    if auth.allowed(user, "editor"):
        pages["Manage"] = EDITING
    if auth.allowed(user, "admin"):
        pages["Admin"] = ADMIN
    return pages


def sign_in_page() -> None:
    st.title("Sign in")
    st.caption("E-commerce warehouse: dashboards and editing for local accounts.")
    if not auth.accounts_exist():
        st.info(
            "No accounts exist yet. Create one with "
            "`ecom users add NAME --role admin` (it prints the password once), "
            "or run `ecom demo`.",
            icon=":material/person_add:",
        )
    with st.form("sign_in"):
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input(
            "Password", type="password", autocomplete="current-password"
        )
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            auth.sign_in_with_password(username, password)
        except EcomError as exc:
            st.error(str(exc), icon=":material/lock:")
            return
        except psycopg.errors.UndefinedTable:
            st.error(
                "No accounts exist yet. Create one with "
                "`ecom users add NAME --role admin` (or run `ecom demo`)."
            )
            return
        except psycopg.Error as exc:
            ui.unreachable(WarehouseUnavailable(one_line(exc)))
            return
        st.rerun()


try:
    user = auth.restore()
except WarehouseUnavailable as exc:
    ui.unreachable(exc)
    st.stop()
except WarehouseError:
    user = None  # no accounts table yet: the sign-in page says what to do
auth.write_cookie()

if user is None:
    st.navigation([st.Page(sign_in_page, title="Sign in", icon=":material/login:")])
    sign_in_page()
    st.stop()

page = st.navigation(pages_for(user), expanded=True)
with st.sidebar:
    st.caption(f"Signed in as **{ui.plain(user.username)}** ({user.role})")
    if st.button("Sign out", icon=":material/logout:", key="sign_out"):
        auth.sign_out()
        st.rerun()

try:
    status = warehouse.warehouse_status()
except WarehouseUnavailable as exc:
    ui.unreachable(exc)
    st.stop()
except WarehouseError as exc:
    ui.page_error(exc)
    st.stop()

if status.state == "ready" and page.title not in RAW_PAGES:
    try:
        sidebar.global_filters(filtering.filter_options())
    except WarehouseError as exc:
        ui.page_error(exc)
        st.stop()
elif page.title not in STANDALONE:
    if status.state == "no_marts":
        ui.no_marts(status.missing)
    else:
        ui.empty_warehouse()
    st.stop()

st.session_state["warehouse_state"] = status.state
try:
    page.run()
except WarehouseError as exc:
    ui.page_error(exc)
