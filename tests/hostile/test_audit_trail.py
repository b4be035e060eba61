"""The audit trail cannot be forged: no role but the owner may attach the audit
function to a table, and the function records only the raw tables. Its row keys
are the rows' text ids, found again exactly however odd they are."""

from __future__ import annotations

import psycopg
import pytest
from conftest import point_app_at

from core import db, editing
from core.schema import apply_schema

FORGE = """
create temporary table orders (order_id text, note text);
create trigger forged after insert on orders
    for each row execute function app.audit_row_change('order_id');
insert into orders values ('1', 'forged');
"""


@pytest.fixture
def schema_db(fresh_db) -> dict[str, str]:
    with db.connect(fresh_db) as conn:
        apply_schema(conn)
        if set(db.app_roles(conn)) != set(db.ROLES):
            pytest.skip("this login may not create the ecom_* roles")
    return fresh_db


def _audit_rows(env: dict[str, str]) -> int:
    with db.connect(env) as conn:
        return conn.execute("select count(*) from app.audit_log").fetchone()[0]


@pytest.mark.parametrize("role", ["ecom_app", "ecom_dbt", "ecom_loader"])
def test_roles_cannot_attach_the_audit_function(schema_db, role):
    login = db.connect(schema_db | {"PGUSER": role, "PGPASSWORD": ""})
    with login as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(FORGE)
    assert _audit_rows(schema_db) == 0


def test_the_audit_function_refuses_tables_outside_raw(schema_db):
    with db.connect(schema_db) as conn:
        with pytest.raises(psycopg.errors.RaiseException, match="only the raw"):
            conn.execute(FORGE)
        conn.rollback()
    assert _audit_rows(schema_db) == 0


def test_the_app_role_still_writes_the_trail(schema_db):
    with db.connect(schema_db | {"PGUSER": "ecom_app", "PGPASSWORD": ""}) as conn:
        conn.execute("select set_config('ecom.app_user', 'erin', false)")
        conn.execute(
            "insert into raw.regions (region_id, region_name) values ('7', 'Isles')"
        )
        conn.commit()
    with db.connect(schema_db) as conn:
        row = conn.execute(
            "select table_name, action, changed_by from app.audit_log"
        ).fetchone()
    assert row == ("regions", "insert", "erin")


ODD_KEYS = ['Zoë\'s "isle" 7', "%_ wild", "app 7", "#8", "x" * 64]


def test_odd_text_keys_are_recorded_and_found_exactly(schema_db, monkeypatch):
    point_app_at(monkeypatch, schema_db)
    with db.connect(schema_db) as conn:
        for n, key in enumerate(ODD_KEYS):
            conn.execute(
                "insert into raw.regions (region_id, region_name) values (%s, %s)",
                [key, f"Region {n}"],
            )
        conn.commit()
    for key in ODD_KEYS:
        row = editing.get_row("regions", key)
        editing.update_row("regions", key, {"region_name": key}, row["updated_at"], "o")
        for table in ("regions", None):
            frame, total = editing.list_audit(table=table, key=key)
            assert total == 2, (key, table)
            assert set(frame["action"]) == {"insert", "update"}
    # '#8' is also the id '8' typed as labels show it; '8' alone is not '#8'
    assert editing.list_audit(table="regions", key="8")[1] == 0
    assert editing.list_audit(table="regions", key="%")[1] == 0
    with pytest.raises(editing.ValidationError) as caught:
        editing.list_audit(key="k" * 300)
    assert caught.value.message == "Row id: at most 256 characters"
