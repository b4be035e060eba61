"""The dashboards under Streamlit's AppTest, on a real warehouse.

Every page renders without an exception; headline figures equal an independent
SQL query on the marts (usually on the facts rather than the report mart the page
reads); the sidebar filters change the numbers and the URL; the empty-warehouse,
not-built and database-down states show their messages instead of a traceback.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import signed_in_viewer
from streamlit.testing.v1 import AppTest

from core import db
from core.accounts import User
from streamlit_app import launch, ui
from streamlit_app import warehouse as wh
from streamlit_app.filters import Filters, from_query_params

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "streamlit_app" / "app.py"
PAGES = {
    "overview": "views/overview.py",
    "sales": "views/sales.py",
    "products": "views/products.py",
    "customers": "views/customers.py",
    "retention": "views/retention.py",
    "basket": "views/basket.py",
    "inventory": "views/inventory.py",
    "quality": "views/quality.py",
    "predictions": "views/predictions.py",
}


# ----------------------------------------------------------------------- helpers


SIGNED_IN: dict[str, User | None] = {"user": None}


def use_database(
    monkeypatch, env: dict[str, str], target: Path | None = None, account: bool = True
) -> None:
    """AppTest runs the app in this process: point this process at `env`, signed
    in as a viewer (an account in that database, unless `account` is False)."""
    SIGNED_IN["user"] = signed_in_viewer(monkeypatch, env, target, account)


def sql(env: dict[str, str], statement: str, params=None) -> list[tuple]:
    with db.connect(env) as conn:
        return conn.execute(statement, params).fetchall()


def open_page(page: str, query_params: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["user"] = SIGNED_IN["user"]
    at.query_params.update(query_params or {})
    at.run()
    if page != "overview":
        at.switch_page(PAGES[page]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str):
    found = [m for m in at.metric if m.label == label]
    assert found, f"no metric {label!r} among {[m.label for m in at.metric]}"
    return found[0]


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def url_dates(start: date, end: date) -> dict[str, str]:
    return {"from": start.isoformat(), "to": end.isoformat()}


_SALES_SQL = """
select
    coalesce(sum(net_revenue), 0),
    count(*),
    count(distinct customer_id),
    coalesce(sum(gross_margin), 0)
from marts.fct_orders
where
    is_sale
    and order_date between %(start)s and %(end)s
    and (%(channel)s::text is null or channel_id = (
        select channel_id from marts.dim_channels where channel_name = %(channel)s
    ))
    and (%(region)s::text is null or ship_region_id = (
        select region_id from marts.dim_regions where region_name = %(region)s
    ))
