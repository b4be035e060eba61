"""Validation in the editing layer (core.editing): one message per rule and
field, nothing written; database refusals (unique, foreign key, check, sizes)
as field messages; an unreachable database in one line."""

from __future__ import annotations

import socket
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import editing_support
import psycopg
import pytest
from conftest import point_app_at
from editing_support import (
    USER,
    counts,
    errors_of,
    lines,
    new_order,
    sql_one,
    valid,
)

from core import db, editing

# The fixtures of editing_support: a small shop in this module's own database.
shop = editing_support.shop
env = editing_support.env


# -------------------------------------------------------------- validation


RULES = [
    (
        "customers",
        {"last_name": "x" * 101},
        "last_name",
        "Last name: use at most 100 characters",
    ),
    ("customers", {"email": "no-at-sign"}, "email", "Email: not a valid email"),
    ("customers", {"email": "a b@c.de"}, "email", "Email: not a valid email"),
    ("customers", {"email": "a@b.de\n"}, "email", "Email: not a valid email"),
    (
        "customers",
        {"birth_date": date.today() + timedelta(days=2)},
        "birth_date",
        "Birth date: must not be in the future",
    ),
    ("customers", {"birth_date": "31/12/1990"}, "birth_date", "Birth date: not a date"),
    (
        "customers",
        {"country_code": "D1"},
        "country_code",
        "Country code: use two capital letters",
    ),
    ("customers", {"segment": "vip"}, "segment", "Segment: must be one of consumer"),
    (
        "customers",
        {"region_id": "x" * 65},
        "region_id",
        "Region: an id has at most 64 characters",
    ),
    (
        "customers",
        {"region_id": "r\x1b[31m"},
        "region_id",
        "Region: an id has no control characters",
    ),
    ("customers", {"region_id": 1.5}, "region_id", "Region: not an id"),
    ("customers", {"is_active": "yes"}, "is_active", "Active: must be yes or no"),
    ("products", {"list_price": 0}, "list_price", "List price: must be more than 0"),
    ("products", {"unit_cost": -1}, "unit_cost", "Unit cost: must not be negative"),
    ("products", {"list_price": "abc"}, "list_price", "List price: must be a number"),
    ("products", {"list_price": 1e14}, "list_price", "List price: must be below"),
    (
        "products",
        {"unit_cost": "1.23456"},
        "unit_cost",
        "Unit cost: use at most 4 decimals (this has 5)",
    ),
    (
        "promotions",
        {"discount_pct": "12.345"},
        "discount_pct",
        "Discount %: use at most 2 decimals",
    ),
    (
        "products",
        {"stock_quantity": -1},
        "stock_quantity",
        "Stock quantity: must be at least 0",
    ),
    (
        "products",
        {"reorder_point": 1.5},
        "reorder_point",
        "Reorder point: must be a whole number",
    ),
    (
        "products",
        {"stock_quantity": 2**31},
        "stock_quantity",
        "Stock quantity: must be at most",
    ),
    ("promotions", {"discount_pct": 0}, "discount_pct", "Discount %: must be more"),
    (
        "promotions",
        {"discount_pct": 101},
        "discount_pct",
        "Discount %: must be at most",
    ),
    (
        "promotions",
        {"ends_at": datetime(2023, 12, 31, tzinfo=UTC)},
        "ends_at",
        "Ends at: must not be before Starts at",
    ),
    ("promotions", {"starts_at": "soon"}, "starts_at", "Starts at: not a date"),
    ("channels", {"channel_type": "tv"}, "channel_type", "Channel type: must be one"),
    ("regions", {"region_name": None}, "region_name", "Region name: required"),
]


@pytest.mark.parametrize(("entity", "bad", "field", "message"), RULES)
def test_validation_messages(env, entity, bad, field, message):
    before = counts(env)
    errors = errors_of(lambda: editing.create_row(entity, valid(entity) | bad, USER))
    assert field in errors, errors
    assert errors[field].startswith(message), errors[field]
    # the same rule on an edit
    row = editing.create_row(entity, valid(entity), USER)
    key = row[editing.entity(entity).key]
    errors = errors_of(
        lambda: editing.update_row(entity, key, bad, row["updated_at"], USER)
    )
    assert errors[field].startswith(message)
    assert editing.get_row(entity, key) == row, "nothing written"
    after = counts(env)
    table = editing.entity(entity).table
    assert after[table] == before[table] + 1
    assert {t: n for t, n in after.items() if t != table} == {
        t: n for t, n in before.items() if t != table
    }


def test_every_missing_required_field_is_named(env):
    errors = errors_of(lambda: editing.create_row("promotions", {}, USER))
    assert set(errors) == {"promo_code", "discount_pct", "starts_at", "ends_at"}
    assert all(m.endswith(": required") for m in errors.values())


