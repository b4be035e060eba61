"""Who reaches the editing pages and what they show, under Streamlit's
AppTest on a real database: the audit trail for admins only, no editing pages
for viewers (nor for an editor demoted meanwhile), hostile text shown as text,
and a failing query shown as a message, not a traceback."""

from __future__ import annotations

import app_editing_support
import pytest
from app_editing_support import (
    APP,
    PAGES,
    click,
    made,
    markup,
    ok,
    open_page,
    serial,
    texts,
    valid,
)
from conftest import app_account, point_app_at
from streamlit.testing.v1 import AppTest

from core import db, editing

# The fixtures of app_editing_support: a small shop with one account per role in
# this module's own database.
shop = app_editing_support.shop
env = app_editing_support.env


HOSTILE = {
    "first_name": "<script>alert(1)</script>",
    "last_name": "**bold** [link](http://example.com)",
    "city": "<img src=x onerror=alert(1)>",
}


# ------------------------------------------------------------------------- audit


def test_audit_trail_for_admins(env, shop):
    row = made("regions")
    editing.update_row(
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
    row = editing.create_row(
        "customers", valid("customers", next(serial)) | HOSTILE, "<b>mallory</b>"
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
