"""Editing end to end in a real browser: an editor signs in, creates a customer
and an order for them through the editing pages, refreshes the warehouse, and
finds the order on the Overview dashboard.

The app runs as `ecom app` runs it (as the least-privilege role ecom_app, with
the build credentials for the refresh) on a warehouse of its own, since this
test changes data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import build_warehouse
from test_app_browser import CHROMIUM, CHROMIUM_ARGS, WIDTH, sign_in

from core import accounts, db
from streamlit_app import launch, ui

# Shown in lists and selector labels: it must stay text, never become HTML.
HOSTILE_NAME = 'Hopper <img src=x onerror="window.pwned=1">'
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed (apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module")
def warehouse(pg_env, tmp_path_factory) -> Iterator[dict]:
    built = build_warehouse(pg_env, tmp_path_factory, "ecom_edit", scale=0.05, seed=11)
    env, target = built["env"], built["target_path"]
    with db.connect(env) as conn:
        accounts.add_user(conn, "edna", "editor-password", "editor")
    server = launch.start_background(
        env, dbt_target=target, log_path=target / "streamlit.log"
    )
    yield {"env": env, "url": server.url}
    server.stop()
    db.drop_database(pg_env, env["PGDATABASE"])


@pytest.fixture(scope="module")
def page(warehouse):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": WIDTH, "height": 1000})
        page.set_default_timeout(60_000)
        sign_in(page, warehouse["url"], "edna", "editor-password")
        yield page
        browser.close()


def settled(page) -> None:
    """Wait until the script run triggered by the last action has finished."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
    )


def fill(page, label: str, value: str) -> None:
    field = page.get_by_label(label, exact=True).first  # the form is above the list
    field.fill(value)
    field.press("Enter")
    settled(page)


def choose(page, label: str, search_label: str, search: str, option: str) -> str:
    """A search-as-you-type selector: type into its search box, then pick the
    option from the list of matches."""
    fill(page, search_label, search)
    box = page.get_by_test_id("stSelectbox").filter(
        has=page.get_by_text(label, exact=True)
    )
    box.first.locator("input").click()
    page.keyboard.type(option)  # typing opens the list and narrows it
    choice = page.get_by_role("option").filter(has_text=option).first
    label = choice.inner_text()
    choice.click()
    settled(page)
    return label


def metrics(page) -> dict[str, str]:
    """The metric cards on the page, label -> value as shown, read in one go (the
    page may be redrawing)."""
    return page.evaluate(
        """() => Object.fromEntries(
            [...document.querySelectorAll('[data-testid="stMetric"]')].map(card => [
                card.querySelector('[data-testid="stMetricLabel"]').innerText.trim(),
                card.querySelector('[data-testid="stMetricValue"]').innerText.trim(),
            ]))"""
    )


def one(env: dict[str, str], statement: str, params=None) -> tuple:
    with db.connect(env) as conn:
        return conn.execute(statement, params).fetchone()


def create_customer(page, url: str, email: str, region: str, channel: str) -> None:
    """Step 1: a new customer, through the customers page."""
    page.goto(f"{url}/edit_customers")
    settled(page)
    page.get_by_role("button", name="New customer").click()
    settled(page)
    # a customer needs nothing but the id the app gives: every field is optional
    fill(page, "First name (optional)", "Grace")
    fill(page, "Last name (optional)", HOSTILE_NAME)
    fill(page, "Email (optional)", email)
    fill(page, "Country code (optional)", "US")
    choose(page, "Region", "Search region", region, region)
    choose(page, "Acquisition channel", "Search acquisition channel", channel, channel)
    page.get_by_role("button", name="Create").click()
    settled(page)
    page.get_by_text(re.compile(r"Created customer #app-\d+")).wait_for()


