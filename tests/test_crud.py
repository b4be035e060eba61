"""The editing layer (streamlit_app/crud.py) on a real PostgreSQL.

Create, read, update and delete for every entity; list search, filters, sort and
pages compared with independent SQL; one validation message per rule; database
refusals as field messages; optimistic concurrency with two sessions; orders and
their lines in one transaction; deletes that keep history; the audit trail; a
hostile-input suite over every text field; and the same writes through the
least-privilege role ecom_app.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from conftest import point_app_at
from psycopg import sql
from psycopg.types.json import Jsonb

from core import db
from core.schema import apply_schema
from loader.generate import generate
from loader.load import TABLES, load_directory
from streamlit_app import crud

USER = "alice"
_serial = itertools.count(1)


# ----------------------------------------------------------------------- helpers


def point_at(monkeypatch, env: dict[str, str]) -> None:
    """crud connects with this process's libpq variables: point them at env."""
    point_app_at(monkeypatch, env)


def sql_rows(env: dict[str, str], statement, params=None) -> list[tuple]:
    with db.connect(env) as conn:
        return conn.execute(statement, params).fetchall()


def sql_one(env, statement, params=None):
    return sql_rows(env, statement, params)[0][0]


def counts(env: dict[str, str]) -> dict[str, int]:
    return {
        table: sql_one(
            env, sql.SQL("select count(*) from raw.{}").format(sql.Identifier(table))
        )
        for table in TABLES
    }


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
            "region_id": 1,
            "segment": "consumer",
            "acquisition_channel_id": 1,
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
            "customer_id": 1,
            "channel_id": 1,
            "ship_region_id": 1,
            "promotion_id": None,
            "ordered_at": datetime(2025, 6, 1, 10, 30, tzinfo=UTC),
            "status": "placed",
            "payment_status": "pending",
            "payment_method": "card",
            "shipping_amount": Decimal("4.99"),
            "tax_amount": Decimal("1.50"),
        }
    raise ValueError(entity)


def lines(*specs: tuple[int, int, str, str]) -> list[dict]:
    """Order lines (product, quantity, unit price, discount); one by default."""
    specs = specs or ((1, 1, "10.00", "0"),)
    return [
        {
            "product_id": product,
            "quantity": quantity,
            "unit_price": Decimal(price),
            "discount_amount": Decimal(discount),
        }
        for product, quantity, price, discount in specs
    ]


def new_order(items=None, **changes) -> int:
    items = items if items is not None else lines((1, 2, "10.00", "1.00"))
    assert items
    return crud.save_order(valid("orders") | changes, items, USER)


def errors_of(call) -> dict[str, str]:
    with pytest.raises(crud.ValidationError) as caught:
        call()
    return caught.value.errors


# ---------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def shop(module_db, tmp_path_factory) -> dict[str, str]:
    """A small generated shop: 200 customers, 84 products, 1 000 orders."""
    with db.connect(module_db) as conn:
        apply_schema(conn)
    data_dir = tmp_path_factory.mktemp("shop")
    generate(data_dir, scale=0.02, seed=1)
    load_directory(module_db, data_dir)
    return module_db


@pytest.fixture
def env(shop, monkeypatch) -> dict[str, str]:
    point_at(monkeypatch, shop)
    return shop


# ------------------------------------------------------------- definitions


def test_field_sizes_and_constraints_match_the_catalog(env):
    sizes = dict(
        (
            (table, column),
            size,
        )
        for table, column, size in sql_rows(
            env,
            """
            select table_name, column_name, character_maximum_length
            from information_schema.columns
            where table_schema = 'raw'
            """,
        )
    )
    for ent in crud.ENTITIES.values():
        for f in ent.fields:
            assert (ent.table, f.name) in sizes, (ent.name, f.name)
            if f.kind in ("text", "email", "country"):
                assert f.max_length == sizes[(ent.table, f.name)], (ent.name, f.name)
    for f in crud.ITEM_FIELDS:
        assert ("order_items", f.name) in sizes
    # every check, unique and foreign key constraint has a message for a field
    constraints = sql_rows(
        env,
        """
        select con.conname, con.contype, rel.relname
        from pg_constraint as con
        inner join pg_class as rel on con.conrelid = rel.oid
        inner join pg_namespace as nsp on rel.relnamespace = nsp.oid
        where
            nsp.nspname = 'raw'
            and rel.relname = any(%s)
            and con.contype in ('c', 'u', 'f')
        """,
        [list(TABLES)],
    )
    assert constraints
    for name, _kind, table in constraints:
        assert name in crud.CONSTRAINTS, f"{table}.{name} has no message"


# --------------------------------------------------------------------- CRUD


SIMPLE = ["customers", "products", "promotions", "regions", "channels"]
CHANGE = {
    "customers": {"city": "Shelbyville", "segment": "corporate"},
    "products": {"list_price": Decimal("12.49"), "stock_quantity": 2},
    "promotions": {"description": "Changed", "discount_pct": Decimal("12.50")},
    "regions": {"region_name": "Renamed region"},
    "channels": {"channel_type": "offline"},
}


