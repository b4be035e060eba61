"""The dashboards on a shop shaped like a real export, under Streamlit's AppTest.

The shop sells one product, has no unit costs, no stock levels, no channels or
regions, customers known only by their ids, text order ids and about 18 months of
history. It is written as CSV files, loaded by the loader and built by dbt. Every
page renders without an exception and says what it cannot show ("not available",
"not tracked", no pairs) instead of showing wrong numbers (a 100 % margin, an
"out of stock" product).
"""

from __future__ import annotations

import csv
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import signed_in_viewer
from streamlit.testing.v1 import AppTest

from core import db
from core.accounts import User
from core.dbt_runner import run_dbt
from loader.load import load_directory

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "streamlit_app" / "app.py"
DASHBOARDS = {
    "sales": "views/sales.py",
    "products": "views/products.py",
    "customers": "views/customers.py",
    "retention": "views/retention.py",
    "basket": "views/basket.py",
    "inventory": "views/inventory.py",
    "quality": "views/quality.py",
    "predictions": "views/predictions.py",
}
FIRST_DAY = date(2023, 1, 1)
DAYS = 547  # about 18 months
CUSTOMERS = 60


# ------------------------------------------------------------------ the shop


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _customer_of(number: int) -> int:
    """Customers 0-19 come back again and again; 20-59 order once each."""
    if number % 2 or number >= 2 * (CUSTOMERS - 20):
        return number % 20
    return 20 + number // 2


def write_shop(folder: Path) -> None:
    """One product without cost or stock, customers with ids only, orders without
    channel or region: every third day an order, a few of them anonymous."""
    write_csv(
        folder / "products.csv",
        ["product_id", "product_name", "list_price"],
        [["P-CANDLE", "Hand-poured candle", "24.00"]],
    )
    write_csv(
        folder / "customers.csv",
        ["customer_id"],
        [[f"C-{n:04d}"] for n in range(CUSTOMERS)],
    )
    orders, items = [], []
    for number, day in enumerate(range(0, DAYS, 3)):
        order_id = f"ORD-{FIRST_DAY.year + day // 365}-{number:06d}"
        customer = f"C-{_customer_of(number):04d}" if number % 10 != 9 else ""
        ordered_at = FIRST_DAY + timedelta(days=day)
        orders.append([order_id, customer, f"{ordered_at.isoformat()} 10:30:00"])
        items.append([f"{order_id}-1", order_id, "P-CANDLE", 1 + number % 3, "24.00"])
    write_csv(folder / "orders.csv", ["order_id", "customer_id", "ordered_at"], orders)
    write_csv(
        folder / "order_items.csv",
        ["order_item_id", "order_id", "product_id", "quantity", "unit_price"],
        items,
    )


@pytest.fixture(scope="module")
def real_shop(pg_env, tmp_path_factory):
    """The shop loaded into a database of its own and built by dbt."""
    env = db.create_database(pg_env, f"ecom_shop_{uuid.uuid4().hex[:10]}")
    try:
        folder = tmp_path_factory.mktemp("real_shop")
        write_shop(folder)
        results = load_directory(env, folder)
        assert not any(r.rows_rejected for r in results), results
        target = tmp_path_factory.mktemp("real_shop_target")
        built = run_dbt(["build"], env, target_path=target, capture=True)
        assert built.returncode == 0, built.stdout[-5000:]
        yield {"env": env, "target": target}
    finally:
        db.drop_database(pg_env, env["PGDATABASE"])


SIGNED_IN: dict[str, User | None] = {"user": None}


@pytest.fixture
def shop(real_shop, monkeypatch) -> dict[str, str]:
    SIGNED_IN["user"] = signed_in_viewer(
        monkeypatch, real_shop["env"], real_shop["target"]
    )
    return real_shop["env"]