def create_order(
    page, url: str, email: str, region: str, channel: str, sku: str, net: Decimal
) -> None:
    """Step 2: an order for that customer (found by email), two units of one
    product, through the orders page; its net amount is shown before saving."""
    page.goto(f"{url}/edit_orders")
    settled(page)
    page.get_by_role("button", name="New order").click()
    settled(page)
    shown = choose(page, "Customer", "Search customer", email, "Grace Hopper")
    # the name shows in the customer selector as text, never run as HTML
    assert HOSTILE_NAME in shown
    assert page.evaluate("() => window.pwned") is None
    choose(page, "Channel", "Search channel", channel, channel)
    choose(page, "Ship to region", "Search ship to region", region, region)
    choose(page, "Product", "Search product", sku, sku)
    fill(page, "Quantity", "2")
    page.get_by_role("button", name="Add line").click()
    settled(page)
    # the totals are shown before saving
    assert metrics(page)["Net"] == f"{net:,.2f}"
    page.screenshot(path=str(SCREENSHOTS / "edit_orders.png"))
    page.get_by_role("button", name="Create").click()
    settled(page)
    page.get_by_text(re.compile(r"Created order #app-\d+")).wait_for()
    assert page.evaluate("() => window.pwned") is None


def refresh_warehouse(page, url: str, env: dict[str, str]) -> None:
    """Step 3: refresh the warehouse from the app."""
    page.goto(f"{url}/refresh_warehouse")
    settled(page)
    page.get_by_role("button", name="Refresh warehouse").click()
    page.get_by_text("Warehouse refreshed by edna").wait_for(timeout=300_000)
    settled(page)
    page.screenshot(path=str(SCREENSHOTS / "refresh_warehouse.png"))
    assert one(
        env, "select status from app.refresh_runs order by run_id desc limit 1"
    ) == ("success",)


def overview_cards(page, url: str, day: str) -> dict[str, str]:
    """Step 4: the Overview's cards for one day."""
    page.goto(f"{url}/?from={day}&to={day}")
    settled(page)
    # the Overview's own cards (a page that is still being replaced may show
    # others for a moment)
    page.wait_for_function(
        """() => ['Revenue', 'Orders'].every(label =>
            [...document.querySelectorAll('[data-testid="stMetricLabel"]')]
                .some(card => card.innerText.trim() === label))"""
    )
    settled(page)
    return metrics(page)


def test_create_customer_and_order_refresh_and_see_it(warehouse, page):
    env, url = warehouse["env"], warehouse["url"]
    region, channel = one(
        env,
        "select (select region_name from raw.regions order by region_id limit 1),"
        " (select channel_name from raw.channels order by channel_id limit 1)",
    )
    sku, list_price = one(
        env,
        "select sku, list_price from raw.products"
        " where is_active order by product_id limit 1",
    )
    email = "grace.hopper@example.com"

    create_customer(page, url, email, region, channel)
    (customer_id,) = one(
        env, "select customer_id from raw.customers where email = %s", [email]
    )
    assert customer_id.startswith("app-")  # the app's ids

    expected = Decimal(list_price) * 2
    create_order(page, url, email, region, channel, sku, expected)
    order_id, ordered_at, lines = one(
        env,
        "select o.order_id, o.ordered_at::date, count(i.*)"
        " from raw.orders as o join raw.order_items as i using (order_id)"
        " where o.customer_id = %s group by o.order_id",
        [customer_id],
    )
    assert lines == 1
    revenue_before, orders_before = one(
        env,
        "select coalesce(sum(net_revenue), 0), count(*) from marts.fct_orders"
        " where is_sale and order_date = %s",
        [ordered_at],
    )

    refresh_warehouse(page, url, env)

    # the Overview for that day moved by exactly this order
    cards = overview_cards(page, url, ordered_at.isoformat())
    assert cards["Revenue"] == ui.money(float(revenue_before + expected))
    assert cards["Orders"] == ui.count(orders_before + 1)
    assert one(
        env, "select net_revenue from marts.fct_orders where order_id = %s", [order_id]
    ) == (expected,)
