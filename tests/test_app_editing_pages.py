"""The editing pages of customers, products, promotions, regions and channels
under Streamlit's AppTest, on a real database: create, edit, delete with
confirmation, a conflict (the row changes in SQL between opening the form and
saving), a validation error (nothing written) for every page; the list's
search, filters, sort and pages."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import app_editing_support
import pytest
from app_editing_support import (
    click,
    count,
    fill,
    key_of,
    made,
    ok,
    open_page,
    open_row,
    shows_total,
    texts,
    widget,
)
from editing_support import sql_one, sql_rows
from psycopg import sql

from core import db, editing

# The fixtures of app_editing_support: a small shop with one account per role in
# this module's own database.
shop = app_editing_support.shop
env = app_editing_support.env


SIMPLE = ["customers", "products", "promotions", "regions", "channels"]


# What a user types into a new row's form; the field that identifies it.
NEW = {
    "customers": (
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada.lovelace@example.com",
            "country_code": "gb",
            "region_id": ("british", "4"),
            "acquisition_channel_id": ("web", "1"),
        },
        {"email": "ada.lovelace@example.com", "country_code": "GB", "region_id": "4"},
    ),
    "products": (
        {
            "sku": "APP-NEW-1",
            "product_name": "Analytical Engine",
            "category": "electronics",
            "subcategory": "laptops",
            "brand": "Cantrell",
            "unit_cost": Decimal("100.1234"),
            "list_price": Decimal("149.99"),
            "stock_quantity": 3,
            "reorder_point": 5,
        },
        {
            "sku": "APP-NEW-1",
            "list_price": Decimal("149.99"),
            "unit_cost": Decimal("100.1234"),
            "stock_quantity": 3,
        },
    ),
    "promotions": (
        {
            "promo_code": "APPSPRING",
            "description": "Spring sale",
            "discount_pct": Decimal("12.5"),
            "starts_at": datetime(2026, 3, 1, 0, 0),
            "ends_at": datetime(2026, 3, 15, 23, 59),
        },
        {
            "promo_code": "APPSPRING",
            "discount_pct": Decimal("12.50"),
            "ends_at": datetime(2026, 3, 15, 23, 59, tzinfo=UTC),
        },
    ),
    "regions": ({"region_name": "Antarctica"}, {"region_name": "Antarctica"}),
    "channels": (
        {"channel_name": "Pop-up store", "channel_type": "offline"},
        {"channel_name": "Pop-up store", "channel_type": "offline"},
    ),
}
# One field to change on an existing row, and its new value as stored.
EDIT = {
    "customers": ("city", "Paris", "Paris"),
    "products": ("stock_quantity", 42, 42),
    "promotions": ("description", "Changed in the app", "Changed in the app"),
    "regions": ("region_name", "Renamed in the app", "Renamed in the app"),
    "channels": ("channel_type", "marketplace", "marketplace"),
}
# A value that breaks a rule, and the message.
INVALID = {
    "customers": ("email", "not-an-email", "Email: not a valid email address"),
    "products": (
        "unit_cost",
        Decimal("1.00001"),
        "Unit cost: use at most 4 decimals (this has 5)",
    ),
    "promotions": ("discount_pct", Decimal("150"), "Discount %: must be at most 100"),
    "regions": ("region_name", "   ", "Region name: required"),
    "channels": ("channel_name", "", "Channel name: required"),
}
# What another session changes in SQL meanwhile.
MEANWHILE = {
    "customers": ("city", "Changed by SQL"),
    "products": ("product_name", "Changed by SQL"),
    "promotions": ("description", "Changed by SQL"),
    "regions": ("region_name", "Changed by SQL"),
    "channels": ("channel_name", "Changed by SQL"),
}


# ----------------------------------------------------------------- simple pages


@pytest.mark.parametrize("entity", SIMPLE)
def test_create(env, shop, entity):
    at = open_page(shop, entity)
    assert texts(at, "title") == [f"Edit {editing.entity(entity).title.lower()}"]
    assert at.dataframe, "the list is shown"
    click(at, f"{entity}.new")
    typed, stored = NEW[entity]
    fill(at, entity, typed)
    click(at, f"{entity}.save")
    assert any(
        m.startswith(f"Created {editing.entity(entity).singular} #")
        for m in texts(at, "success")
    ), texts(at, "error")
    name, value = next(iter(stored.items()))
    row = sql_rows(
        env,
        sql.SQL("select {} from raw.{} where {} = %s").format(
            sql.SQL(", ").join(map(sql.Identifier, stored)),
            sql.Identifier(entity),
            sql.Identifier(name),
        ),
        [value],
    )
    assert row == [tuple(stored.values())]
    # the form now shows the row as stored
    assert at.session_state[f"{entity}.row"][name] == value


@pytest.mark.parametrize("entity", SIMPLE)
def test_edit(env, shop, entity):
    row = made(entity)
    key = row[key_of(entity)]
    at = open_page(shop, entity)
    open_row(at, entity, key)
    assert texts(at, "subheader")[0] == (
        f"{editing.entity(entity).singular.capitalize()} #{key}"
    )
    name, typed, stored = EDIT[entity]
    fill(at, entity, {name: typed})
    click(at, f"{entity}.save")
    assert texts(at, "success") == ["Saved."], texts(at, "error")
    now = editing.get_row(entity, key)
    assert now[name] == stored
    assert now["updated_at"] > row["updated_at"]
    who = sql_rows(
        env,
        "select changed_by from app.audit_log where table_name = %s and action = "
        "'update' and row_key ->> %s = %s",
        [entity, key_of(entity), str(key)],
    )
    assert who == [("editor_tester",)]
    # saving again without a change writes nothing
    click(at, f"{entity}.save")
    assert texts(at, "success") == ["Nothing changed, nothing saved."]
    assert editing.get_row(entity, key)["updated_at"] == now["updated_at"]


@pytest.mark.parametrize("entity", SIMPLE)
def test_delete_asks_for_confirmation(env, shop, entity):
    row = made(entity)
    key = row[key_of(entity)]
    at = open_page(shop, entity)
    open_row(at, entity, key)
    click(at, f"{entity}.delete")
    assert any(w.startswith("Delete this") for w in texts(at, "warning"))
    assert editing.get_row(entity, key) is not None, "nothing happens before confirming"
    click(at, f"{entity}.confirm_delete_no")
    assert editing.get_row(entity, key) is not None
    click(at, f"{entity}.delete")
    click(at, f"{entity}.confirm_delete_yes")
    assert texts(at, "success") == [
        f"The {editing.entity(entity).singular} was deleted."
    ]
    assert editing.get_row(entity, key) is None
    assert at.session_state[f"{entity}.mode"] == "list"


@pytest.mark.parametrize("entity", SIMPLE)
def test_conflict_shows_the_current_values(env, shop, entity):
    row = made(entity)
    key = row[key_of(entity)]
    at = open_page(shop, entity)
    open_row(at, entity, key)
    column, theirs = MEANWHILE[entity]
    with db.connect(env) as conn:  # another session, between opening and saving
        conn.execute(
            sql.SQL("update raw.{} set {} = %s where {} = %s").format(
                sql.Identifier(entity),
                sql.Identifier(column),
                sql.Identifier(key_of(entity)),
            ),
            [theirs, key],
        )
        conn.commit()
    name, typed, stored = EDIT[entity]
    if name in editing.entity(entity).unique:
        typed = stored = f"{typed} (conflict test)"
    fill(at, entity, {name: typed})
    click(at, f"{entity}.save")
    assert any("changed by someone else" in w for w in texts(at, "warning"))
    compared = at.dataframe[0].value
    label = editing.entity(entity).field(column).label
    current = compared[compared["field"] == label]["current value"].iloc[0]
    assert current == theirs
    assert editing.get_row(entity, key)[column] == theirs, "nothing overwritten"
    if name != column:
        assert editing.get_row(entity, key)[name] == row[name]

    # start again from the current values
    click(at, f"{entity}.reload")
    assert widget(at, f"{entity}.f.{column}").value == theirs
    fill(at, entity, {name: typed})
    click(at, f"{entity}.save")
    assert texts(at, "success") == ["Saved."]
    now = editing.get_row(entity, key)
    assert now[column] == theirs or column == name
    assert now[name] == stored


def test_conflict_keep_my_values(env, shop):
    row = made("regions")
    at = open_page(shop, "regions")
    open_row(at, "regions", row["region_id"])
    fill(at, "regions", {"region_name": "Mine"})
    with db.connect(env) as conn:
        conn.execute(
            "update raw.regions set region_name = 'Theirs' where region_id = %s",
            [row["region_id"]],
        )
        conn.commit()
    click(at, "regions.save")
    assert editing.get_row("regions", row["region_id"])["region_name"] == "Theirs"
    click(at, "regions.keep")
    assert widget(at, "regions.f.region_name").value == "Mine"
    click(at, "regions.save")
    assert texts(at, "success") == ["Saved."]
    assert editing.get_row("regions", row["region_id"])["region_name"] == "Mine"


def test_row_deleted_meanwhile(env, shop):
    row = made("channels")
    at = open_page(shop, "channels")
    open_row(at, "channels", row["channel_id"])
    with db.connect(env) as conn:
        conn.execute(
            "delete from raw.channels where channel_id = %s", [row["channel_id"]]
        )
        conn.commit()
    fill(at, "channels", {"channel_name": "Too late"})
    click(at, "channels.save")
    assert any("deleted by someone else" in w for w in texts(at, "warning"))
    click(at, "channels.conflict_close")
    assert at.session_state["channels.mode"] == "list"
    assert editing.get_row("channels", row["channel_id"]) is None


@pytest.mark.parametrize("entity", SIMPLE)
def test_validation_error_writes_nothing(env, shop, entity):
    before = count(env, entity)
    at = open_page(shop, entity)
    click(at, f"{entity}.new")
    typed, _ = NEW[entity]
    name, bad, message = INVALID[entity]
    fill(at, entity, typed | {name: bad})
    click(at, f"{entity}.save")
    assert message in texts(at, "error")
    assert count(env, entity) == before
    assert at.session_state[f"{entity}.mode"] == "create", "the form stays open"
    # on an existing row too
    row = made(entity)
    open_row(at, entity, row[key_of(entity)])
    fill(at, entity, {name: bad})
    click(at, f"{entity}.save")
    assert message in texts(at, "error")
    assert editing.get_row(entity, row[key_of(entity)]) == row


def test_database_refusal_names_the_field(env, shop):
    taken = made("customers")
    at = open_page(shop, "customers")
    click(at, "customers.new")
    fill(at, "customers", NEW["customers"][0] | {"email": taken["email"]})
    click(at, "customers.save")
    assert texts(at, "error") == ["Email: already used by another customer"]


def test_customer_with_orders_is_deactivated(env, shop):
    customer = made("customers")
    editing.save_order(
        {
            "customer_id": customer["customer_id"],
            "channel_id": 1,
            "ship_region_id": 1,
            "payment_method": "card",
        },
        [{"product_id": 1, "quantity": 1}],
        "setup",
    )
    at = open_page(shop, "customers")
    open_row(at, "customers", customer["customer_id"])
    click(at, "customers.delete")
    click(at, "customers.confirm_delete_yes")
    assert any("deactivated instead of deleted" in m for m in texts(at, "info"))
    assert editing.get_row("customers", customer["customer_id"])["is_active"] is False
    assert widget(at, "customers.f.is_active").value is False


def test_region_in_use_is_not_deleted(env, shop):
    at = open_page(shop, "regions")
    open_row(at, "regions", "2")
    click(at, "regions.delete")
    click(at, "regions.confirm_delete_yes")
    (message,) = texts(at, "error")
    assert message.startswith("This region cannot be deleted: it is used by ")
    assert editing.get_row("regions", "2") is not None


def test_list_search_filter_sort_and_pages(env, shop):
    at = open_page(shop, "customers")
    total = sql_one(env, "select count(*) from raw.customers")
    assert shows_total(at, total, "customers")
    assert len(at.dataframe[0].value) == 25
    at.multiselect(key="customers.filter.segment").set_value(["corporate"])
    at.selectbox(key="customers.filter.is_active").set_value("Yes")
    at.selectbox(key="customers.sort").set_value("last_name")
    at.toggle(key="customers.desc").set_value(False)
    at.selectbox(key="customers.page_size").set_value(10)
    ok(at.run())
    expected = [
        r[0]
        for r in sql_rows(
            env,
            "select customer_id from raw.customers where segment = 'corporate' "
            "and is_active order by last_name, customer_id",
        )
    ]
    assert list(at.dataframe[0].value["customer_id"]) == expected[:10]
    ok(at.number_input(key="customers.page").set_value(2).run())
    assert list(at.dataframe[0].value["customer_id"]) == expected[10:20]
    # a new search goes back to page 1
    ok(at.text_input(key="customers.search").input("a").run())
    assert at.number_input(key="customers.page").value == 1


def test_products_flag_below_reorder_point(env, shop):
    at = open_page(shop, "products")
    ok(at.checkbox(key="products.filter.low_stock").check().run())
    frame = at.dataframe[0].value
    expected = sql_one(
        env, "select count(*) from raw.products where stock_quantity < reorder_point"
    )
    assert len(frame) == min(expected, 25)
    assert frame["below_reorder_point"].all()
    ok(at.checkbox(key="products.filter.low_stock").uncheck().run())
    product = made("products")
    open_row(at, "products", product["product_id"])
    fill(at, "products", {"stock_quantity": 0, "reorder_point": 4})
    assert any(w.startswith("Below reorder point") for w in texts(at, "warning"))
