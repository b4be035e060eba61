"""What the editing layer's tests share: a small generated shop per test module,
values that pass every rule, order lines, and SQL to compare with.

A test module takes the fixtures by naming them at its top:
`shop = editing_support.shop` and `env = editing_support.env`.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from conftest import point_app_at
from conftest import query as sql_rows
from psycopg import sql

from core import db, editing
from core.schema import apply_schema
from loader.generate import generate
from loader.load import TABLES, load_directory

USER = "alice"
_serial = itertools.count(1)

__all__ = [
    "USER",
    "counts",
    "env",
    "errors_of",
    "ids",
    "lines",
    "load_small_shop",
    "new_order",
    "shop",
    "sql_one",
    "sql_rows",
    "valid",
]


# ----------------------------------------------------------------------- helpers


def sql_one(env, statement, params=None):
    return sql_rows(env, statement, params)[0][0]


def counts(env: dict[str, str]) -> dict[str, int]:
    return {
        table: sql_one(
            env, sql.SQL("select count(*) from raw.{}").format(sql.Identifier(table))
        )
        for table in TABLES
    }


def ids(frame, key):
    return [str(v) for v in frame[key]]


def valid(entity: str) -> dict:
    """Values that pass every rule, unique where the table wants it."""
    n = next(_serial)
    if entity == "customers":
        return {
            "first_name": "Test",
            "last_name": f"User{n}",
            "email": f"test.user{n}@example.com",
            "phone": "+1 555 0100",
            "birth_date": date(1990, 5, 17),
            "city": "Springfield",
            "country_code": "US",
            "region_id": "1",
            "segment": "consumer",
            "acquisition_channel_id": "1",
        }
    if entity == "products":
        return {
            "sku": f"TST-{n:06d}",
            "product_name": f"Test product {n}",
            "category": "test",
            "subcategory": "testing",
            "brand": "Acme",
            "unit_cost": Decimal("5.00"),
            "list_price": Decimal("9.99"),
            "stock_quantity": 10,
            "reorder_point": 3,
        }
    if entity == "promotions":
        return {
            "promo_code": f"TEST{n}",
            "description": "A test promotion",
            "discount_pct": Decimal("10.00"),
            "starts_at": datetime(2024, 1, 1, tzinfo=UTC),
            "ends_at": datetime(2024, 1, 31, 23, 59, tzinfo=UTC),
        }
    if entity == "regions":
        return {"region_name": f"Test region {n}"}
    if entity == "channels":
        return {"channel_name": f"Test channel {n}", "channel_type": "online"}
    if entity == "orders":
        return {
            "customer_id": "1",
            "channel_id": "1",
            "ship_region_id": "1",
            "promotion_id": None,
            "ordered_at": datetime(2025, 6, 1, 10, 30, tzinfo=UTC),
            "status": "placed",
            "payment_status": "pending",
            "payment_method": "card",
            "shipping_amount": Decimal("4.99"),
            "tax_amount": Decimal("1.50"),
        }
    raise ValueError(entity)


def lines(*specs: tuple[int | str, int, str, str]) -> list[dict]:
    """Order lines (product id, quantity, unit price, discount); one by default.
    Product ids are text (a number is taken as its digits, as the generated
    shop writes them)."""
    specs = specs or ((1, 1, "10.00", "0"),)
    return [
        {
            "product_id": str(product),
            "quantity": quantity,
            "unit_price": Decimal(price),
            "discount_amount": Decimal(discount),
        }
        for product, quantity, price, discount in specs
    ]


def new_order(items=None, **changes) -> str:
    items = items if items is not None else lines((1, 2, "10.00", "1.00"))
    assert items
    return editing.save_order(valid("orders") | changes, items, USER)


def errors_of(call) -> dict[str, str]:
    with pytest.raises(editing.ValidationError) as caught:
        call()
    return caught.value.errors


# ---------------------------------------------------------------------- fixtures


def load_small_shop(env: dict[str, str], tmp_path_factory) -> None:
    """A small generated shop loaded into env's database: 200 customers, 84
    products, 1 000 orders."""
    data_dir = tmp_path_factory.mktemp("shop")
    generate(data_dir, scale=0.02, seed=1)
    load_directory(env, data_dir)


@pytest.fixture(scope="module")
def shop(module_db, tmp_path_factory) -> dict[str, str]:
    """The small shop in the test module's own database."""
    with db.connect(module_db) as conn:
        apply_schema(conn)
    load_small_shop(module_db, tmp_path_factory)
    return module_db


@pytest.fixture
def env(shop, monkeypatch) -> dict[str, str]:
    """The editing layer connects with this process's libpq variables: point
    them at the shop."""
    point_app_at(monkeypatch, shop)
    return shop
