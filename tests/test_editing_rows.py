"""One row of every table through the editing layer (core.editing) on a real
PostgreSQL: create, read, update and delete; optimistic concurrency with two
sessions; deletes that keep history; emails that differ only in case; and the
entity definitions checked against the catalog."""

from __future__ import annotations

import re
import threading
import time
from decimal import Decimal

import editing_support
import pytest
from editing_support import (
    USER,
    counts,
    errors_of,
    lines,
    new_order,
    sql_one,
    sql_rows,
    valid,
)

from core import db, editing
from loader.load import TABLES, load_directory

# The fixtures of editing_support: a small shop in this module's own database.
shop = editing_support.shop
env = editing_support.env


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
    for ent in editing.ENTITIES.values():
        for f in ent.fields:
            assert (ent.table, f.name) in sizes, (ent.name, f.name)
            if f.kind in ("text", "email", "country"):
                assert f.max_length == sizes[(ent.table, f.name)], (ent.name, f.name)
    for f in editing.ITEM_FIELDS:
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
        assert name in editing.CONSTRAINTS, f"{table}.{name} has no message"
    # and so has every unique index that is not a constraint (e.g. lower(email))
    indexes = sql_rows(
        env,
        """
        select i.indexrelid::regclass::text
        from pg_index as i
        where i.indisunique and not i.indisprimary
            and i.indrelid = any(%s::regclass[])
            and not exists (select from pg_constraint where conindid = i.indexrelid)
        """,
        [[f"raw.{t}" for t in TABLES]],
    )
    assert indexes
    for (name,) in indexes:
        assert name.split(".")[-1] in editing.CONSTRAINTS, f"{name} has no message"


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
    ent = editing.entity(entity)
    values = valid(entity)
    created = editing.create_row(entity, values, USER)
    key = created[ent.key]
    assert re.fullmatch(r"app-\d+", key), "app rows take ids from the app sequence"
    stored = editing.get_row(entity, key)
    for name, value in values.items():
        assert stored[name] == value, name

    changed = editing.update_row(
        entity, key, CHANGE[entity], stored["updated_at"], USER
    )
    assert changed["updated_at"] > stored["updated_at"]
    again = editing.get_row(entity, key)
    for name, value in CHANGE[entity].items():
        assert again[name] == value
    untouched = set(values) - set(CHANGE[entity])
    assert all(again[name] == stored[name] for name in untouched)

    outcome = editing.delete_row(entity, key, again["updated_at"], USER)
    assert outcome.action == "deleted"
    assert editing.get_row(entity, key) is None


def test_update_without_changes_writes_nothing(env):
    row = editing.create_row("regions", valid("regions"), USER)
    before = sql_one(env, "select count(*) from app.audit_log")
    same = editing.update_row(
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
        editing.create_row("regions", valid("regions"), None)
    with pytest.raises(ValueError):
        editing.create_row("regions", valid("regions"), "  ")


def test_get_row_of_a_missing_key_is_none(env):
    assert editing.get_row("customers", "999999999999") is None
    assert editing.get_row("customers", 999_999_999_999) is None
    assert editing.get_order("no such order") == (None, [])


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("x" * 65, "Id: an id has at most 64 characters"),
        ("bell\x07", "Id: an id has no control characters"),
        ("", "Id: required"),
        (None, "Id: required"),
        (1.5, "Id: not an id (ids are text)"),
    ],
)
def test_an_id_no_row_can_have_is_one_line(env, key, message):
    with pytest.raises(editing.ValidationError) as caught:
        editing.get_row("customers", key)
    assert caught.value.message == message
    with pytest.raises(editing.ValidationError):
        editing.delete_row("products", key, "2024-01-01T00:00:00+00:00", USER)


ODD_IDS = [
    "cust 42",
    'O\'Brien "the" customer',
    "Grüße-😀-顧客",
    "%_\\ like wildcards",
    "#x7",
    "x" * 64,
]


