"""Orders through the editing layer (core.editing): an order and its lines in
one transaction, totals, adding, changing and removing lines, a conflict
that covers the lines, and the soft delete that can be undone."""

from __future__ import annotations

from decimal import Decimal

import editing_support
import pytest
from editing_support import (
    USER,
    counts,
    errors_of,
    ids,
    lines,
    new_order,
    sql_one,
    sql_rows,
    valid,
)

from core import editing

# The fixtures of editing_support: a small shop in this module's own database.
shop = editing_support.shop
env = editing_support.env


def test_order_conflict_covers_its_lines(env):
    order_id = new_order(lines((1, 1, "10.00", "0"), (2, 1, "20.00", "0")))
    order, items = editing.get_order(order_id)
    # someone else changes a line through the app: the order's version moves
    theirs = [dict(items[0]) | {"quantity": 5}, items[1]]
    editing.save_order(order, theirs, "bob", expected_updated_at=order["updated_at"])
    mine = [items[0], dict(items[1]) | {"quantity": 3}]
    with pytest.raises(editing.Conflict) as caught:
        editing.save_order(order, mine, USER, expected_updated_at=order["updated_at"])
    assert [i["quantity"] for i in caught.value.items] == [5, 1]
    _, now = editing.get_order(order_id)
    assert [i["quantity"] for i in now] == [5, 1]


def test_order_with_lines_is_saved_in_one_transaction(env):
    before = counts(env)
    bad = lines((1, 1, "10.00", "0"), (2, 1, "10.00", "0"), (3, 1, "-1", "0"))
    errors_of(lambda: editing.save_order(valid("orders"), bad, USER))
    assert counts(env) == before
    order_id = new_order(lines((1, 2, "10.00", "1.00"), (2, 1, "5.50", "0")))
    order, items = editing.get_order(order_id)
    assert order["customer_id"] == "1" and len(items) == 2
    after = counts(env)
    assert after["orders"] == before["orders"] + 1
    assert after["order_items"] == before["order_items"] + 2
    # a failing third line leaves nothing behind, though two were fine
    bad = lines((1, 1, "10.00", "0"), (2, 1, "10.00", "0"), (99_999_999, 1, "1", "0"))
    errors_of(lambda: editing.save_order(valid("orders"), bad, USER))
    assert counts(env) == after


def test_order_totals(env):
    items = lines((1, 2, "19.99", "1.50"), (2, 3, "5.00", "0"))
    totals = editing.order_totals(items, "4.95", Decimal("3.10"))
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
    assert editing.order_totals([{"quantity": None, "unit_price": "x"}])["total"] == 0
    order_id = new_order(
        items, shipping_amount=Decimal("4.95"), tax_amount=Decimal("3.10")
    )
    frame, _ = editing.list_rows("orders", str(order_id), page_size=100)
    listed = frame[frame["order_id"] == order_id].iloc[0]
    assert Decimal(listed["total"]) == totals["total"]
    assert Decimal(listed["items_subtotal"]) == totals["items_subtotal"]
    assert editing.promotion_discount(3, "19.99", "15") == Decimal("9.00")


def test_editing_an_order_adds_changes_and_removes_lines(env):
    order_id = new_order(
        lines((1, 1, "10.00", "0"), (2, 1, "20.00", "0"), (3, 1, "30.00", "0"))
    )
    order, items = editing.get_order(order_id)
    kept, changed, removed = items
    mark = sql_one(env, "select max(audit_id) from app.audit_log")
    new_items = [
        kept,
        dict(changed) | {"quantity": 4, "discount_amount": Decimal("2.00")},
        {"product_id": "4", "quantity": 2, "unit_price": Decimal("7.25")},
    ]
    editing.save_order(
        order | {"status": "shipped"},
        new_items,
        USER,
        expected_updated_at=order["updated_at"],
    )
    order2, items2 = editing.get_order(order_id)
    assert order2["status"] == "shipped"
    assert order2["updated_at"] > order["updated_at"]
    assert [i["order_item_id"] for i in items2[:2]] == [
        kept["order_item_id"],
        changed["order_item_id"],
    ]
    assert items2[1]["quantity"] == 4 and items2[1]["discount_amount"] == Decimal("2")
    assert items2[2]["product_id"] == "4" and items2[2]["unit_price"] == Decimal("7.25")
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
    editing.save_order(
        order2,
        [*items2[:2], dict(items2[2]) | {"quantity": 3}],
        USER,
        expected_updated_at=order2["updated_at"],
    )
    order3, _ = editing.get_order(order_id)
    assert order3["updated_at"] > order2["updated_at"]


def test_generic_api_for_orders(env):
    created = editing.create_row("orders", valid("orders") | {"items": lines()}, USER)
    order_id = created["order_id"]
    changed = editing.update_row(
        "orders", order_id, {"payment_status": "paid"}, created["updated_at"], USER
    )
    assert changed["payment_status"] == "paid"
    assert len(editing.get_order(order_id)[1]) == 1, "lines are kept when not given"


def test_orders_are_soft_deleted_and_restored(env):
    order_id = new_order()
    order = editing.get_row("orders", order_id)
    outcome = editing.delete_row("orders", order_id, order["updated_at"], USER)
    assert outcome.action == "soft_deleted"
    deleted = editing.get_row("orders", order_id)
    assert deleted["deleted_at"] is not None
    assert len(editing.get_order(order_id)[1]) == 1, "lines are kept"
    listed, _ = editing.list_rows("orders", str(order_id), {"deleted": "hide"})
    assert order_id not in ids(listed, "order_id")
    only = editing.list_rows("orders", filters={"deleted": "only"}, page_size=100)[0]
    assert order_id in ids(only, "order_id")
    with pytest.raises(editing.Refused):
        editing.save_order(
            deleted, lines(), USER, expected_updated_at=deleted["updated_at"]
        )
    restored = editing.restore_order(order_id, deleted["updated_at"], USER)
    assert restored.action == "restored"
    assert editing.get_row("orders", order_id)["deleted_at"] is None
