"""The audit trail of the editing layer (core.editing): every write names the
signed-in user, the trail's filters equal SQL, and the same writes work
through the least-privilege role ecom_app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import editing_support
import psycopg
import pytest
from editing_support import (
    USER,
    lines,
    new_order,
    sql_one,
    sql_rows,
    valid,
)
from psycopg.types.json import Jsonb

from core import db, editing

# The fixtures of editing_support: a small shop in this module's own database.
shop = editing_support.shop
env = editing_support.env


# --------------------------------------------------------------------- audit


def test_audit_rows_name_the_signed_in_user(env):
    row = editing.create_row("customers", valid("customers"), "carol")
    editing.update_row(
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

    frame, total = editing.list_audit(
        table="customers", user="DAV", key=str(row["customer_id"])
    )
    assert total == 1 and frame["changed_fields"][0] == "city"
    frame, total = editing.list_audit(key=row["customer_id"])
    assert total >= 2
    entry = editing.get_audit(int(frame["audit_id"][0]))
    changes = editing.audit_changes(entry)
    changed = set(changes[changes["changed"]]["field"])
    assert changed == {"city", "updated_at"}
    assert changes["field"][0] in changed, "changed fields come first"


def test_audit_filters_equal_sql(env):
    order_id = new_order()
    for status in ("paid", "pending", "paid", "refunded", "paid", "pending"):
        row = editing.get_row("orders", order_id)
        editing.update_row(
            "orders", order_id, {"payment_status": status}, row["updated_at"], USER
        )
    today = datetime.now(UTC).date()
    frame, total = editing.list_audit(
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
    second, _ = editing.list_audit(
        table="orders", action="update", date_from=today, page=2, page_size=5
    )
    assert [int(v) for v in second["audit_id"]] == [r[0] for r in expected[5:10]]
    assert editing.list_audit(date_to=today - timedelta(days=1))[1] == 0
    with pytest.raises(ValueError):
        editing.list_audit(table="pg_authid")


# -------------------------------------------------------- least privilege


def test_writes_work_as_the_least_privilege_role(env, monkeypatch):
    monkeypatch.setenv("PGUSER", "ecom_app")
    monkeypatch.delenv("PGPASSWORD", raising=False)
    assert editing.list_rows("customers", page_size=1)[1] > 0
    customer = editing.create_row("customers", valid("customers"), "erin")
    changed = editing.update_row(
        "customers",
        customer["customer_id"],
        {"city": "X"},
        customer["updated_at"],
        "erin",
    )
    order_id = new_order(customer_id=customer["customer_id"])
    order, items = editing.get_order(order_id)
    editing.save_order(
        order,
        [*items, *lines((2, 1, "3.00", "0"))],
        "erin",
        expected_updated_at=order["updated_at"],
    )
    order, items = editing.get_order(order_id)
    editing.save_order(
        order, items[1:], "erin", expected_updated_at=order["updated_at"]
    )
    order = editing.get_row("orders", order_id)
    assert editing.delete_row(
        "orders", order_id, order["updated_at"], "erin"
    ).action == ("soft_deleted")
    assert (
        editing.delete_row(
            "customers", customer["customer_id"], changed["updated_at"], "erin"
        ).action
        == "deactivated"
    )
    region = editing.create_row("regions", valid("regions"), "erin")
    assert (
        editing.delete_row(
            "regions", region["region_id"], region["updated_at"], "erin"
        ).action
        == "deleted"
    )
    frame, total = editing.list_audit(user="erin", page_size=100)
    assert total >= 8
    assert set(frame["database_role"]) == {"ecom_app"}
    assert set(frame["changed_by"]) == {"erin"}
    # the role itself may not hard-delete orders
    with (
        db.connect(env | {"PGUSER": "ecom_app"}) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("delete from raw.orders where order_id = %s", [order_id])