def open_page(page: str | None = None) -> AppTest:
    """Open the app (the Overview) and switch to `page`; no exception."""
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.session_state["user"] = SIGNED_IN["user"]
    at.run()
    if page is not None:
        at.switch_page(DASHBOARDS[page]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_text(at: AppTest) -> str:
    """Every message, caption, text and KPI card of the page, in one string."""
    parts = [
        element.value
        for kind in ("info", "warning", "caption", "markdown", "text", "error")
        for element in getattr(at, kind)
    ]
    parts += [f"{m.label}: {m.value}" for m in at.metric]
    return "\n".join(str(p) for p in parts)


def metric_value(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r} among {[m.label for m in at.metric]}"
    return found[0]


# --------------------------------------------------------------------- the pages


def test_loaded_shop_is_shaped_like_the_export(real_shop):
    env = real_shop["env"]
    with db.connect(env) as conn:
        products, costs, stocks = conn.execute(
            "select count(*), count(unit_cost), count(stock_quantity) "
            "from marts.dim_products"
        ).fetchone()
        channels, orders, first, last = conn.execute(
            "select count(channel_id), count(*), min(order_date), max(order_date) "
            "from marts.fct_orders"
        ).fetchone()
    assert (products, costs, stocks, channels) == (1, 0, 0, 0)
    assert orders == len(range(0, DAYS, 3))
    assert (last - first).days >= 540


def test_text_ids_reach_the_marts_and_the_editing_search(shop):
    """The export's own ids, as given, in the marts and found by the app's
    search (`shop` points the editing layer at this database)."""
    from core import editing

    with db.connect(shop) as conn:
        in_marts = conn.execute(
            "select o.order_id, o.customer_id, i.product_id "
            "from marts.fct_orders o join marts.fct_order_items i using (order_id) "
            "where o.order_id = 'ORD-2023-000001'"
        ).fetchall()
    assert in_marts == [("ORD-2023-000001", "C-0001", "P-CANDLE")]
    frame, total = editing.list_rows("orders", "ORD-2023-000001")
    assert total == 1 and frame.iloc[0]["order_id"] == "ORD-2023-000001"
    frame, _ = editing.list_rows("customers", "C-0001")
    assert list(frame["customer_id"]) == ["C-0001"]


def test_overview_says_the_margin_is_not_available(shop):
    at = open_page()
    assert not at.error, [e.value for e in at.error]
    assert metric_value(at, "Gross margin") == "not available"
    assert "no unit costs in the data" in shown_text(at)
    assert "100" not in metric_value(at, "Gross margin")


@pytest.mark.parametrize("page", list(DASHBOARDS))
def test_every_page_renders_without_an_error(shop, page):
    at = open_page(page)
    assert [t.value for t in at.title], "the page has no title"
    assert not at.error, [e.value for e in at.error]


def test_sales_and_products_say_why_there_is_no_margin(shop):
    for page in ("sales", "products"):
        text = shown_text(open_page(page))
        assert "not available" in text and "no unit costs in the data" in text, page


def test_inventory_says_stock_is_not_tracked(shop):
    at = open_page("inventory")
    assert "Inventory is not tracked" in shown_text(at)
    for label in ("Units in stock", "Below reorder point", "Out of stock"):
        assert metric_value(at, label) == "not tracked", label


def test_basket_says_there_are_no_pairs(shop):
    text = shown_text(open_page("basket"))
    assert "no pair" in text.lower()


def test_sidebar_offers_unknown_channel_and_region(shop):
    at = open_page()
    assert at.multiselect(key="filter_channels").options == ["Unknown"]
    assert at.multiselect(key="filter_regions").options == ["Unknown"]
    revenue = metric_value(at, "Revenue")
    at.multiselect(key="filter_channels").set_value(["Unknown"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert metric_value(at, "Revenue") == revenue


@pytest.mark.parametrize("page", ["sales", "products"])
def test_chart_hover_labels_say_the_margin_is_not_available(shop, page):
    at = open_page(page)
    specs = [chart.proto.spec for chart in at.get("plotly_chart")]
    assert any("not available" in spec for spec in specs)
    assert not any("NaN%" in spec for spec in specs)