def test_a_customer_and_a_product_need_nothing_but_their_id(env):
    customer = editing.create_row("customers", {}, USER)
    assert customer["customer_id"].startswith("app-")
    assert customer["segment"] == "unknown" and customer["is_active"] is True
    for name in ("first_name", "email", "country_code", "region_id"):
        assert customer[name] is None, name
    product = editing.create_row("products", {"unit_cost": ""}, USER)
    assert product["product_id"].startswith("app-")
    for name in ("sku", "product_name", "unit_cost", "list_price", "stock_quantity"):
        assert product[name] is None, name
    # an anonymous order, without channel or region
    order_id = editing.save_order(
        valid("orders") | {"customer_id": None, "channel_id": None}, lines(), USER
    )
    order, _ = editing.get_order(order_id)
    assert order["customer_id"] is None and order["channel_id"] is None


def test_emptying_fields_on_an_edit(env):
    row = editing.create_row("customers", valid("customers"), USER)
    errors = errors_of(
        lambda: editing.update_row(
            "customers",
            row["customer_id"],
            {"signup_at": None, "segment": None},
            row["updated_at"],
            USER,
        )
    )
    assert errors == {"segment": "Segment: required"}
    # an optional field emptied is unknown (null), not its new-row default
    changed = editing.update_row(
        "customers",
        row["customer_id"],
        {"signup_at": None, "email": "", "region_id": None},
        row["updated_at"],
        USER,
    )
    assert changed["signup_at"] is None
    assert changed["email"] is None and changed["region_id"] is None


def test_values_are_cleaned(env):
    row = editing.create_row(
        "products",
        valid("products")
        | {"list_price": "19.9999", "unit_cost": 3, "reorder_point": "4"},
        USER,
    )
    # money is stored exactly as given, never rounded
    assert str(row["list_price"]) == "19.9999"
    assert row["unit_cost"] == Decimal(3)
    assert row["reorder_point"] == 4
    customer = editing.create_row(
        "customers", valid("customers") | {"country_code": "de"}, USER
    )
    assert customer["country_code"] == "DE"


def test_order_validation_names_the_line(env):
    before = counts(env)
    bad = lines((1, 2, "10.00", "0"), (2, 0, "5.00", "0"), (3, 1, "5.00", "5.01"))
    errors = errors_of(lambda: editing.save_order(valid("orders"), bad, USER))
    assert errors["items.2.quantity"] == "Line 2, Quantity: must be at least 1"
    assert errors["items.3.discount_amount"].startswith(
        "Line 3, Discount: must be between 0 and the line amount"
    )
    assert "5.00" in errors["items.3.discount_amount"]
    errors = errors_of(lambda: editing.save_order(valid("orders"), [], USER))
    assert errors == {"items": "Items: an order needs at least one line"}
    errors = errors_of(
        lambda: editing.save_order(
            valid("orders") | {"status": "lost", "customer_id": "c" * 65}, lines(), USER
        )
    )
    assert errors["status"].startswith("Status: must be one of placed")
    assert errors["customer_id"] == "Customer: an id has at most 64 characters"
    errors = errors_of(
        lambda: editing.save_order(
            valid("orders"), lines((1, 1, "10.00001", "0")), USER
        )
    )
    assert errors == {
        "items.1.unit_price": "Line 1, Unit price: use at most 4 decimals (this has 5)"
    }
    assert counts(env) == before


# ------------------------------------------------ database errors as messages


@pytest.mark.parametrize(
    ("entity", "field", "message"),
    [
        ("customers", "email", "Email: already used by another customer"),
        ("products", "sku", "SKU: already used by another product"),
        ("promotions", "promo_code", "Promo code: already used by another promotion"),
        ("regions", "region_name", "Region name: already used by another region"),
        ("channels", "channel_name", "Channel name: already used by another channel"),
    ],
)
def test_unique_violations_name_the_field(env, entity, field, message):
    first = editing.create_row(entity, valid(entity), USER)
    before = counts(env)
    errors = errors_of(
        lambda: editing.create_row(entity, valid(entity) | {field: first[field]}, USER)
    )
    assert errors == {field: message}
    other = editing.create_row(entity, valid(entity), USER)
    key = editing.entity(entity).key
    errors = errors_of(
        lambda: editing.update_row(
            entity, other[key], {field: first[field]}, other["updated_at"], USER
        )
    )
    assert errors == {field: message}
    assert editing.get_row(entity, other[key]) == other
    assert (
        counts(env)[editing.entity(entity).table]
        == before[editing.entity(entity).table] + 1
    )


def test_missing_references_name_the_field(env):
    errors = errors_of(
        lambda: editing.create_row(
            "customers", valid("customers") | {"region_id": "no such region"}, USER
        )
    )
    assert errors == {
        "region_id": "Region: no such region (it may have been deleted meanwhile)"
    }
    before = counts(env)
    errors = errors_of(
        lambda: new_order(
            lines((1, 1, "10.00", "0"), (987_654_321, 1, "10.00", "0")),
        )
    )
    assert errors == {
        "items.2.product_id": "Line 2, Product: no such product "
        "(it may have been deleted meanwhile)"
    }
    assert counts(env) == before, "neither the order nor its first line is written"