@pytest.mark.parametrize("entity", SIMPLE)
def test_create_read_update_delete(env, entity):
    ent = crud.entity(entity)
    values = valid(entity)
    created = crud.create_row(entity, values, USER)
    key = created[ent.key]
    assert key > 1_000_000_000, "app rows take ids from the app sequence"
    stored = crud.get_row(entity, key)
    for name, value in values.items():
        assert stored[name] == value, name

    changed = crud.update_row(entity, key, CHANGE[entity], stored["updated_at"], USER)
    assert changed["updated_at"] > stored["updated_at"]
    again = crud.get_row(entity, key)
    for name, value in CHANGE[entity].items():
        assert again[name] == value
    untouched = set(values) - set(CHANGE[entity])
    assert all(again[name] == stored[name] for name in untouched)

    outcome = crud.delete_row(entity, key, again["updated_at"], USER)
    assert outcome.action == "deleted"
    assert crud.get_row(entity, key) is None


def test_update_without_changes_writes_nothing(env):
    row = crud.create_row("regions", valid("regions"), USER)
    before = sql_one(env, "select count(*) from app.audit_log")
    same = crud.update_row(
        "regions",
        row["region_id"],
        {"region_name": row["region_name"]},
        row["updated_at"],
        USER,
    )
    assert same["updated_at"] == row["updated_at"]
    assert sql_one(env, "select count(*) from app.audit_log") == before


def test_writes_need_a_user(env):
    with pytest.raises(ValueError):
        crud.create_row("regions", valid("regions"), None)
    with pytest.raises(ValueError):
        crud.create_row("regions", valid("regions"), "  ")


def test_get_row_of_a_missing_key_is_none(env):
    assert crud.get_row("customers", 999_999_999_999) is None
    assert crud.get_order(999_999_999_999) == (None, [])


# ----------------------------------------------------------------- listing


def _ids(frame, key):
    return [int(v) for v in frame[key]]


def test_search_matches_every_word_in_any_column(env):
    frame, total = crud.list_rows("customers", "ma SAL", page_size=100)
    expected = sql_rows(
        env,
        """
        select customer_id from raw.customers
        where
            concat_ws('|', first_name, last_name, email, phone, city, country_code)
            ~* %(first)s
            and concat_ws('|', first_name, last_name, email, phone, city,
                country_code) ~* %(second)s
        order by customer_id
        """,
        {"first": "ma", "second": "sal"},
    )
    assert total == len(expected) > 0
    assert _ids(frame, "customer_id") == [r[0] for r in expected]


def test_search_by_id_digits(env):
    frame, _ = crud.list_rows("customers", "#17", page_size=100)
    assert 17 in _ids(frame, "customer_id")
    frame, _ = crud.list_rows("orders", "#5", filters={"deleted": "include"})
    assert 5 in _ids(frame, "order_id")


def test_search_wildcards_are_literal(env):
    odd = crud.create_row(
        "customers", valid("customers") | {"city": "100%_real\\city"}, USER
    )
    plain = crud.create_row(
        "customers", valid("customers") | {"city": "1000 real"}, USER
    )
    for text in ("%", "_", "0%_r", "\\"):
        frame, total = crud.list_rows("customers", text, page_size=100)
        found = _ids(frame, "customer_id")
        assert odd["customer_id"] in found, text
        assert plain["customer_id"] not in found, text
        expected = sql_one(
            env,
            """
            select count(*) from raw.customers
            where strpos(lower(concat_ws(' ', first_name, last_name, email, phone,
                city, country_code)), lower(%s)) > 0
            """,
            [text],
        )
        assert total == expected, text


def test_filters_sort_and_pages_equal_sql(env):
    expected = [
        r[0]
        for r in sql_rows(
            env,
            """
            select customer_id from raw.customers
            where segment = any(%s) and region_id = any(%s) and is_active
            order by last_name desc, customer_id desc
            """,
            [["consumer", "corporate"], [1, 2, 3]],
        )
    ]
    assert len(expected) > 14
    filters = {
        "segment": ["consumer", "corporate"],
        "region_id": [1, 2, 3],
        "is_active": True,
    }
    seen: list[int] = []
    page = 1
    while True:
        frame, total = crud.list_rows(
            "customers", "", filters, "last_name", True, page=page, page_size=7
        )
        assert total == len(expected)
        if frame.empty:
            break
        assert len(frame) <= 7
        seen += _ids(frame, "customer_id")
        page += 1
    assert seen == expected
    assert page - 1 == crud.page_count(len(expected), 7)


def test_product_filters_and_reorder_flag(env):
    frame, total = crud.list_rows(
        "products",
        filters={"category": ["electronics", "toys"], "low_stock": True},
        sort="stock_quantity",
        page_size=100,
    )
    expected = sql_rows(
        env,
        """
        select product_id from raw.products
        where category in ('electronics', 'toys') and stock_quantity < reorder_point
        order by stock_quantity, product_id
        """,
    )
    assert total == len(expected)
    assert _ids(frame, "product_id") == [r[0] for r in expected]
    assert frame["below_reorder_point"].all() if total else True
    everything, _ = crud.list_rows("products", page_size=100)
    flags = dict(
        zip(everything["product_id"], everything["below_reorder_point"], strict=True)
    )
    for product_id, stock, reorder in sql_rows(
        env, "select product_id, stock_quantity, reorder_point from raw.products"
    ):
        if product_id in flags:
            assert flags[product_id] == (stock < reorder)


