"""The dashboards in a real browser: Playwright driving Debian's chromium.

Starts the app (`streamlit_app.launch`) on the built warehouse, visits every page,
waits for the Plotly charts to draw, checks the headline figures against SQL on
the marts, and saves a screenshot of each page to docs/screenshots/<page>.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core import accounts, db
from streamlit_app import launch, ui

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
WIDTH = 1400

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed (apt-get install chromium)",
    ),
]

# page file name -> URL path
PAGES = {
    "overview": "",
    "sales": "sales",
    "products": "products",
    "customers": "customers",
    "retention": "retention",
    "market_basket": "market_basket",
    "inventory": "inventory",
    "data_quality": "data_quality",
    "predictions": "predictions",
}


def sql_one(env: dict[str, str], statement: str, params=None) -> tuple:
    with db.connect(env) as conn:
        return conn.execute(statement, params).fetchone()


def expected_figures(env: dict[str, str], start, end) -> dict[str, dict[str, str]]:
    """Headline figures of each page, from SQL on the marts, formatted alike."""
    between = [start, end]
    net_revenue, orders = sql_one(
        env,
        """
        select sum(net_revenue), count(*) from marts.fct_orders
        where is_sale and order_date between %s and %s
        """,
        between,
    )
    (units,) = sql_one(
        env,
        """
        select sum(units) from marts.fct_order_items
        where is_sale and order_date between %s and %s
        """,
        between,
    )
    (customers,) = sql_one(
        env, "select count(distinct customer_id) from marts.fct_orders where is_sale"
    )
    (new_customers,) = sql_one(
        env,
        """
        with firsts as (
            select customer_id, date_trunc('month', min(order_date))::date as cohort
            from marts.fct_orders
            where is_sale
            group by customer_id
        )
        select count(*) from firsts
        where cohort between date_trunc('month', %s::date) and %s
        """,
        between,
    )
    (rules,) = sql_one(env, "select count(*) from marts.rpt_basket_rules")
    (stock_value,) = sql_one(
        env,
        """
        select sum(stock_quantity * unit_cost) from marts.dim_products
        where is_active
        """,
    )
    (rows_loaded,) = sql_one(env, "select sum(rows_loaded) from marts.rpt_load_batches")
    (at_risk,) = sql_one(env, "select count(*) from ml.customer_clv where is_at_risk")
    return {
        "overview": {
            "Revenue": ui.money(float(net_revenue)),
            "Orders": ui.count(orders),
        },
        "sales": {"Revenue": ui.money(float(net_revenue))},
        "products": {"Units sold": ui.count(units)},
        "customers": {"Customers scored (RFM)": ui.count(customers)},
        "retention": {"New customers": ui.count(new_customers)},
        "market_basket": {"Rules": ui.count(rules)},
        "inventory": {"Stock value": ui.money(float(stock_value))},
        "data_quality": {"Rows loaded": ui.count(rows_loaded)},
        "predictions": {"Customers at risk": ui.count(at_risk)},
    }


@pytest.fixture(scope="module")
def app(built_warehouse, tmp_path_factory) -> Iterator[launch.AppServer]:
    from predict import run_predictions

    # the Predictions page reads schema ml, written by the predictions
    run_predictions(built_warehouse["env"], seed=42)
    log = tmp_path_factory.mktemp("app") / "streamlit.log"
    server = launch.start_background(
        built_warehouse["env"], dbt_target=built_warehouse["target_path"], log_path=log
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser_page(app, built_warehouse):
    """A browser signed in to the app as an admin (the sign-in cookie keeps it
    signed in across page loads)."""
    from playwright.sync_api import sync_playwright

    with db.connect(built_warehouse["env"]) as conn:
        accounts.add_user(conn, "browser", "browser-password", "admin", replace=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": WIDTH, "height": 1000})
        page.set_default_timeout(60_000)
        sign_in(page, app.url, "browser", "browser-password")
        yield page
        browser.close()


def fill_sign_in(page, url: str, username: str, password: str) -> None:
    """Open the app and send the sign-in form."""
    page.goto(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page, url: str, username: str, password: str) -> None:
    fill_sign_in(page, url, username, password)
    page.get_by_text(f"Signed in as {username}").wait_for()


def wait_until_drawn(page, charts: bool) -> None:
    """Wait for the script run to finish and every Plotly chart to draw."""
    page.wait_for_selector("h1", state="visible")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
    )
    if charts:
        page.wait_for_selector(".js-plotly-plot .main-svg", state="attached")
        page.wait_for_function(
            """() => [...document.querySelectorAll('.js-plotly-plot')]
                .every(p => p.querySelector('.main-svg'))"""
        )
    page.wait_for_timeout(500)


def shown_metrics(page) -> dict[str, str]:
    figures = {}
    for card in page.locator('[data-testid="stMetric"]').all():
        label = card.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        value = card.locator('[data-testid="stMetricValue"]').inner_text().strip()
        figures[label] = value
    return figures


def full_page_screenshot(page, path: Path) -> None:
    height = page.evaluate(
        "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight"
    )
    page.set_viewport_size({"width": WIDTH, "height": min(max(height, 800), 6000)})
    page.wait_for_timeout(700)  # Plotly redraws at the new size
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": WIDTH, "height": 1000})


def test_every_page_in_a_real_browser(app, browser_page, built_warehouse):
    env = built_warehouse["env"]
    (last,) = sql_one(env, "select max(order_date) from marts.fct_orders")
    start = last - timedelta(days=364)
    query = f"?from={start.isoformat()}&to={last.isoformat()}"
    expected = expected_figures(env, start, last)

    page = browser_page
    # the first load after the server starts can come up blank: load once first
    page.goto(app.url + "/" + query)
    wait_until_drawn(page, charts=True)

    for name, path in PAGES.items():
        page.goto(f"{app.url}/{path}{query}")
        wait_until_drawn(page, charts=True)
        assert page.locator('[data-testid="stException"]').count() == 0, name
        figures = shown_metrics(page)
        for label, value in expected[name].items():
            assert figures.get(label) == value, (name, label, figures)
        # the filters stay in the URL on every page
        assert f"from={start.isoformat()}" in page.url, (name, page.url)
        full_page_screenshot(page, SCREENSHOTS / f"{name}.png")


def test_sidebar_filter_updates_url_and_figures(app, browser_page, built_warehouse):
    env = built_warehouse["env"]
    (last,) = sql_one(env, "select max(order_date) from marts.fct_orders")
    start = last - timedelta(days=364)
    (region,) = sql_one(env, "select min(region_name) from marts.dim_regions")
    page = browser_page
    page.goto(f"{app.url}/?from={start.isoformat()}&to={last.isoformat()}")
    wait_until_drawn(page, charts=True)
    regions = page.get_by_test_id("stMultiSelect").filter(has_text="Region")
    regions.locator("input").click()
    page.keyboard.type(region)  # typing opens the list and narrows it
    page.get_by_role("option", name=region, exact=True).click()
    page.keyboard.press("Escape")
    page.wait_for_url(lambda url: "region=" in url)
    wait_until_drawn(page, charts=True)
    (net_revenue,) = sql_one(
        env,
        """
        select sum(orders.net_revenue)
        from marts.fct_orders as orders
        inner join marts.dim_regions as regions
            on orders.ship_region_id = regions.region_id
        where
            orders.is_sale
            and orders.order_date between %s and %s
            and regions.region_name = %s
        """,
        [start, last, region],
    )
    page.wait_for_function(
        """expected => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
            .some(v => v.innerText.trim() === expected)""",
        arg=ui.money(float(net_revenue)),
    )
    # moving to another page from the sidebar keeps the filters (and the URL)
    page.get_by_test_id("stSidebarNav").get_by_text("Sales", exact=True).click()
    page.wait_for_url(lambda url: "/sales" in url and "region=" in url)
    wait_until_drawn(page, charts=True)
    revenue_card = page.get_by_test_id("stMetric").filter(has_text="Revenue").first
    assert revenue_card.get_by_test_id("stMetricValue").inner_text().strip() == (
        ui.money(float(net_revenue))
    )