@pytest.mark.parametrize("key", ODD_IDS)
def test_a_text_id_round_trips_through_get_row_and_search(env, key):
    """Ids are the source's text: spaces, quotes, unicode and wildcards are kept
    and matched exactly (a search may match the id or the names)."""
    with db.connect(env) as conn:
        conn.execute(
            "insert into raw.customers (customer_id, last_name) values (%s, %s)",
            [key, "Oddkey"],
        )
        conn.commit()
    row = editing.get_row("customers", key)
    assert row is not None and row["customer_id"] == key
    frame, total = editing.list_rows("customers", key)
    assert total == 1 and list(frame["customer_id"]) == [key]
    # the selector finds it by its exact id, first
    options = editing.search_options("customers", key)
    assert options[0][0] == key and key in options[0][1]
    # an order refers to it; its lines' product ids are text too
    order_id = new_order(customer_id=key)
    assert editing.get_order(order_id)[0]["customer_id"] == key
    frame, total = editing.list_rows("orders", filters={"customer_id": key})
    assert list(frame["order_id"]) == [order_id]
    changed = editing.update_row(
        "customers", key, {"city": "Odd town"}, row["updated_at"], USER
    )
    assert changed["customer_id"] == key and changed["city"] == "Odd town"


def test_an_app_created_id_cannot_collide_with_a_loaded_one(env, tmp_path):
    """The app's ids are 'app-<n>'; a file holding such an id (in any case) is
    refused by the loader, so the next app row still gets its id."""
    upcoming = sql_one(env, "select last_value + 1 from raw.regions_app_id_seq")
    (tmp_path / "regions.csv").write_text(
        "region_id,region_name\n"
        f"app-{upcoming},Taken from the app\n"
        f"APP-{upcoming + 1},Shouting\n"
        "app 7,Not the app's\n"
    )
    load_directory(env, tmp_path, max_reject_rate=1.0)
    reasons = [
        r[0]
        for r in sql_rows(
            env,
            "select reason from raw.load_rejects where table_name = 'regions'"
            " order by line_number",
        )
    ]
    assert len(reasons) == 2
    assert all("ids starting with 'app-' are kept" in r for r in reasons), reasons
    assert editing.get_row("regions", "app 7")["region_name"] == "Not the app's"
    for _ in range(2):
        created = editing.create_row("regions", valid("regions"), USER)
        assert created["region_id"].startswith("app-")
    assert not sql_rows(
        env,
        "select region_id from raw.regions where lower(region_id) like 'app-%%'"
        " and region_id not like 'app-%%'",
    )


def test_money_keeps_four_decimals_exactly_and_refuses_five(env):
    product = editing.create_row(
        "products",
        valid("products") | {"unit_cost": "0.0001", "list_price": "12345678.9999"},
        USER,
    )
    assert str(product["unit_cost"]) == "0.0001"
    assert str(product["list_price"]) == "12345678.9999"
    errors = errors_of(
        lambda: editing.update_row(
            "products",
            product["product_id"],
            {"list_price": "12345678.99995"},
            product["updated_at"],
            USER,
        )
    )
    assert errors == {"list_price": "List price: use at most 4 decimals (this has 5)"}
    assert editing.get_row("products", product["product_id"]) == product
    # an order's amounts and line amounts likewise
    items = [
        {"product_id": "1", "quantity": 3, "unit_price": "0.3333"},
        {"product_id": "2", "quantity": 2, "line_amount": "10.0001"},
    ]
    order_id = new_order(items, shipping_amount="4.9999")
    order, stored = editing.get_order(order_id)
    assert str(order["shipping_amount"]) == "4.9999"
    assert [str(i["unit_price"]) for i in stored] == ["0.3333", "None"]
    assert [str(i["line_amount"]) for i in stored] == ["None", "10.0001"]
    totals = editing.order_totals(stored, order["shipping_amount"], 0)
    assert totals["items_subtotal"] == Decimal("0.9999") + Decimal("10.0001")


# ---------------------------------------------------------------- concurrency


def test_two_sessions_conflict_and_nothing_is_overwritten(env):
    row = editing.create_row("customers", valid("customers"), USER)
    key = row["customer_id"]
    opened = editing.get_row("customers", key)  # session 1 opens the form
    with db.connect(env) as other:  # session 2 changes the row
        other.execute(
            "update raw.customers set city = 'Changed by Bob' where customer_id = %s",
            [key],
        )
        other.commit()
    with pytest.raises(editing.Conflict) as caught:
        editing.update_row(
            "customers", key, {"city": "Mine"}, opened["updated_at"], USER
        )
    assert caught.value.current["city"] == "Changed by Bob"
    assert caught.value.current["updated_at"] > opened["updated_at"]
    assert "changed by someone else" in caught.value.message
    assert editing.get_row("customers", key)["city"] == "Changed by Bob"
    with pytest.raises(editing.Conflict):
        editing.delete_row("customers", key, opened["updated_at"], USER)
    assert editing.get_row("customers", key) is not None
    # reapplying on the current version works
    current = caught.value.current
    saved = editing.update_row(
        "customers", key, {"city": "Mine"}, current["updated_at"], USER
    )
    assert saved["city"] == "Mine"


