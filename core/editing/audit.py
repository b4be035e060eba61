"""The audit trail (`app.audit_log`, written by a trigger on every raw change):
one page of entries, one entry, who appears in it, and an entry field by field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import pandas as pd
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from core.editing.connection import reading
from core.editing.listing import (
    bounded_search,
    id_candidates,
    like_pattern,
    page_params,
    read_page,
    where_clause,
)
from core.editing.stored_rows import parse_number
from core.editing.values import as_utc

AUDIT_ACTIONS = ("insert", "update", "delete")
AUDIT_TABLES = (
    "customers",
    "products",
    "orders",
    "order_items",
    "promotions",
    "regions",
    "channels",
)
AUDIT_KEYS = {
    "customers": "customer_id",
    "products": "product_id",
    "orders": "order_id",
    "order_items": "order_item_id",
    "promotions": "promotion_id",
    "regions": "region_id",
    "channels": "channel_id",
}

_AUDIT_COLUMNS = """
    a.audit_id,
    a.changed_at,
    a.table_name,
    a.action,
    a.row_key::text as row_key,
    a.changed_by,
    a.database_role,
    case
        when a.action = 'update' then array_to_string(
            array(
                select k
                from jsonb_object_keys(a.new_values) as k
                where
                    k not in ('updated_at', 'synced_at')
                    and a.old_values -> k is distinct from a.new_values -> k
                order by k
            ),
            ', '
        )
        else ''
    end as changed_fields
"""


def list_audit(
    table: str | None = None,
    action: str | None = None,
    user: str | None = None,
    key: str | int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[pd.DataFrame, int]:
    """One page of the audit trail, newest first, and the total count.

    `user` matches part of the name; `key` is a row id (any table's key column
    when no table is chosen); dates are inclusive days (UTC).
    """
    where, params = _audit_where(table, action, user, key, date_from, date_to)
    params |= page_params(page, page_size)
    count_sql = sql.SQL("select count(*) from app.audit_log as a {}").format(where)
    page_sql = sql.SQL(
        "select {} from app.audit_log as a {} "
        "order by a.changed_at desc, a.audit_id desc "
        "limit %(limit)s offset %(offset)s"
    ).format(sql.SQL(_AUDIT_COLUMNS), where)
    return read_page(count_sql, page_sql, params)


def _audit_where(
    table: str | None,
    action: str | None,
    user: str | None,
    key: str | int | None,
    date_from: date | None,
    date_to: date | None,
) -> tuple[sql.Composable, dict[str, Any]]:
    """The filters of list_audit as a where clause and its parameters."""
    clauses: list[sql.Composable] = []
    params: dict[str, Any] = {}
    if table:
        if table not in AUDIT_TABLES:
            raise ValueError(f"unknown table {table!r}")
        clauses.append(sql.SQL("a.table_name = %(table)s"))
        params["table"] = table
    if action:
        if action not in AUDIT_ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        clauses.append(sql.SQL("a.action = %(action)s"))
        params["action"] = action
    user = bounded_search(user, "User").strip()
    if user:
        clauses.append(sql.SQL("a.changed_by ilike %(user)s"))
        params["user"] = like_pattern(user)
    # ids are text, matched exactly (as typed, or without a leading '#')
    keys = id_candidates(bounded_search(str(key if key is not None else ""), "Row id"))
    if keys and table:
        # uses the (table_name, row_key) index
        clauses.append(sql.SQL("a.row_key = any(%(row_keys)s)"))
        params["row_keys"] = [Jsonb({AUDIT_KEYS[table]: k}) for k in keys]
    elif keys:
        clauses.append(
            sql.SQL(
                "exists (select from jsonb_each_text(a.row_key) as k "
                "where k.value = any(%(keys)s::text[]))"
            )
        )
        params["keys"] = keys
    if date_from:
        clauses.append(sql.SQL("a.changed_at >= %(date_from)s"))
        params["date_from"] = as_utc(date_from)
    if date_to:
        clauses.append(sql.SQL("a.changed_at < %(date_to)s"))
        params["date_to"] = as_utc(date_to) + timedelta(days=1)
    return where_clause(clauses), params


def get_audit(audit_id: Any) -> dict[str, Any] | None:
    """One audit entry with its old and new values (dicts)."""
    with reading() as conn, conn.cursor(row_factory=dict_row) as cur:
        audit_id = parse_number(audit_id, "Audit entry")
        return cur.execute(
            "select * from app.audit_log where audit_id = %s", [audit_id]
        ).fetchone()


def audit_users() -> list[str]:
    """Who appears in the audit trail (for the user filter)."""
    with reading() as conn:
        rows = conn.execute(
            "select distinct changed_by from app.audit_log order by 1 limit 500"
        ).fetchall()
    return [row[0] for row in rows]


def _json_text(value: Any) -> str:
    """A stored value as JSON text ('' for none)."""
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False)


def audit_changes(entry: Mapping[str, Any]) -> pd.DataFrame:
    """Field by field: old value, new value (as JSON text) and whether it
    changed; changed fields first."""
    old = entry.get("old_values") or {}
    new = entry.get("new_values") or {}
    # synced_at is the warehouse's write stamp, not a field anyone edits
    names = [n for n in dict.fromkeys([*new.keys(), *old.keys()]) if n != "synced_at"]
    rows = [
        {
            "field": name,
            "old": _json_text(old.get(name)) if name in old else "",
            "new": _json_text(new.get(name)) if name in new else "",
            "changed": (name in old) != (name in new) or old.get(name) != new.get(name),
        }
        for name in names
    ]
    frame = pd.DataFrame(rows, columns=["field", "old", "new", "changed"])
    return frame.sort_values("changed", ascending=False, kind="stable").reset_index(
        drop=True
    )
