"""The orders editing page under Streamlit's AppTest, on a real database: an
order with its lines and totals shown before saving; changing, adding and
removing lines; soft delete and restore; a conflict that shows the current
lines; validation; the promotion discount; the list's filters."""

from __future__ import annotations

from decimal import Decimal

import app_editing_support
import pytest
from app_editing_support import (
    click,
    count,
    fill,
    ok,
    open_page,
    open_row,
    shows_total,
    texts,
)
from editing_support import sql_one, sql_rows
from streamlit.testing.v1 import AppTest

from core import db, editing

# The fixtures of app_editing_support: a small shop with one account per role in
# this module's own database.
shop = app_editing_support.shop
env = app_editing_support.env


# ------------------------------------------------------------------------ orders


def _add_line(at: AppTest, search: str, product_id: str, quantity: int) -> None:
    ok(at.text_input(key="orders.add.f.product_id.q").input(search).run())
    at.selectbox(key="orders.add.f.product_id").select(product_id)
    at.number_input(key="orders.add.quantity").set_value(quantity)
    click(at, "orders.add_line")


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _order(product_ids=("1", "2")) -> str:
    return editing.save_order(
        {
            "customer_id": "3",
            "channel_id": "2",
            "ship_region_id": "1",
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
            "customer_id": ("maggie", "1"),
            "channel_id": ("website", "1"),
            "ship_region_id": ("western", "1"),
            "shipping_amount": Decimal("5.0"),
            "tax_amount": Decimal("2.5"),
        },
    )
    _add_line(at, "ELE-000001", "1", 2)
    _add_line(at, "ELE-000002", "2", 1)
    at.text_input(key="orders.line.2.discount_amount").input("1.25")
    ok(at.run())
    prices = dict(
        sql_rows(
            env,
            "select product_id, list_price from raw.products "
            "where product_id in ('1', '2')",
        )
    )
    expected = editing.order_totals(
        [
            {"quantity": 2, "unit_price": prices["1"], "discount_amount": 0},
            {"quantity": 1, "unit_price": prices["2"], "discount_amount": "1.25"},
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
    order_id = message.removeprefix("Created order #").rstrip(".")
    assert order_id.startswith("app-")
    order, items = editing.get_order(order_id)
    assert (order["customer_id"], order["channel_id"], order["ship_region_id"]) == (
        "1",
        "1",
        "1",
    )
    assert order["shipping_amount"] == Decimal("5.00")
    assert [(i["product_id"], i["quantity"], i["discount_amount"]) for i in items] == [
        ("1", 2, Decimal("0.00")),
        ("2", 1, Decimal("1.25")),
    ]
    assert all(i["order_item_id"].startswith("app-") for i in items)
    stored = editing.order_totals(items, order["shipping_amount"], order["tax_amount"])
    assert stored["total"] == expected["total"]


def test_order_edit_changes_adds_and_removes_lines(env, shop):
    order_id = _order()
    order, items = editing.get_order(order_id)
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
    _add_line(at, "ELE-000003", "3", 2)
    at.selectbox(key="orders.f.status").set_value("shipped")
    click(at, "orders.save")
    assert texts(at, "success") == ["Saved."], texts(at, "error")
    now, now_items = editing.get_order(order_id)
    assert now["status"] == "shipped" and now["updated_at"] > order["updated_at"]
    assert [(i["product_id"], i["quantity"]) for i in now_items] == [("1", 3), ("3", 2)]
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
    assert editing.get_row("orders", order_id)["deleted_at"] is None
    click(at, "orders.confirm_delete_yes")
    assert editing.get_row("orders", order_id)["deleted_at"] is not None
    assert any("deleted" in w for w in texts(at, "warning"))
    with pytest.raises(KeyError):
        at.button(key="orders.save")  # a deleted order is restored, not edited
    click(at, "orders.restore")
    assert texts(at, "success") == ["The order was restored."]
    assert editing.get_row("orders", order_id)["deleted_at"] is None


def test_order_conflict_shows_current_order_and_lines(env, shop):
    order_id = _order()
    at = open_page(shop, "orders")
    open_row(at, "orders", order_id)
    with db.connect(env) as conn:
        conn.execute(
            "update raw.orders set status = 'cancelled' where order_id = %s", [order_id]
        )
        conn.commit()
    at.text_input(key="orders.f.shipping_amount").input("9.99")
    click(at, "orders.save")
    assert any("changed by someone else" in w for w in texts(at, "warning"))
    compared = at.dataframe[0].value
    status = compared[compared["field"] == "Status"]
    assert status["current value"].iloc[0] == "cancelled"
    assert status["your value"].iloc[0] == "placed"
    assert len(at.dataframe[1].value) == 2, "the current lines are shown"
    order = editing.get_row("orders", order_id)
    assert order["status"] == "cancelled"
    assert order["shipping_amount"] == Decimal("4.99"), "nothing overwritten"


def test_order_validation_error_writes_nothing(env, shop):
    order_id = _order(("1",))
    order, items = editing.get_order(order_id)
    at = open_page(shop, "orders")
    open_row(at, "orders", order_id)
    (line,) = at.session_state["orders.lines"]
    discount = at.text_input(key=f"orders.line.{line['uid']}.discount_amount")
    discount.input(f"{items[0]['unit_price'] + 1:f}")
    click(at, "orders.save")
    (message,) = texts(at, "error")
    assert message.startswith("Line 1, Discount: must be between 0 and the line amount")
    assert editing.get_order(order_id) == (order, items)
    # an amount with more decimals than kept is refused, never rounded
    at.text_input(key=f"orders.line.{line['uid']}.unit_price").input("3.14159")
    at.text_input(key=f"orders.line.{line['uid']}.discount_amount").input("0")
    click(at, "orders.save")
    assert texts(at, "error") == [
        "Line 1, Unit price: use at most 4 decimals (this has 5)"
    ]
    assert editing.get_order(order_id) == (order, items)
    # a new order without lines
    before = count(env, "orders")
    click(at, "orders.new")
    fill(
        at,
        "orders",
        {
            "customer_id": ("maggie", "1"),
            "channel_id": ("website", "1"),
            "ship_region_id": ("western", "1"),
        },
    )
    click(at, "orders.save")
    assert "Items: an order needs at least one line" in texts(at, "error")
    assert count(env, "orders") == before


def test_order_promotion_discount_is_applied_to_the_lines(env, shop):
    order_id = _order()
    at = open_page(shop, "orders")
    open_row(at, "orders", order_id)
    fill(at, "orders", {"promotion_id": ("NEWYEAR23", "1")})
    click(at, "orders.apply_promotion")
    pct = editing.get_row("promotions", "1")["discount_pct"]
    for line in at.session_state["orders.lines"]:
        uid = line["uid"]
        quantity = at.number_input(key=f"orders.line.{uid}.quantity").value
        price = at.text_input(key=f"orders.line.{uid}.unit_price").value
        expected = editing.promotion_discount(quantity, price, pct)
        shown = at.text_input(key=f"orders.line.{uid}.discount_amount").value
        assert Decimal(shown) == expected
    click(at, "orders.save")
    _, items = editing.get_order(order_id)
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
