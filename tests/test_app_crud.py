"""The editing pages and the audit trail under Streamlit's AppTest, on a real
database: create, edit, delete with confirmation, a conflict (the row changes in
SQL between opening the form and saving), a validation error (nothing written)
for every page; orders with their lines and totals; the audit trail for admins;
viewers never reach the editing pages; hostile text is shown as text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import app_account, point_app_at
from psycopg import sql
from streamlit.testing.v1 import AppTest

from core import db
from loader.generate import generate
from loader.load import load_directory
from streamlit_app import crud

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
SIMPLE = ["customers", "products", "promotions", "regions", "channels"]
HOSTILE = {
    "first_name": "<script>alert(1)</script>",
    "last_name": "**bold** [link](http://example.com)",
    "city": "<img src=x onerror=alert(1)>",
}


# ----------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def shop(module_db, tmp_path_factory) -> dict:
    """A small generated shop and one account per role."""
    users = {
        role: app_account(module_db, role) for role in ("viewer", "editor", "admin")
    }
    data_dir = tmp_path_factory.mktemp("shop")
    generate(data_dir, scale=0.02, seed=1)
    load_directory(module_db, data_dir)
    return {"env": module_db, "users": users}


@pytest.fixture
def env(shop, monkeypatch) -> dict[str, str]:
    """AppTest runs the app in this process: point the process at the shop."""
    point_app_at(monkeypatch, shop["env"])
    return shop["env"]


# ------------------------------------------------------------------------ helpers


def sql_rows(env, statement, params=None) -> list[tuple]:
    with db.connect(env) as conn:
        return conn.execute(statement, params).fetchall()


def sql_one(env, statement, params=None):
    return sql_rows(env, statement, params)[0][0]


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
        else:
            widget(at, key).set_value(value)
    return ok(at.run())


def open_row(at: AppTest, prefix: str, key: int) -> AppTest:
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
            "region_id": 1,
            "acquisition_channel_id": 1,
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


_serial = iter(range(1, 10**6))


def made(entity: str) -> dict:
    """A fresh row made through crud (no orders refer to it)."""
    return crud.create_row(entity, valid(entity, next(_serial)), "setup")


# What a user types into a new row's form; the field that identifies it.
NEW = {
    "customers": (
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada.lovelace@example.com",
            "country_code": "gb",
            "region_id": ("british", 4),
            "acquisition_channel_id": ("web", 1),
        },
        {"email": "ada.lovelace@example.com", "country_code": "GB", "region_id": 4},
    ),
    "products": (
        {
            "sku": "APP-NEW-1",
            "product_name": "Analytical Engine",
            "category": "electronics",
            "subcategory": "laptops",
            "brand": "Cantrell",
            "unit_cost": 100.0,
            "list_price": 149.99,
            "stock_quantity": 3,
            "reorder_point": 5,
        },
        {"sku": "APP-NEW-1", "list_price": Decimal("149.99"), "stock_quantity": 3},
    ),
    "promotions": (
        {
            "promo_code": "APPSPRING",
            "description": "Spring sale",
            "discount_pct": 12.5,
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
    "products": ("list_price", -3.0, "List price: must be more than 0"),
    "promotions": ("discount_pct", 150.0, "Discount %: must be at most 100"),
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


def key_of(entity: str) -> str:
    return crud.entity(entity).key


# ----------------------------------------------------------------- simple pages


@pytest.mark.parametrize("entity", SIMPLE)
def test_create(env, shop, entity):
    at = open_page(shop, entity)
    assert texts(at, "title") == [f"Edit {crud.entity(entity).title.lower()}"]
    assert at.dataframe, "the list is shown"
    click(at, f"{entity}.new")
    typed, stored = NEW[entity]
    fill(at, entity, typed)
    click(at, f"{entity}.save")
    assert any(
        m.startswith(f"Created {crud.entity(entity).singular} #")
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
        f"{crud.entity(entity).singular.capitalize()} #{key}"
    )
    name, typed, stored = EDIT[entity]
    fill(at, entity, {name: typed})
    click(at, f"{entity}.save")
    assert texts(at, "success") == ["Saved."], texts(at, "error")
    now = crud.get_row(entity, key)
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
    assert crud.get_row(entity, key)["updated_at"] == now["updated_at"]


@pytest.mark.parametrize("entity", SIMPLE)
def test_delete_asks_for_confirmation(env, shop, entity):
    row = made(entity)
    key = row[key_of(entity)]
    at = open_page(shop, entity)
    open_row(at, entity, key)
    click(at, f"{entity}.delete")
    assert any(w.startswith("Delete this") for w in texts(at, "warning"))
    assert crud.get_row(entity, key) is not None, "nothing happens before confirming"
    click(at, f"{entity}.confirm_delete_no")
    assert crud.get_row(entity, key) is not None
    click(at, f"{entity}.delete")
    click(at, f"{entity}.confirm_delete_yes")
    assert texts(at, "success") == [f"The {crud.entity(entity).singular} was deleted."]
    assert crud.get_row(entity, key) is None
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
    if name in crud.entity(entity).unique:
        typed = stored = f"{typed} (conflict test)"
    fill(at, entity, {name: typed})
    click(at, f"{entity}.save")
    assert any("changed by someone else" in w for w in texts(at, "warning"))
    compared = at.dataframe[0].value
    label = crud.entity(entity).field(column).label
    current = compared[compared["field"] == label]["current value"].iloc[0]
    assert current == theirs
    assert crud.get_row(entity, key)[column] == theirs, "nothing overwritten"
    if name != column:
        assert crud.get_row(entity, key)[name] == row[name]

    # start again from the current values
    click(at, f"{entity}.reload")
    assert widget(at, f"{entity}.f.{column}").value == theirs
    fill(at, entity, {name: typed})
    click(at, f"{entity}.save")
    assert texts(at, "success") == ["Saved."]
    now = crud.get_row(entity, key)
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
    assert crud.get_row("regions", row["region_id"])["region_name"] == "Theirs"
    click(at, "regions.keep")
    assert widget(at, "regions.f.region_name").value == "Mine"
    click(at, "regions.save")
    assert texts(at, "success") == ["Saved."]
    assert crud.get_row("regions", row["region_id"])["region_name"] == "Mine"


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
    assert crud.get_row("channels", row["channel_id"]) is None


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
    assert crud.get_row(entity, row[key_of(entity)]) == row


def test_database_refusal_names_the_field(env, shop):
    taken = made("customers")
    at = open_page(shop, "customers")
    click(at, "customers.new")
    fill(at, "customers", NEW["customers"][0] | {"email": taken["email"]})
    click(at, "customers.save")
    assert texts(at, "error") == ["Email: already used by another customer"]


def test_customer_with_orders_is_deactivated(env, shop):
    customer = made("customers")
    crud.save_order(
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
    assert crud.get_row("customers", customer["customer_id"])["is_active"] is False
    assert widget(at, "customers.f.is_active").value is False


def test_region_in_use_is_not_deleted(env, shop):
    at = open_page(shop, "regions")
    open_row(at, "regions", 2)
    click(at, "regions.delete")
    click(at, "regions.confirm_delete_yes")
    (message,) = texts(at, "error")
    assert message.startswith("This region cannot be deleted: it is used by ")
    assert crud.get_row("regions", 2) is not None


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


# ------------------------------------------------------------------------ orders


def _add_line(at: AppTest, search: str, product_id: int, quantity: int) -> None:
    ok(at.text_input(key="orders.add.f.product_id.q").input(search).run())
    at.selectbox(key="orders.add.f.product_id").select(product_id)
    at.number_input(key="orders.add.quantity").set_value(quantity)
    click(at, "orders.add_line")


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _order(product_ids=(1, 2)) -> int:
    return crud.save_order(
        {
            "customer_id": 3,
            "channel_id": 2,
            "ship_region_id": 1,
            "payment_method": "paypal",
            "shipping_amount": Decimal("4.99"),
        },
        [{"product_id": p, "quantity": 1} for p in product_ids],
        "setup",
    )


def test_order_create_with_lines_and_totals(env, shop):
    before = count(env, "orders")
    at = open_page(shop, "orders")
    click(at, "orders.new")
    fill(
        at,
        "orders",
        {
            "customer_id": ("maggie", 1),
            "channel_id": ("website", 1),
            "ship_region_id": ("western", 1),
            "shipping_amount": 5.0,
            "tax_amount": 2.5,
        },
    )
    _add_line(at, "ELE-000001", 1, 2)
    _add_line(at, "ELE-000002", 2, 1)
    at.number_input(key="orders.line.2.discount_amount").set_value(1.25)
    ok(at.run())
    prices = dict(
        sql_rows(
            env,
            "select product_id, list_price from raw.products "
            "where product_id in (1, 2)",
        )
    )
    expected = crud.order_totals(
        [
            {"quantity": 2, "unit_price": prices[1], "discount_amount": 0},
            {"quantity": 1, "unit_price": prices[2], "discount_amount": "1.25"},
        ],
        5,
        2.5,
    )
    shown = _metrics(at)
    assert shown["Items subtotal"] == f"{expected['items_subtotal']:,.2f}"
    assert shown["Discounts"] == "1.25"
    assert shown["Total"] == f"{expected['total']:,.2f}"
    assert count(env, "orders") == before, "nothing is written before saving"
    click(at, "orders.save")
    (message,) = texts(at, "success")
    order_id = int(message.removeprefix("Created order #").rstrip("."))
    order, items = crud.get_order(order_id)
    assert (order["customer_id"], order["channel_id"], order["ship_region_id"]) == (
        1,
        1,
        1,
    )
    assert order["shipping_amount"] == Decimal("5.00")
    assert [(i["product_id"], i["quantity"], i["discount_amount"]) for i in items] == [
        (1, 2, Decimal("0.00")),
        (2, 1, Decimal("1.25")),
    ]
    stored = crud.order_totals(items, order["shipping_amount"], order["tax_amount"])
    assert stored["total"] == expected["total"]


def test_order_edit_changes_adds_and_removes_lines(env, shop):
    order_id = _order((1, 2))
    order, items = crud.get_order(order_id)
    at = open_page(shop, "orders")
    open_row(at, "orders", order_id)
    lines = at.session_state["orders.lines"]
    assert [line["order_item_id"] for line in lines] == [
        i["order_item_id"] for i in items
    ]
    first, second = (line["uid"] for line in lines)
    at.number_input(key=f"orders.line.{first}.quantity").set_value(3)
    ok(at.run())
    click(at, f"orders.line.{second}.remove")
    _add_line(at, "ELE-000003", 3, 2)
    at.selectbox(key="orders.f.status").set_value("shipped")
    click(at, "orders.save")
    assert texts(at, "success") == ["Saved."], texts(at, "error")
    now, now_items = crud.get_order(order_id)
    assert now["status"] == "shipped" and now["updated_at"] > order["updated_at"]
    assert [(i["product_id"], i["quantity"]) for i in now_items] == [(1, 3), (3, 2)]
    assert now_items[0]["order_item_id"] == items[0]["order_item_id"]
    assert not sql_rows(
        env,
        "select 1 from raw.order_items where order_item_id = %s",
        [items[1]["order_item_id"]],
    )


def test_order_soft_delete_and_restore(env, shop):
    order_id = _order()
    at = open_page(shop, "orders")
    open_row(at, "orders", order_id)
    click(at, "orders.delete")
    assert crud.get_row("orders", order_id)["deleted_at"] is None
    click(at, "orders.confirm_delete_yes")
    assert crud.get_row("orders", order_id)["deleted_at"] is not None
    assert any("deleted" in w for w in texts(at, "warning"))
    with pytest.raises(KeyError):
        at.button(key="orders.save")  # a deleted order is restored, not edited
    click(at, "orders.restore")
    assert texts(at, "success") == ["The order was restored."]
    assert crud.get_row("orders", order_id)["deleted_at"] is None


def test_order_conflict_shows_current_order_and_lines(env, shop):
    order_id = _order((1, 2))
    at = open_page(shop, "orders")
    open_row(at, "orders", order_id)
    with db.connect(env) as conn:
        conn.execute(
            "update raw.orders set status = 'cancelled' where order_id = %s", [order_id]
        )
        conn.commit()
    at.number_input(key="orders.f.shipping_amount").set_value(9.99)
    click(at, "orders.save")
    assert any("changed by someone else" in w for w in texts(at, "warning"))
    compared = at.dataframe[0].value
    status = compared[compared["field"] == "Status"]
    assert status["current value"].iloc[0] == "cancelled"
    assert status["your value"].iloc[0] == "placed"
    assert len(at.dataframe[1].value) == 2, "the current lines are shown"
    order = crud.get_row("orders", order_id)
    assert order["status"] == "cancelled"
    assert order["shipping_amount"] == Decimal("4.99"), "nothing overwritten"


def test_order_validation_error_writes_nothing(env, shop):
    order_id = _order((1,))
    order, items = crud.get_order(order_id)
    at = open_page(shop, "orders")
    open_row(at, "orders", order_id)
    (line,) = at.session_state["orders.lines"]
    at.number_input(key=f"orders.line.{line['uid']}.discount_amount").set_value(
        float(items[0]["unit_price"]) + 1
    )
    click(at, "orders.save")
    (message,) = texts(at, "error")
    assert message.startswith("Line 1, Discount: must be between 0 and the line amount")
    assert crud.get_order(order_id) == (order, items)
    # a new order without lines
    before = count(env, "orders")
    click(at, "orders.new")
    fill(
        at,
        "orders",
        {
            "customer_id": ("maggie", 1),
            "channel_id": ("website", 1),
            "ship_region_id": ("western", 1),
        },
    )
    click(at, "orders.save")
    assert "Items: an order needs at least one line" in texts(at, "error")
    assert count(env, "orders") == before


def test_order_promotion_discount_is_applied_to_the_lines(env, shop):
    order_id = _order((1, 2))
    at = open_page(shop, "orders")
    open_row(at, "orders", order_id)
    fill(at, "orders", {"promotion_id": ("NEWYEAR23", 1)})
    click(at, "orders.apply_promotion")
    pct = crud.get_row("promotions", 1)["discount_pct"]
    for line in at.session_state["orders.lines"]:
        uid = line["uid"]
        quantity = at.number_input(key=f"orders.line.{uid}.quantity").value
        price = at.number_input(key=f"orders.line.{uid}.unit_price").value
        expected = crud.promotion_discount(quantity, price, pct)
        assert at.number_input(key=f"orders.line.{uid}.discount_amount").value == float(
            expected
        )
    click(at, "orders.save")
    _, items = crud.get_order(order_id)
    assert all(i["discount_amount"] > 0 for i in items)


def test_orders_list_filters(env, shop):
    at = open_page(shop, "orders")
    at.multiselect(key="orders.filter.status").set_value(["returned"])
    ok(at.run())
    expected = sql_one(
        env,
        "select count(*) from raw.orders "
        "where status = 'returned' and deleted_at is null",
    )
    assert shows_total(at, expected, "orders")
    at.selectbox(key="orders.filter.deleted").set_value("only")
    ok(at.run())
    deleted = sql_one(
        env,
        "select count(*) from raw.orders where status = 'returned' "
        "and deleted_at is not null",
    )
    assert shows_total(at, deleted, "orders")


# ------------------------------------------------------------------------- audit


def test_audit_trail_for_admins(env, shop):
    row = made("regions")
    crud.update_row(
        "regions",
        row["region_id"],
        {"region_name": "Audited"},
        row["updated_at"],
        "zoe",
    )
    at = open_page(shop, "audit", role="admin")
    assert texts(at, "title") == ["Audit trail"]
    at.selectbox(key="audit.table").set_value("regions")
    at.text_input(key="audit.user").input("zoe")
    ok(at.run())
    frame = at.dataframe[0].value
    assert list(frame["action"]) == ["update"]
    assert frame["changed_fields"].iloc[0] == "region_name"
    changes = at.dataframe[1].value
    changed = changes[changes["changed"]]
    assert set(changed["field"]) == {"region_name", "updated_at"}
    name = changes[changes["field"] == "region_name"]
    assert name["old"].iloc[0] == f'"{row["region_name"]}"'
    assert name["new"].iloc[0] == '"Audited"'
    at.text_input(key="audit.user").input("")
    at.text_input(key="audit.key").input(str(row["region_id"]))
    at.selectbox(key="audit.action").set_value("insert")
    ok(at.run())
    assert list(at.dataframe[0].value["changed_by"]) == ["setup"]


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_audit_trail_is_for_admins_only(shop, env, role):
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["user"] = shop["users"][role]
    ok(at.run())
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGES["audit"])


@pytest.mark.parametrize("page", ["customers", "orders", "regions"])
def test_viewers_cannot_reach_the_editing_pages(shop, env, page):
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["user"] = shop["users"]["viewer"]
    ok(at.run())
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGES[page])


def test_demoted_editor_loses_the_page(shop, env):
    user = app_account(env, "editor")
    at = open_page(shop, "customers")
    with db.connect(env) as conn:
        conn.execute(
            "update app.users set role = 'viewer' where username = %s", [user.username]
        )
        conn.commit()
    try:
        ok(at.run())
        assert "Edit customers" not in texts(at, "title")
        with pytest.raises(KeyError):
            at.button(key="customers.new")
    finally:
        app_account(env, "editor")


# ---------------------------------------------------------------------- hostile


def test_hostile_text_is_shown_as_text(env, shop):
    row = crud.create_row(
        "customers", valid("customers", next(_serial)) | HOSTILE, "<b>mallory</b>"
    )
    key = row["customer_id"]
    at = open_page(shop, "customers")
    ok(at.text_input(key="customers.search").input(f"#{key}").run())
    frame = at.dataframe[0].value
    listed = frame[frame["customer_id"] == key].iloc[0]
    assert {name: listed[name] for name in HOSTILE} == HOSTILE
    assert HOSTILE["first_name"] in at.selectbox(key="customers.pick").options[0]
    click(at, "customers.open")
    for name, value in HOSTILE.items():
        assert at.text_input(key=f"customers.f.{name}").value == value
    rendered = markup(at)
    for value in HOSTILE.values():
        assert value not in rendered
    assert "<script>" not in rendered and "**bold**" not in rendered

    at = open_page(shop, "audit", role="admin")
    at.selectbox(key="audit.table").set_value("customers")
    at.text_input(key="audit.key").input(str(key))
    ok(at.run())
    assert list(at.dataframe[0].value["changed_by"]) == ["<b>mallory</b>"]
    details = at.dataframe[1].value
    shown = details[details["field"] == "first_name"]["new"].iloc[0]
    assert shown == '"<script>alert(1)</script>"'
    assert "Changed by <b>mallory</b>" in at.text[-1].value
    rendered = markup(at)
    assert "<script>" not in rendered and "mallory" not in rendered


# ------------------------------------------------------------------------ states


def test_a_failing_query_is_a_message_not_a_traceback(fresh_db, monkeypatch):
    editor = app_account(fresh_db, "editor")
    with db.connect(fresh_db) as conn:
        conn.execute("drop table raw.order_items")
        conn.commit()
    point_app_at(monkeypatch, fresh_db)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["user"] = editor
    ok(at.run())
    ok(at.switch_page(PAGES["orders"]).run())
    assert texts(at, "title") == ["Edit orders"]
    assert "Could not read from the database." in texts(at, "error")
    assert any("order_items" in t for t in texts(at, "text"))
    # the other pages still work
    ok(at.switch_page(PAGES["customers"]).run())
    assert not texts(at, "error")