def _violation(env, statement, params) -> psycopg.Error:
    with db.connect(env) as conn:
        try:
            conn.execute(statement, params)
        except psycopg.Error as exc:
            return exc
    raise AssertionError("the statement did not fail")


# A statement that breaks a constraint, the values it wrote, and the message.
DATABASE_ERRORS = [
    (
        "channels",
        "insert into raw.channels values (99, 'X', %(channel_type)s)",
        {"channel_type": "tv"},
        "channel_type",
        "Channel type: must be one of online, marketplace, offline, unknown",
    ),
    (
        "customers",
        "update raw.customers set email = %(email)s where customer_id = '1'",
        {"email": "broken"},
        "email",
        "Email: not a valid email address",
    ),
    (
        "customers",
        "update raw.customers set country_code = %(country_code)s "
        "where customer_id = '1'",
        {"country_code": "d1"},
        "country_code",
        "Country code: use two capital letters, like DE",
    ),
    (
        "promotions",
        "update raw.promotions set ends_at = starts_at - interval '1 day' "
        "where promotion_id = '1'",
        {},
        "ends_at",
        "Ends at: must not be before Starts at",
    ),
    (
        "products",
        "update raw.products set stock_quantity = %(stock_quantity)s "
        "where product_id = '1'",
        {"stock_quantity": -5},
        "stock_quantity",
        "Stock quantity: must not be negative",
    ),
    (
        "regions",
        "insert into raw.regions values ('99', %(region_name)s)",
        {"region_name": None},
        "region_name",
        "Region name: required",
    ),
    (
        "regions",
        "insert into raw.regions values ('99', %(region_name)s)",
        {"region_name": "x" * 101},
        "region_name",
        "Region name: use at most 100 characters",
    ),
    (
        "products",
        "update raw.products set list_price = %(list_price)s where product_id = '1'",
        {"list_price": Decimal("1e14")},
        "list_price",
        "List price: must be below 100,000,000,000,000",
    ),
    (
        "products",
        "update raw.products set unit_cost = %(unit_cost)s where product_id = '1'",
        {"unit_cost": Decimal("0.12345")},
        "unit_cost",
        "Unit cost: use at most 4 decimals",
    ),
    (
        "regions",
        "insert into raw.regions values (%(region_id)s, 'Spaced')",
        {"region_id": " r1"},
        "region_id",
        "Region id: use 1 to 64 characters, no control characters and no spaces "
        "at either end",
    ),
    (
        "products",
        "update raw.products set stock_quantity = %(stock_quantity)s "
        "where product_id = '1'",
        {"stock_quantity": 2**40},
        "stock_quantity",
        "Stock quantity: is too large",
    ),
    (
        "customers",
        "update raw.customers set city = %(city)s where customer_id = '1'",
        {"city": "nul\x00byte"},
        "city",
        "City: must not contain a NUL character",
    ),
]


@pytest.mark.parametrize(
    ("entity", "statement", "values", "field", "message"), DATABASE_ERRORS
)
def test_database_errors_become_field_messages(
    env, entity, statement, values, field, message
):
    exc = _violation(env, statement, values)
    translated = editing.translate_error(exc, editing.entity(entity), values)
    assert isinstance(translated, editing.ValidationError), translated.message
    assert translated.errors == {field: message}


def test_order_line_check_from_the_database_names_the_line(env):
    """A line without a price takes the product's list price; its discount is
    then checked against it."""
    price = sql_one(env, "select list_price from raw.products where product_id = '2'")
    before = counts(env)
    items = [
        {"product_id": 1, "quantity": 1},
        {"product_id": 2, "quantity": 1, "discount_amount": price + 1},
    ]
    errors = errors_of(lambda: editing.save_order(valid("orders"), items, USER))
    assert set(errors) == {"items.2.discount_amount"}
    assert errors["items.2.discount_amount"] == (
        f"Line 2, Discount: must be between 0 and the line amount ({price:,f})"
    )
    assert counts(env) == before
    order_id = editing.save_order(valid("orders"), items[:1], USER)
    assert editing.get_order(order_id)[1][0]["unit_price"] == sql_one(
        env, "select list_price from raw.products where product_id = '1'"
    )


def test_unreachable_database_is_one_line(monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    point_app_at(
        monkeypatch,
        {"PGHOST": "127.0.0.1", "PGPORT": str(port), "PGDATABASE": "shop"},
    )
    with pytest.raises(editing.Unavailable) as caught:
        editing.list_rows("customers")
    assert caught.value.message.startswith(
        f"Cannot reach the database at 127.0.0.1:{port}/shop"
    )
    assert "\n" not in caught.value.message
    with pytest.raises(editing.Unavailable):
        editing.create_row("regions", valid("regions"), USER)
