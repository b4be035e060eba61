"""Entry point of the dashboards: `streamlit run streamlit_app/app.py` (or `ecom app`).

Builds the navigation, checks the warehouse once per run (reachable, built, not
empty), draws the global sidebar filters and runs the selected page. Database
problems become a friendly message instead of a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run` puts this folder on sys.path; the pages import the package.
_PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)
if _PROJECT_ROOT not in sys.path:
    sys.path.insert(0, _PROJECT_ROOT)

import streamlit as st  # noqa: E402

from streamlit_app import data, sidebar, ui  # noqa: E402

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


PAGES = {
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
# Pages that explain themselves without any marts data.
STANDALONE = {"Data quality", "Predictions"}

page = st.navigation(PAGES)

try:
    status = data.warehouse_status()
except data.WarehouseUnavailable as exc:
    ui.unreachable(exc)
    st.stop()
except data.WarehouseError as exc:
    ui.page_error(exc)
    st.stop()

if status.state == "ready":
    try:
        sidebar.global_filters(data.filter_options())
    except data.WarehouseError as exc:
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
except data.WarehouseError as exc:
    ui.page_error(exc)