def test_order_filters_and_totals_equal_sql(env):
    start, end = date(2024, 1, 1), date(2024, 6, 30)
    frame, total = crud.list_rows(
        "orders",
        filters={
            "status": ["delivered", "shipped"],
            "payment_status": ["paid"],
            "ordered_from": start,
            "ordered_to": end,
            "deleted": "hide",
        },
        sort="ordered_at",
        page_size=50,
    )
    expected = sql_rows(
        env,
        """
        select
            o.order_id,
            coalesce(sum(i.quantity * i.unit_price), 0) - coalesce(
                sum(i.discount_amount), 0
            ) + o.shipping_amount + o.tax_amount
        from raw.orders as o
        left join raw.order_items as i on o.order_id = i.order_id
        where o.status in ('delivered', 'shipped') and o.payment_status = 'paid'
          and o.ordered_at >= %s and o.ordered_at < %s and o.deleted_at is null
        group by o.order_id
        order by o.ordered_at, o.order_id
        """,
        [
            datetime.combine(start, datetime.min.time(), UTC),
            datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC),
        ],
    )
    assert total == len(expected) > 0
    assert _ids(frame, "order_id") == [r[0] for r in expected[:50]]
    assert [Decimal(v) for v in frame["total"]] == [r[1] for r in expected[:50]]


def test_unknown_sort_or_filter_is_refused(env):
    with pytest.raises(ValueError):
        crud.list_rows("customers", sort="email; drop table raw.customers")
    with pytest.raises(ValueError):
        crud.list_rows("customers", filters={"1=1": True})
    with pytest.raises(ValueError):
        crud.list_rows("nope")


def test_search_options_for_selectors(env):
    options = crud.search_options("customers", "maggie")
    assert options and len(options) <= 20
    key, label = options[0]
    row = crud.get_row("customers", key)
    assert label == (
        f"{row['first_name']} {row['last_name']} <{row['email']}> (#{key})"
    )
    assert crud.search_options("customers", str(key))[0][0] == key
    assert len(crud.search_options("products", "")) == 20
    assert crud.label_for("regions", 1) == crud.search_options("regions", "#1")[0][1]
    # inactive rows are not offered for new orders
    inactive = crud.create_row(
        "products", valid("products") | {"is_active": False}, USER
    )
    sku = inactive["sku"]
    assert crud.search_options("products", sku) == []
    assert (
        crud.search_options("products", sku, active_only=False)[0][0]
        == (inactive["product_id"])
    )


# -------------------------------------------------------------- validation