def test_conflict_while_the_other_transaction_is_still_open(env):
    """Session 2 holds an uncommitted change: session 1's save waits for it,
    then sees the new version and refuses."""
    row = editing.create_row("products", valid("products"), USER)
    key = row["product_id"]
    result: dict = {}
    with db.connect(env) as other:
        other.execute(
            "update raw.products set stock_quantity = 99 where product_id = %s", [key]
        )  # open transaction, row locked

        def save() -> None:
            try:
                editing.update_row(
                    "products", key, {"stock_quantity": 1}, row["updated_at"], USER
                )
                result["saved"] = True
            except editing.Conflict as exc:
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
    assert editing.get_row("products", key)["stock_quantity"] == 99


def test_row_deleted_meanwhile(env):
    row = editing.create_row("regions", valid("regions"), USER)
    with db.connect(env) as other:
        other.execute(
            "delete from raw.regions where region_id = %s", [row["region_id"]]
        )
        other.commit()
    with pytest.raises(editing.Conflict) as caught:
        editing.update_row(
            "regions", row["region_id"], {"region_name": "x"}, row["updated_at"], USER
        )
    assert caught.value.current is None
    assert "deleted by someone else" in caught.value.message


# ------------------------------------------------------------------- deletes


def test_customers_and_products_with_orders_are_deactivated(env):
    customer = editing.create_row("customers", valid("customers"), USER)
    product = editing.create_row("products", valid("products"), USER)
    new_order(
        lines((product["product_id"], 1, "9.99", "0")),
        customer_id=customer["customer_id"],
    )
    outcome = editing.delete_row(
        "customers", customer["customer_id"], customer["updated_at"], USER
    )
    assert outcome.action == "deactivated"
    assert "has 1 order" in outcome.message and "deactivated" in outcome.message
    assert editing.get_row("customers", customer["customer_id"])["is_active"] is False
    outcome = editing.delete_row(
        "products", product["product_id"], product["updated_at"], USER
    )
    assert outcome.action == "deactivated"
    assert "appears on orders" in outcome.message
    again = editing.get_row("products", product["product_id"])
    assert again["is_active"] is False
    # deleting again says it is kept, and changes nothing
    outcome = editing.delete_row(
        "products", product["product_id"], again["updated_at"], USER
    )
    assert outcome.action == "unchanged"


def test_referenced_regions_channels_and_promotions_are_not_deleted(env):
    region = editing.get_row("regions", "1")
    before = counts(env)
    with pytest.raises(editing.Refused) as caught:
        editing.delete_row("regions", "1", region["updated_at"], USER)
    orders, customers = sql_rows(
        env,
        """
        select
            (select count(*) from raw.orders where ship_region_id = '1'),
            (select count(*) from raw.customers where region_id = '1')
        """,
    )[0]
    assert caught.value.message == (
        f"This region cannot be deleted: it is used by {orders:,} orders and "
        f"{customers:,} customers."
    )
    used = sql_one(
        env, "select min(promotion_id) from raw.orders where promotion_id is not null"
    )
    with pytest.raises(editing.Refused, match="used by"):
        editing.delete_row(
            "promotions", used, editing.get_row("promotions", used)["updated_at"], USER
        )
    with pytest.raises(editing.Refused, match="customers"):
        editing.delete_row(
            "channels", "1", editing.get_row("channels", "1")["updated_at"], USER
        )
    assert counts(env) == before
    assert editing.usage("regions", "1") == {"orders": orders, "customers": customers}


# -------------------------------------------------------------------- emails


def test_email_differing_only_in_case_is_refused(env):
    """Staging lower-cases emails and tests them unique: the app must not let a
    case variant in, though the raw constraint compares them as typed."""
    first = editing.create_row("customers", valid("customers"), USER)
    variant = first["email"].upper()
    before = counts(env)
    errors = errors_of(
        lambda: editing.create_row(
            "customers", valid("customers") | {"email": variant}, USER
        )
    )
    assert errors == {"email": "Email: already used by another customer"}
    # a customer may change the case of their own address
    changed = editing.update_row(
        "customers", first["customer_id"], {"email": variant}, first["updated_at"], USER
    )
    assert changed["email"] == variant
    assert counts(env) == before
