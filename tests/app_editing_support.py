"""What the editing pages' AppTest tests share: a small generated shop with one
account per role in each test module's database, and helpers that open a page,
fill its form, click and read what it shows.

A test module takes the fixtures by naming them at its top:
`shop = app_editing_support.shop` and `env = app_editing_support.env`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import app_account, point_app_at
from editing_support import load_small_shop, sql_one
from psycopg import sql
from streamlit.testing.v1 import AppTest

from core import editing

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "streamlit_app" / "app.py"
PAGES = {
    "customers": "views/edit_customers.py",
    "products": "views/edit_products.py",
    "promotions": "views/edit_promotions.py",
    "regions": "views/edit_regions.py",
    "channels": "views/edit_channels.py",
    "orders": "views/edit_orders.py",
    "audit": "views/audit.py",
}

# ----------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def shop(module_db, tmp_path_factory) -> dict:
    """A small generated shop and one account per role."""
    users = {
        role: app_account(module_db, role) for role in ("viewer", "editor", "admin")
    }
    load_small_shop(module_db, tmp_path_factory)
    return {"env": module_db, "users": users}


@pytest.fixture
def env(shop, monkeypatch) -> dict[str, str]:
    """AppTest runs the app in this process: point the process at the shop."""
    point_app_at(monkeypatch, shop["env"])
    return shop["env"]


# ------------------------------------------------------------------------ helpers


def count(env, table: str) -> int:
    return sql_one(
        env, sql.SQL("select count(*) from raw.{}").format(sql.Identifier(table))
    )


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_page(shop, page: str, role: str = "editor") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["user"] = shop["users"][role]
    at.run()
    at.switch_page(PAGES[page]).run()
    return ok(at)


def texts(at: AppTest, kind: str) -> list[str]:
    return [e.value for e in getattr(at, kind)]


def markup(at: AppTest) -> str:
    """Everything rendered as Markdown (titles, captions, messages)."""
    kinds = (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "success",
        "info",
        "warning",
        "error",
    )
    return "\n".join(str(v) for kind in kinds for v in texts(at, kind))


def shows_total(at: AppTest, total: int, noun: str) -> bool:
    return any(f"of {total:,} {noun}." in c for c in texts(at, "caption"))


def widget(at: AppTest, key: str):
    for kind in (
        "text_input",
        "number_input",
        "selectbox",
        "datetime_input",
        "date_input",
        "checkbox",
        "toggle",
    ):
        try:
            return getattr(at, kind)(key=key)
        except KeyError:
            continue
    raise KeyError(key)


def fill(at: AppTest, prefix: str, values: dict) -> AppTest:
    """Set form fields; a (search, key) pair drives a search-as-you-type
    selector: type the search, then choose the row."""
    for name, value in values.items():
        key = f"{prefix}.f.{name}"
        if isinstance(value, tuple):
            search, chosen = value
            ok(at.text_input(key=key + ".q").input(search).run())
            at.selectbox(key=key).select(chosen)
        elif isinstance(value, Decimal):  # amounts are typed as text, exactly
            at.text_input(key=key).input(f"{value:f}")
        else:
            widget(at, key).set_value(value)
    return ok(at.run())


def open_row(at: AppTest, prefix: str, key: str) -> AppTest:
    ok(at.text_input(key=f"{prefix}.search").input(f"#{key}").run())
    at.selectbox(key=f"{prefix}.pick").select(key)
    return ok(at.button(key=f"{prefix}.open").click().run())


def click(at: AppTest, key: str) -> AppTest:
    return ok(at.button(key=key).click().run())


def valid(entity: str, n: int) -> dict:
    return {
        "customers": {
            "first_name": "Page",
            "last_name": f"Tester{n}",
            "email": f"page.tester{n}@example.com",
            "country_code": "FR",
            "region_id": "1",
            "acquisition_channel_id": "1",
        },
        "products": {
            "sku": f"APP-{n:06d}",
            "product_name": f"App product {n}",
            "category": "electronics",
            "subcategory": "audio",
            "brand": "Acme",
            "unit_cost": Decimal("2.00"),
            "list_price": Decimal("4.00"),
            "stock_quantity": 5,
            "reorder_point": 1,
        },
        "promotions": {
            "promo_code": f"APP{n}",
            "discount_pct": Decimal("5"),
            "starts_at": datetime(2025, 3, 1, tzinfo=UTC),
            "ends_at": datetime(2025, 3, 9, tzinfo=UTC),
        },
        "regions": {"region_name": f"App region {n}"},
        "channels": {"channel_name": f"App channel {n}", "channel_type": "online"},
    }[entity]


serial = iter(range(1, 10**6))


def made(entity: str) -> dict:
    """A fresh row made through the editing layer (no orders refer to it)."""
    return editing.create_row(entity, valid(entity, next(serial)), "setup")


def key_of(entity: str) -> str:
    return editing.entity(entity).key