"""


def expected_kpis(env, start, end, channel=None, region=None) -> dict[str, str]:
    """The Overview cards, computed from marts.fct_orders and formatted alike."""
    params = {"start": start, "end": end, "channel": channel, "region": region}
    net_revenue, orders, customers, margin = sql(env, _SALES_SQL, params)[0]
    net_revenue, margin = float(net_revenue), float(margin)
    return {
        "Revenue": ui.money(net_revenue),
        "Orders": ui.count(orders),
        "Customers": ui.count(customers),
        "Average order value": ui.money2(net_revenue / orders if orders else None),
        "Gross margin": ui.percent(margin / net_revenue if net_revenue else None),
    }


# ---------------------------------------------------------------------- fixtures


@pytest.fixture
def warehouse(built_warehouse, monkeypatch) -> dict[str, str]:
    env = built_warehouse["env"]
    use_database(monkeypatch, env, Path(built_warehouse["target_path"]))
    return env


@pytest.fixture
def window(warehouse) -> tuple[date, date]:
    """The last 90 days of data."""
    (last,) = sql(warehouse, "select max(order_date) from marts.fct_orders")[0]
    return last - timedelta(days=89), last


# ------------------------------------------------------------------ every page


@pytest.mark.parametrize("page", list(PAGES))
def test_page_renders(warehouse, window, page):
    at = open_page(page, url_dates(*window))
    assert titles(at), "the page has no title"
    assert not at.error, [e.value for e in at.error]
    if page != "predictions":
        assert at.metric, "every dashboard page shows KPI cards"
    for download in at.download_button:
        assert download.proto.label == "Download CSV"


def test_every_table_has_a_csv_download(warehouse, window):
    for page in PAGES:
        at = open_page(page, url_dates(*window))
        tables = len(at.dataframe)
        downloads = len(at.download_button)
        assert downloads == tables, f"{page}: {tables} tables, {downloads} downloads"


# ------------------------------------------------------------------- KPI values


def test_overview_kpis_equal_sql(warehouse, window):
    start, end = window
    at = open_page("overview", url_dates(start, end))
    expected = expected_kpis(warehouse, start, end)
    shown = {label: metric(at, label).value for label in expected}
    assert shown == expected
    # deltas compare with the 90 days before
    previous = Filters(start=start, end=end).previous()
    before = sql(
        warehouse,
        _SALES_SQL,
        {"start": previous.start, "end": previous.end, "channel": None, "region": None},
    )[0]
    now = sql(
        warehouse,
        _SALES_SQL,
        {"start": start, "end": end, "channel": None, "region": None},
    )[0]
    assert metric(at, "Revenue").delta == ui.change(float(now[0]), float(before[0]))
    assert metric(at, "Orders").delta == ui.change(now[1], before[1])


def test_sales_figures_equal_sql(warehouse, window):
    start, end = window
    at = open_page("sales", url_dates(start, end))
    assert (
        metric(at, "Revenue").value == expected_kpis(warehouse, start, end)["Revenue"]
    )
    month = date(end.year, end.month, 1)
    before = (month - timedelta(days=1)).replace(day=1)
    net_revenue = dict(
        sql(
            warehouse,
            """
            select date_trunc('month', order_date)::date, sum(net_revenue)
            from marts.fct_orders
            where is_sale and order_date between %s and %s
            group by 1
            """,
            [before, end],
        )
    )
    mom = (float(net_revenue[month]) - float(net_revenue[before])) / float(
        net_revenue[before]
    )
    assert metric(at, f"MoM growth, {month:%b %Y}").value == ui.percent(mom)


def test_products_figures_equal_sql(warehouse, window):
    start, end = window
    at = open_page("products", url_dates(start, end))
    products, units = sql(
        warehouse,
        """
        select count(distinct product_id), sum(units)
        from marts.fct_order_items
        where is_sale and order_date between %s and %s
        """,
        [start, end],
    )[0]
    assert metric(at, "Products sold").value == ui.count(products)
    assert metric(at, "Units sold").value == ui.count(units)


def test_customers_figures_equal_sql(warehouse, window):
    start, end = window
    at = open_page("customers", url_dates(start, end))
    customers = expected_kpis(warehouse, start, end)["Customers"]
    assert metric(at, "Customers with sales").value == customers
    (scored,) = sql(
        warehouse,
        "select count(distinct customer_id) from marts.fct_orders where is_sale",
    )[0]
    assert metric(at, "Customers scored (RFM)").value == ui.count(scored)
    (due,) = sql(
        warehouse,
        """
        select sum(net_revenue + shipping_amount + tax_amount)
        from marts.fct_orders
        where payment_status in ('pending', 'failed') and status <> 'cancelled'
        """,
    )[0]
    assert metric(at, "Amount outstanding").value == ui.money(float(due or 0))


def test_retention_figures_equal_sql(warehouse, window):
    start, end = window
    at = open_page("retention", url_dates(start, end))
    cohorts, customers = sql(
        warehouse,
        """
        with firsts as (
            select customer_id, date_trunc('month', min(order_date))::date as cohort
            from marts.fct_orders
            where is_sale
            group by customer_id
        )
        select count(distinct cohort), count(*)
        from firsts
        where cohort between date_trunc('month', %s::date) and %s
        """,
        [start, end],
    )[0]
    assert metric(at, "Cohorts").value == ui.count(cohorts)
    assert metric(at, "New customers").value == ui.count(customers)


def test_basket_figures_equal_sql(warehouse, window):
    at = open_page("basket", url_dates(*window))
    rules, products = sql(
        warehouse,
        """
        select count(*), count(distinct antecedent_product_id)
        from marts.rpt_basket_rules
        """,
    )[0]
    assert rules > 0, "the generated data should give association rules"
    assert metric(at, "Rules").value == ui.count(rules)
    assert metric(at, "Products with rules").value == ui.count(products)
    # "frequently bought together" lists the consequents of the chosen product
    picked = at.selectbox(key="basket_product").value
    expected = sql(
        warehouse,
        """
        select count(*) from marts.rpt_basket_rules where antecedent_product_id = %s
        """,
        [picked],
    )[0][0]
    assert len(at.dataframe[0].value) == min(expected, 10)


def test_inventory_figures_equal_sql(warehouse, window):
    at = open_page("inventory", url_dates(*window))
    value, below, out = sql(
        warehouse,
        """
        select
            sum(stock_quantity * unit_cost),
            count(*) filter (where stock_quantity < reorder_point),
            count(*) filter (where stock_quantity = 0)
        from marts.dim_products
        where is_active
        """,
    )[0]
    assert metric(at, "Stock value").value == ui.money(float(value))
    assert metric(at, "Below reorder point").value == ui.count(below)
    assert metric(at, "Out of stock").value == ui.count(out)


def test_quality_figures_equal_sql_and_run_results(warehouse, window, built_warehouse):
    at = open_page("quality", url_dates(*window))
    loaded, rejected = sql(
        warehouse,
        "select sum(rows_loaded), sum(rows_rejected) from marts.rpt_load_batches",
    )[0]
    assert metric(at, "Rows loaded").value == ui.count(loaded)
    assert metric(at, "Rows rejected").value == ui.count(rejected)
    results = json.loads(
        (Path(built_warehouse["target_path"]) / "run_results.json").read_text()
    )["results"]
    passed = sum(
        1
        for r in results
        if r["unique_id"].split(".")[0] in ("test", "unit_test")
        and r["status"] == "pass"
    )
    assert metric(at, "Tests passed").value == ui.count(passed)
    (latest,) = sql(warehouse, "select max(ordered_at) from marts.fct_orders")[0]
    assert metric(at, "Data as of").value == f"{latest:%Y-%m-%d}"


# ----------------------------------------------------------------------- filters


def test_channel_filter_changes_numbers_and_url(warehouse, window):
    start, end = window
    at = open_page("overview", url_dates(start, end))
    everything = metric(at, "Revenue").value
    (channel,) = sql(
        warehouse,
        """
        select channels.channel_name
        from marts.fct_orders as orders
        inner join marts.dim_channels as channels using (channel_id)
        where orders.is_sale and orders.order_date between %s and %s
        group by channels.channel_name
        order by sum(orders.net_revenue), channels.channel_name
        limit 1
        """,
        [start, end],
    )[0]
    at.multiselect(key="filter_channels").set_value([channel]).run()
    assert not at.exception
    expected = expected_kpis(warehouse, start, end, channel=channel)
    assert {label: metric(at, label).value for label in expected} == expected
    assert metric(at, "Revenue").value != everything
    assert at.query_params["channel"] == channel
    # the filter follows the user to another page
    at.switch_page(PAGES["sales"]).run()
    assert metric(at, "Revenue").value == expected["Revenue"]
    assert at.query_params["channel"] == channel


def test_date_filter_changes_numbers_and_url(warehouse, window):
    start, end = window
    at = open_page("overview", url_dates(start, end))
    new_start = end - timedelta(days=29)
    at.date_input(key="filter_dates").set_value((new_start, end)).run()
    assert not at.exception
    expected = expected_kpis(warehouse, new_start, end)
    assert metric(at, "Revenue").value == expected["Revenue"]
    assert metric(at, "Orders").value == expected["Orders"]
    assert at.query_params["from"] == new_start.isoformat()


def test_region_filter_read_from_url(warehouse, window):
    start, end = window
    (region,) = sql(warehouse, "select min(region_name) from marts.dim_regions")[0]
    at = open_page("overview", url_dates(start, end) | {"region": region})
    assert at.multiselect(key="filter_regions").value == [region]
    expected = expected_kpis(warehouse, start, end, region=region)
    assert {label: metric(at, label).value for label in expected} == expected


def test_category_filter_counts_orders_with_a_line_in_it(warehouse, window):
    start, end = window
    (category,) = sql(warehouse, "select min(category) from marts.dim_products")[0]
    at = open_page("overview", url_dates(start, end) | {"category": category})
    net_revenue, orders = sql(
        warehouse,
        """
        select sum(net_revenue), count(distinct order_id)
        from marts.fct_order_items
        where is_sale and order_date between %s and %s and category = %s
        """,
        [start, end, category],
    )[0]
    assert metric(at, "Revenue").value == ui.money(float(net_revenue))
    assert metric(at, "Orders").value == ui.count(orders)
    at.switch_page(PAGES["inventory"]).run()
    (value,) = sql(
        warehouse,
        """
        select sum(stock_quantity * unit_cost) from marts.dim_products
        where is_active and category = %s
        """,
        [category],
    )[0]
    assert metric(at, "Stock value").value == ui.money(float(value))


def test_filters_without_sales_show_an_empty_state(warehouse):
    """A filter combination with no sale at all: every page still renders."""
    day, channel, region, category = sql(
        warehouse,
        """
        with first_day as (select min(order_date) as day from marts.fct_orders)
        select first_day.day, channels.channel_name, regions.region_name, c.category
        from first_day
        cross join marts.dim_channels as channels
        cross join marts.dim_regions as regions
        cross join (select distinct category from marts.dim_products) as c
        where not exists (
            select from marts.rpt_sales_daily as sales
            where
                sales.order_date = first_day.day
                and sales.channel_id = channels.channel_id
                and sales.region_id = regions.region_id
                and sales.category = c.category
        )
        order by 2, 3, 4
        limit 1
        """,
    )[0]
    params = url_dates(day, day) | {
        "channel": channel,
        "region": region,
        "category": category,
    }
    for page in PAGES:
        at = open_page(page, params)
        assert titles(at), page
    at = open_page("overview", params)
    assert metric(at, "Revenue").value == "0"
    assert any("No sales match these filters" in i.value for i in at.info)


def test_unknown_url_values_are_ignored(warehouse):
    at = open_page(
        "overview", {"from": "not-a-date", "channel": "No such channel", "region": "?"}
    )
    assert at.multiselect(key="filter_channels").value == []
    assert at.multiselect(key="filter_regions").value == []
    assert "channel" not in at.query_params


# ------------------------------------------------------------ states and safety


def test_database_down_shows_a_message(monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # the port is closed again: nothing listens there
    env = {"PGHOST": "127.0.0.1", "PGPORT": str(port), "PGUSER": "nobody"}
    use_database(monkeypatch, env | {"PGDATABASE": "nowhere"}, account=False)
    for page in ("overview", "sales"):
        at = open_page(page)
        assert titles(at) == ["The warehouse database is not reachable"]
        assert f"127.0.0.1:{port}" in at.text[0].value
        assert not at.exception


def test_not_built_warehouse_shows_what_to_run(fresh_db, monkeypatch):
    use_database(monkeypatch, fresh_db)
    at = open_page("overview")
    assert titles(at) == ["The warehouse has not been built yet"]
    assert "marts.fct_orders" in at.text[0].value
    assert "ecom build" in at.markdown[0].value


def test_empty_warehouse_shows_what_to_run(fresh_db, monkeypatch):
    with db.connect(fresh_db, autocommit=True) as conn:
        conn.execute("create schema marts")
        for name in wh.CORE_MARTS:
            conn.execute(f"create table marts.{name} (id bigint, order_date date)")
    use_database(monkeypatch, fresh_db)
    for page in ("overview", "customers"):
        at = open_page(page)
        assert titles(at) == ["No data in the warehouse yet"]
        assert "ecom load" in at.markdown[0].value
    # the Data quality page still explains itself
    at = open_page("quality")
    assert titles(at) == ["Data quality"]


def test_no_html_from_data():
    """Data text is never rendered as HTML: no unsafe_allow_html, no st.html."""
    sources = list((ROOT / "streamlit_app").rglob("*.py"))
    assert sources
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert "unsafe_allow_html" not in text, path
        assert "st.html(" not in text, path


def test_safe_text_escapes_plotly_markup():
    assert ui.safe_text(["<b>x</b> & y"]) == ["&lt;b&gt;x&lt;/b&gt; &amp; y"]


# --------------------------------------------------------------- pure functions


def test_filters_from_url_clamp_and_drop_unknown_values():
    f = from_query_params(
        {"from": "2020-01-01", "to": "2030-01-01", "channel": ["Web", "Nope"]},
        min_date=date(2023, 1, 1),
        max_date=date(2025, 12, 31),
        channels=["Web", "Shop"],
        regions=[],
        categories=[],
    )
    assert (f.start, f.end, f.channels) == (
        date(2023, 1, 1),
        date(2025, 12, 31),
        ("Web",),
    )
    default = from_query_params(
        {},
        min_date=date(2023, 1, 1),
        max_date=date(2025, 12, 31),
        channels=[],
        regions=[],
        categories=[],
    )
    assert (default.start, default.end) == (date(2025, 1, 1), date(2025, 12, 31))
    # 365 days before 2025-01-01 (2024 is a leap year)
    assert default.previous() == Filters(date(2024, 1, 2), date(2024, 12, 31))
    round_trip = from_query_params(
        f.to_query_params(),
        min_date=date(2023, 1, 1),
        max_date=date(2025, 12, 31),
        channels=["Web", "Shop"],
        regions=[],
        categories=[],
    )
    assert round_trip == f


def test_launcher_picks_a_free_port_when_taken():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        assert not launch.port_is_free("127.0.0.1", taken)
        assert launch.pick_port("127.0.0.1", preferred=taken) != taken


def test_launcher_serves_the_app(built_warehouse):
    env = built_warehouse["env"]
    target = built_warehouse["target_path"]
    with launch.start_background(env, dbt_target=target) as app:
        with urllib.request.urlopen(f"{app.url}/_stcore/health", timeout=10) as reply:
            assert reply.read() == b"ok"
        with urllib.request.urlopen(app.url, timeout=10) as reply:
            assert b"<noscript>" in reply.read()
    assert app.process.poll() is not None