RULES = [
    ("customers", {"first_name": ""}, "first_name", "First name: required"),
    ("customers", {"first_name": "   "}, "first_name", "First name: required"),
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
    ("customers", {"region_id": None}, "region_id", "Region: required"),
    ("customers", {"is_active": "yes"}, "is_active", "Active: must be yes or no"),
    ("products", {"list_price": 0}, "list_price", "List price: must be more than 0"),
    ("products", {"unit_cost": -1}, "unit_cost", "Unit cost: must not be negative"),
    ("products", {"list_price": "abc"}, "list_price", "List price: must be a number"),
    ("products", {"list_price": 1e12}, "list_price", "List price: is too large"),
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
    errors = errors_of(lambda: crud.create_row(entity, valid(entity) | bad, USER))
    assert field in errors, errors
    assert errors[field].startswith(message), errors[field]
    # the same rule on an edit
    row = crud.create_row(entity, valid(entity), USER)
    key = row[crud.entity(entity).key]
    errors = errors_of(
        lambda: crud.update_row(entity, key, bad, row["updated_at"], USER)
    )
    assert errors[field].startswith(message)
    assert crud.get_row(entity, key) == row, "nothing written"
    after = counts(env)
    table = crud.entity(entity).table
    assert after[table] == before[table] + 1
    assert {t: n for t, n in after.items() if t != table} == {
        t: n for t, n in before.items() if t != table
    }


def test_every_missing_required_field_is_named(env):
    errors = errors_of(lambda: crud.create_row("customers", {}, USER))
    assert set(errors) == {
        "first_name",
        "last_name",
        "email",
        "country_code",
        "region_id",
        "acquisition_channel_id",
    }
    assert all(m.endswith(": required") for m in errors.values())


def test_emptying_a_required_field_on_an_edit_is_refused(env):
    row = crud.create_row("customers", valid("customers"), USER)
    errors = errors_of(
        lambda: crud.update_row(
            "customers",
            row["customer_id"],
            {"signup_at": None, "segment": None},
            row["updated_at"],
            USER,
        )
    )
    assert errors == {
        "signup_at": "Signed up at: required",
        "segment": "Segment: required",
    }


def test_values_are_cleaned(env):
    row = crud.create_row(
        "products",
        valid("products")
        | {"list_price": "19.999", "unit_cost": 3, "reorder_point": "4"},
        USER,
    )
    assert row["list_price"] == Decimal("20.00")
    assert row["unit_cost"] == Decimal("3.00")
    assert row["reorder_point"] == 4
    customer = crud.create_row(
        "customers", valid("customers") | {"country_code": "de"}, USER
    )
    assert customer["country_code"] == "DE"


def test_order_validation_names_the_line(env):
    before = counts(env)
    bad = lines((1, 2, "10.00", "0"), (2, 0, "5.00", "0"), (3, 1, "5.00", "5.01"))
    errors = errors_of(lambda: crud.save_order(valid("orders"), bad, USER))
    assert errors["items.2.quantity"] == "Line 2, Quantity: must be at least 1"
    assert errors["items.3.discount_amount"].startswith(
        "Line 3, Discount: must be between 0 and the line amount"
    )
    assert "5.00" in errors["items.3.discount_amount"]
    errors = errors_of(lambda: crud.save_order(valid("orders"), [], USER))
    assert errors == {"items": "Items: an order needs at least one line"}
    errors = errors_of(
        lambda: crud.save_order(
            valid("orders") | {"status": "lost", "customer_id": None}, lines(), USER
        )
    )
    assert errors["status"].startswith("Status: must be one of placed")
    assert errors["customer_id"] == "Customer: required"
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
    first = crud.create_row(entity, valid(entity), USER)
    before = counts(env)
    errors = errors_of(
        lambda: crud.create_row(entity, valid(entity) | {field: first[field]}, USER)
    )
    assert errors == {field: message}
    other = crud.create_row(entity, valid(entity), USER)
    key = crud.entity(entity).key
    errors = errors_of(
        lambda: crud.update_row(
            entity, other[key], {field: first[field]}, other["updated_at"], USER
        )
    )
    assert errors == {field: message}
    assert crud.get_row(entity, other[key]) == other
    assert (
        counts(env)[crud.entity(entity).table] == before[crud.entity(entity).table] + 1
    )


def test_missing_references_name_the_field(env):
    errors = errors_of(
        lambda: crud.create_row(
            "customers", valid("customers") | {"region_id": 987_654}, USER
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


@pytest.mark.parametrize(
    ("entity", "statement", "values", "field", "message"),
    [
        (
            "channels",
            "insert into raw.channels values (99, 'X', %(channel_type)s)",
            {"channel_type": "tv"},
            "channel_type",
            "Channel type: must be one of online, marketplace, offline",
        ),
        (
            "customers",
            "update raw.customers set email = %(email)s where customer_id = 1",
            {"email": "broken"},
            "email",
            "Email: not a valid email address",
        ),
        (
            "customers",
            "update raw.customers set country_code = %(country_code)s "
            "where customer_id = 1",
            {"country_code": "d1"},
            "country_code",
            "Country code: use two capital letters, like DE",
        ),
        (
            "promotions",
            "update raw.promotions set ends_at = starts_at - interval '1 day' "
            "where promotion_id = 1",
            {},
            "ends_at",
            "Ends at: must not be before Starts at",
        ),
        (
            "products",
            "update raw.products set stock_quantity = %(stock_quantity)s "
            "where product_id = 1",
            {"stock_quantity": -5},
            "stock_quantity",
            "Stock quantity: must not be negative",
        ),
        (
            "regions",
            "insert into raw.regions values (99, %(region_name)s)",
            {"region_name": None},
            "region_name",
            "Region name: required",
        ),
        (
            "regions",
            "insert into raw.regions values (99, %(region_name)s)",
            {"region_name": "x" * 101},
            "region_name",
            "Region name: use at most 100 characters",
        ),
        (
            "products",
            "update raw.products set list_price = %(list_price)s where product_id = 1",
            {"list_price": Decimal("1e11")},
            "list_price",
            "List price: is too large",
        ),
        (
            "products",
            "update raw.products set stock_quantity = %(stock_quantity)s "
            "where product_id = 1",
            {"stock_quantity": 2**40},
            "stock_quantity",
            "Stock quantity: is too large",
        ),
        (
            "customers",
            "update raw.customers set city = %(city)s where customer_id = 1",
            {"city": "nul\x00byte"},
            "city",
            "City: must not contain a NUL character",
        ),
    ],
)
def test_database_errors_become_field_messages(
    env, entity, statement, values, field, message
):
    exc = _violation(env, statement, values)
    translated = crud.translate_error(exc, crud.entity(entity), values)
    assert isinstance(translated, crud.ValidationError), translated.message
    assert translated.errors == {field: message}


def test_order_line_check_from_the_database_names_the_line(env):
    """A line without a price takes the product's list price; its discount is
    then checked by the database only."""
    price = sql_one(env, "select list_price from raw.products where product_id = 2")
    before = counts(env)
    items = [
        {"product_id": 1, "quantity": 1},
        {"product_id": 2, "quantity": 1, "discount_amount": price + 1},
    ]
    errors = errors_of(lambda: crud.save_order(valid("orders"), items, USER))
    assert errors == {
        "items.2.discount_amount": "Line 2, Discount: must be between 0 and the "
        "line amount (quantity × unit price)"
    }
    assert counts(env) == before
    order_id = crud.save_order(valid("orders"), items[:1], USER)
    assert crud.get_order(order_id)[1][0]["unit_price"] == sql_one(
        env, "select list_price from raw.products where product_id = 1"
    )


def test_unreachable_database_is_one_line(monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    point_at(
        monkeypatch,
        {"PGHOST": "127.0.0.1", "PGPORT": str(port), "PGDATABASE": "shop"},
    )
    with pytest.raises(crud.Unavailable) as caught:
        crud.list_rows("customers")
    assert caught.value.message.startswith(
        f"Cannot reach the database at 127.0.0.1:{port}/shop"
    )
    assert "\n" not in caught.value.message
    with pytest.raises(crud.Unavailable):
        crud.create_row("regions", valid("regions"), USER)


# ---------------------------------------------------------------- concurrency


def test_two_sessions_conflict_and_nothing_is_overwritten(env):
    row = crud.create_row("customers", valid("customers"), USER)
    key = row["customer_id"]
    opened = crud.get_row("customers", key)  # session 1 opens the form
    with db.connect(env) as other:  # session 2 changes the row
        other.execute(
            "update raw.customers set city = 'Changed by Bob' where customer_id = %s",
            [key],
        )
        other.commit()
    with pytest.raises(crud.Conflict) as caught:
        crud.update_row("customers", key, {"city": "Mine"}, opened["updated_at"], USER)
    assert caught.value.current["city"] == "Changed by Bob"
    assert caught.value.current["updated_at"] > opened["updated_at"]
    assert "changed by someone else" in caught.value.message
    assert crud.get_row("customers", key)["city"] == "Changed by Bob"
    with pytest.raises(crud.Conflict):
        crud.delete_row("customers", key, opened["updated_at"], USER)
    assert crud.get_row("customers", key) is not None
    # reapplying on the current version works
    current = caught.value.current
    saved = crud.update_row(
        "customers", key, {"city": "Mine"}, current["updated_at"], USER
    )
    assert saved["city"] == "Mine"


def test_conflict_while_the_other_transaction_is_still_open(env):
    """Session 2 holds an uncommitted change: session 1's save waits for it,
    then sees the new version and refuses."""
    row = crud.create_row("products", valid("products"), USER)
    key = row["product_id"]
    result: dict = {}
    with db.connect(env) as other:
        other.execute(
            "update raw.products set stock_quantity = 99 where product_id = %s", [key]
        )  # open transaction, row locked

        def save() -> None:
            try:
                crud.update_row(
                    "products", key, {"stock_quantity": 1}, row["updated_at"], USER
                )
                result["saved"] = True
            except crud.Conflict as exc:
                result["conflict"] = exc

        worker = threading.Thread(target=save)
        worker.start()
        # the worker is blocked on the row lock until this commit
        while worker.is_alive() and not sql_one(
            env,
            "select count(*) from pg_stat_activity "
            "where datname = current_database() and wait_event_type = 'Lock'",
        ):
            time.sleep(0.02)
        other.commit()
        worker.join(timeout=60)
    assert "conflict" in result, result
    assert result["conflict"].current["stock_quantity"] == 99
    assert crud.get_row("products", key)["stock_quantity"] == 99


def test_row_deleted_meanwhile(env):
    row = crud.create_row("regions", valid("regions"), USER)
    with db.connect(env) as other:
        other.execute(
            "delete from raw.regions where region_id = %s", [row["region_id"]]
        )
        other.commit()
    with pytest.raises(crud.Conflict) as caught:
        crud.update_row(
            "regions", row["region_id"], {"region_name": "x"}, row["updated_at"], USER
        )
    assert caught.value.current is None
    assert "deleted by someone else" in caught.value.message


def test_order_conflict_covers_its_lines(env):
    order_id = new_order(lines((1, 1, "10.00", "0"), (2, 1, "20.00", "0")))
    order, items = crud.get_order(order_id)
    # someone else changes a line through the app: the order's version moves
    theirs = [dict(items[0]) | {"quantity": 5}, items[1]]
    crud.save_order(order, theirs, "bob", expected_updated_at=order["updated_at"])
    mine = [items[0], dict(items[1]) | {"quantity": 3}]
    with pytest.raises(crud.Conflict) as caught:
        crud.save_order(order, mine, USER, expected_updated_at=order["updated_at"])
    assert [i["quantity"] for i in caught.value.items] == [5, 1]
    _, now = crud.get_order(order_id)
    assert [i["quantity"] for i in now] == [5, 1]


# ------------------------------------------------------------------- orders


def test_order_with_lines_is_saved_in_one_transaction(env):
    before = counts(env)
    bad = lines((1, 1, "10.00", "0"), (2, 1, "10.00", "0"), (3, 1, "-1", "0"))
    errors_of(lambda: crud.save_order(valid("orders"), bad, USER))
    assert counts(env) == before
    order_id = new_order(lines((1, 2, "10.00", "1.00"), (2, 1, "5.50", "0")))
    order, items = crud.get_order(order_id)
    assert order["customer_id"] == 1 and len(items) == 2
    after = counts(env)
    assert after["orders"] == before["orders"] + 1
    assert after["order_items"] == before["order_items"] + 2
    # a failing third line leaves nothing behind, though two were fine
    bad = lines((1, 1, "10.00", "0"), (2, 1, "10.00", "0"), (99_999_999, 1, "1", "0"))
    errors_of(lambda: crud.save_order(valid("orders"), bad, USER))
    assert counts(env) == after


def test_order_totals(env):
    items = lines((1, 2, "19.99", "1.50"), (2, 3, "5.00", "0"))
    totals = crud.order_totals(items, "4.95", Decimal("3.10"))
    assert totals == {
        "lines": 2,
        "units": 5,
        "items_subtotal": Decimal("54.98"),
        "discounts": Decimal("1.50"),
        "net_amount": Decimal("53.48"),
        "shipping": Decimal("4.95"),
        "tax": Decimal("3.10"),
        "total": Decimal("61.53"),
    }
    assert crud.order_totals([{"quantity": None, "unit_price": "x"}])["total"] == 0
    order_id = new_order(
        items, shipping_amount=Decimal("4.95"), tax_amount=Decimal("3.10")
    )
    frame, _ = crud.list_rows("orders", str(order_id), page_size=100)
    listed = frame[frame["order_id"] == order_id].iloc[0]
    assert Decimal(listed["total"]) == totals["total"]
    assert Decimal(listed["items_subtotal"]) == totals["items_subtotal"]
    assert crud.promotion_discount(3, "19.99", "15") == Decimal("9.00")


def test_editing_an_order_adds_changes_and_removes_lines(env):
    order_id = new_order(
        lines((1, 1, "10.00", "0"), (2, 1, "20.00", "0"), (3, 1, "30.00", "0"))
    )
    order, items = crud.get_order(order_id)
    kept, changed, removed = items
    mark = sql_one(env, "select max(audit_id) from app.audit_log")
    new_items = [
        kept,
        dict(changed) | {"quantity": 4, "discount_amount": Decimal("2.00")},
        {"product_id": 4, "quantity": 2, "unit_price": Decimal("7.25")},
    ]
    crud.save_order(
        order | {"status": "shipped"},
        new_items,
        USER,
        expected_updated_at=order["updated_at"],
    )
    order2, items2 = crud.get_order(order_id)
    assert order2["status"] == "shipped"
    assert order2["updated_at"] > order["updated_at"]
    assert [i["order_item_id"] for i in items2[:2]] == [
        kept["order_item_id"],
        changed["order_item_id"],
    ]
    assert items2[1]["quantity"] == 4 and items2[1]["discount_amount"] == Decimal("2")
    assert items2[2]["product_id"] == 4 and items2[2]["unit_price"] == Decimal("7.25")
    assert not sql_rows(
        env,
        "select 1 from raw.order_items where order_item_id = %s",
        [removed["order_item_id"]],
    )
    assert kept["updated_at"] == items2[0]["updated_at"], "an unchanged line is kept"
    actions = sql_rows(
        env,
        """
        select action, count(*) from app.audit_log
        where table_name = 'order_items' and audit_id > %s
          and (new_values ->> 'order_id' = %s or old_values ->> 'order_id' = %s)
        group by action order by action
        """,
        [mark, str(order_id), str(order_id)],
    )
    assert actions == [("delete", 1), ("insert", 1), ("update", 1)]

    # only a line changes: the order's version still moves forward
    crud.save_order(
        order2,
        [*items2[:2], dict(items2[2]) | {"quantity": 3}],
        USER,
        expected_updated_at=order2["updated_at"],
    )
    order3, _ = crud.get_order(order_id)
    assert order3["updated_at"] > order2["updated_at"]


def test_generic_api_for_orders(env):
    created = crud.create_row("orders", valid("orders") | {"items": lines()}, USER)
    order_id = created["order_id"]
    changed = crud.update_row(
        "orders", order_id, {"payment_status": "paid"}, created["updated_at"], USER
    )
    assert changed["payment_status"] == "paid"
    assert len(crud.get_order(order_id)[1]) == 1, "lines are kept when not given"


def test_orders_are_soft_deleted_and_restored(env):
    order_id = new_order()
    order = crud.get_row("orders", order_id)
    outcome = crud.delete_row("orders", order_id, order["updated_at"], USER)
    assert outcome.action == "soft_deleted"
    deleted = crud.get_row("orders", order_id)
    assert deleted["deleted_at"] is not None
    assert len(crud.get_order(order_id)[1]) == 1, "lines are kept"
    listed, _ = crud.list_rows("orders", str(order_id), {"deleted": "hide"})
    assert order_id not in _ids(listed, "order_id")
    only = crud.list_rows("orders", filters={"deleted": "only"}, page_size=100)[0]
    assert order_id in _ids(only, "order_id")
    with pytest.raises(crud.Refused):
        crud.save_order(
            deleted, lines(), USER, expected_updated_at=deleted["updated_at"]
        )
    restored = crud.restore_order(order_id, deleted["updated_at"], USER)
    assert restored.action == "restored"
    assert crud.get_row("orders", order_id)["deleted_at"] is None


# ------------------------------------------------------------------- deletes


def test_customers_and_products_with_orders_are_deactivated(env):
    customer = crud.create_row("customers", valid("customers"), USER)
    product = crud.create_row("products", valid("products"), USER)
    new_order(
        lines((product["product_id"], 1, "9.99", "0")),
        customer_id=customer["customer_id"],
    )
    outcome = crud.delete_row(
        "customers", customer["customer_id"], customer["updated_at"], USER
    )
    assert outcome.action == "deactivated"
    assert "has 1 order" in outcome.message and "deactivated" in outcome.message
    assert crud.get_row("customers", customer["customer_id"])["is_active"] is False
    outcome = crud.delete_row(
        "products", product["product_id"], product["updated_at"], USER
    )
    assert outcome.action == "deactivated"
    assert "appears on orders" in outcome.message
    again = crud.get_row("products", product["product_id"])
    assert again["is_active"] is False
    # deleting again says it is kept, and changes nothing
    outcome = crud.delete_row(
        "products", product["product_id"], again["updated_at"], USER
    )
    assert outcome.action == "unchanged"


def test_referenced_regions_channels_and_promotions_are_not_deleted(env):
    region = crud.get_row("regions", 1)
    before = counts(env)
    with pytest.raises(crud.Refused) as caught:
        crud.delete_row("regions", 1, region["updated_at"], USER)
    orders, customers = sql_rows(
        env,
        """
        select
            (select count(*) from raw.orders where ship_region_id = 1),
            (select count(*) from raw.customers where region_id = 1)
        """,
    )[0]
    assert caught.value.message == (
        f"This region cannot be deleted: it is used by {orders:,} orders and "
        f"{customers:,} customers."
    )
    used = sql_one(
        env, "select min(promotion_id) from raw.orders where promotion_id is not null"
    )
    with pytest.raises(crud.Refused, match="used by"):
        crud.delete_row(
            "promotions", used, crud.get_row("promotions", used)["updated_at"], USER
        )
    with pytest.raises(crud.Refused, match="customers"):
        crud.delete_row("channels", 1, crud.get_row("channels", 1)["updated_at"], USER)
    assert counts(env) == before
    assert crud.usage("regions", 1) == {"orders": orders, "customers": customers}


# --------------------------------------------------------------------- audit


def test_audit_rows_name_the_signed_in_user(env):
    row = crud.create_row("customers", valid("customers"), "carol")
    crud.update_row(
        "customers",
        row["customer_id"],
        {"city": "Ogdenville"},
        row["updated_at"],
        "dave",
    )
    entries = sql_rows(
        env,
        """
        select action, changed_by, database_role, old_values, new_values
        from app.audit_log
        where table_name = 'customers' and row_key = %s
        order by audit_id
        """,
        [Jsonb({"customer_id": row["customer_id"]})],
    )
    role = sql_one(env, "select current_user")
    assert [(a, by, r) for a, by, r, _, _ in entries] == [
        ("insert", "carol", role),
        ("update", "dave", role),
    ]
    old, new = entries[1][3], entries[1][4]
    assert old["city"] == "Springfield" and new["city"] == "Ogdenville"
    assert new["email"] == row["email"]

    frame, total = crud.list_audit(
        table="customers", user="DAV", key=str(row["customer_id"])
    )
    assert total == 1 and frame["changed_fields"][0] == "city"
    frame, total = crud.list_audit(key=row["customer_id"])
    assert total >= 2
    entry = crud.get_audit(int(frame["audit_id"][0]))
    changes = crud.audit_changes(entry)
    changed = set(changes[changes["changed"]]["field"])
    assert changed == {"city", "updated_at"}
    assert changes["field"][0] in changed, "changed fields come first"


def test_audit_filters_equal_sql(env):
    order_id = new_order()
    for status in ("paid", "pending", "paid", "refunded", "paid", "pending"):
        row = crud.get_row("orders", order_id)
        crud.update_row(
            "orders", order_id, {"payment_status": status}, row["updated_at"], USER
        )
    today = datetime.now(UTC).date()
    frame, total = crud.list_audit(
        table="orders", action="update", date_from=today, date_to=today, page_size=5
    )
    expected = sql_rows(
        env,
        """
        select audit_id from app.audit_log
        where table_name = 'orders' and action = 'update'
          and changed_at >= %s and changed_at < %s
        order by changed_at desc, audit_id desc
        """,
        [
            datetime.combine(today, datetime.min.time(), UTC),
            datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC),
        ],
    )
    assert total == len(expected) >= 6
    assert [int(v) for v in frame["audit_id"]] == [r[0] for r in expected[:5]]
    second, _ = crud.list_audit(
        table="orders", action="update", date_from=today, page=2, page_size=5
    )
    assert [int(v) for v in second["audit_id"]] == [r[0] for r in expected[5:10]]
    assert crud.list_audit(date_to=today - timedelta(days=1))[1] == 0
    with pytest.raises(ValueError):
        crud.list_audit(table="pg_authid")


# ------------------------------------------------------------------- hostile


HOSTILE = [
    'O\'Brien "quoted" `tick`',
    "'; drop table raw.customers; --",
    "%s",
    "%(x)s",
    "{}",
    "{0} {name!r}",
    "Zoë 😀 naïve 漢字 ☃",
    "\u202eevil\u202c",
    "x" * 10_000,
    "nul\x00byte",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "back\\slash _under%score",
    "**bold** [link](http://example.com) # heading",
]
# Valid addresses that are hostile all the same.
HOSTILE_EMAILS = [
    "o'brien+%s{}@example.com",
    "<script>alert(1)</script>@example.com",
    "'--;drop@example.com",
    "zoë😀@exämple.com",
]
TEXT_KINDS = ("text", "email", "country", "choice")


def _hostile_cases():
    for ent in crud.ENTITIES.values():
        for f in ent.fields:
            if f.kind in TEXT_KINDS:
                values = HOSTILE + (HOSTILE_EMAILS if f.kind == "email" else [])
                yield ent, f, values


def _stored_or_named(ent, f, value, write, *args) -> dict | None:
    """The row when `value` was stored verbatim in field f; None when it was
    refused with a message naming f."""
    try:
        row = write(*args)
    except crud.ValidationError as exc:
        assert list(exc.errors) == [f.name], exc.errors
        assert exc.errors[f.name].startswith(f.label + ": ")
        return None
    stored = crud.get_row(ent, row[ent.key])
    assert stored[f.name] == value, (ent.name, f.name, value[:40])
    return stored


def _create_order(values: dict) -> dict:
    return crud.create_row("orders", values | {"items": lines()}, USER)


def test_hostile_input_is_stored_verbatim_or_refused(env):
    before = counts(env)
    kept: dict[str, int] = dict.fromkeys(TABLES, 0)
    stored = 0
    searched: set[tuple[str, str]] = set()
    for ent, f, values in _hostile_cases():
        for value in values:
            bad = valid(ent.name) | {f.name: value}
            if ent.name == "orders":
                made = _stored_or_named(ent, f, value, _create_order, bad)
                kept["orders"] += made is not None
                kept["order_items"] += made is not None
                row = _create_order(valid("orders"))
                kept["order_items"] += 1
            else:
                made = _stored_or_named(ent, f, value, crud.create_row, ent, bad, USER)
                if made is not None:
                    # the delete path copes with it too
                    crud.delete_row(ent, made[ent.key], made["updated_at"], USER)
                row = crud.create_row(ent, valid(ent.name), USER)
            kept[ent.table] += 1
            stored += made is not None
            changed = _stored_or_named(
                ent,
                f,
                value,
                crud.update_row,
                ent,
                row[ent.key],
                {f.name: value},
                row["updated_at"],
                USER,
            )
            stored += changed is not None
            # searching for it is harmless too
            if (ent.name, value) not in searched:
                searched.add((ent.name, value))
                crud.list_rows(ent, value[:200])
                if ent.option_columns:
                    crud.search_options(ent, value[:200])
    assert stored > 100, "most hostile text is legitimate text and is stored"
    crud.list_audit(user="'; drop table app.audit_log; --", key="%(x)s")
    for table in TABLES:
        assert sql_one(env, "select to_regclass(%s) is not null", [f"raw.{table}"])
    after = counts(env)
    assert after == {t: before[t] + kept[t] for t in TABLES}


def test_hostile_values_in_every_text_field_at_once(env):
    values = valid("customers") | {
        "first_name": "<script>alert(1)</script>",
        "last_name": "'; drop table raw.customers; --",
        "phone": "%(x)s %s {}",
        "city": "\u202eZoë 😀",
        "email": "<img src=x onerror=alert(1)>@example.com".replace(" ", ""),
    }
    row = crud.create_row("customers", values, USER)
    stored = crud.get_row("customers", row["customer_id"])
    assert {k: stored[k] for k in values} == values
    frame, _ = crud.list_rows(
        "customers", "drop table", sort="customer_id", descending=True
    )
    assert row["customer_id"] in _ids(frame, "customer_id")
    label = dict(crud.search_options("customers", str(row["customer_id"])))[
        row["customer_id"]
    ]
    assert label.startswith("<script>alert(1)</script> '; drop table")


# -------------------------------------------------------- least privilege


def test_writes_work_as_the_least_privilege_role(env, monkeypatch):
    monkeypatch.setenv("PGUSER", "ecom_app")
    monkeypatch.delenv("PGPASSWORD", raising=False)
    assert crud.list_rows("customers", page_size=1)[1] > 0
    customer = crud.create_row("customers", valid("customers"), "erin")
    changed = crud.update_row(
        "customers",
        customer["customer_id"],
        {"city": "X"},
        customer["updated_at"],
        "erin",
    )
    order_id = new_order(customer_id=customer["customer_id"])
    order, items = crud.get_order(order_id)
    crud.save_order(
        order,
        [*items, *lines((2, 1, "3.00", "0"))],
        "erin",
        expected_updated_at=order["updated_at"],
    )
    order, items = crud.get_order(order_id)
    crud.save_order(order, items[1:], "erin", expected_updated_at=order["updated_at"])
    order = crud.get_row("orders", order_id)
    assert crud.delete_row("orders", order_id, order["updated_at"], "erin").action == (
        "soft_deleted"
    )
    assert (
        crud.delete_row(
            "customers", customer["customer_id"], changed["updated_at"], "erin"
        ).action
        == "deactivated"
    )
    region = crud.create_row("regions", valid("regions"), "erin")
    assert (
        crud.delete_row(
            "regions", region["region_id"], region["updated_at"], "erin"
        ).action
        == "deleted"
    )
    frame, total = crud.list_audit(user="erin", page_size=100)
    assert total >= 8
    assert set(frame["database_role"]) == {"ecom_app"}
    assert set(frame["changed_by"]) == {"erin"}
    # the role itself may not hard-delete orders
    with (
        db.connect(env | {"PGUSER": "ecom_app"}) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("delete from raw.orders where order_id = %s", [order_id])


def test_email_differing_only_in_case_is_refused(env):
    """Staging lower-cases emails and tests them unique: the app must not let a
    case variant in, though the raw constraint compares them as typed."""
    first = crud.create_row("customers", valid("customers"), USER)
    variant = first["email"].upper()
    before = counts(env)
    errors = errors_of(
        lambda: crud.create_row(
            "customers", valid("customers") | {"email": variant}, USER
        )
    )
    assert errors == {"email": "Email: already used by another customer"}
    # a customer may change the case of their own address
    changed = crud.update_row(
        "customers", first["customer_id"], {"email": variant}, first["updated_at"], USER
    )
    assert changed["email"] == variant
    assert counts(env) == before
