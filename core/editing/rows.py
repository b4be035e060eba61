"""One row of a table: read, create, change and delete it.

Edits and deletes carry the `updated_at` seen when the form was opened: a row
changed meanwhile raises `Conflict` with the current values. Deletes keep
history: customers and products that appear on orders are deactivated, and
regions, channels and promotions that are still used cannot be deleted (orders
are soft-deleted, see orders).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from core.editing.connection import reading, signed_in_name, writing
from core.editing.entities import REFERENCES, entity
from core.editing.errors import Conflict, Refused, ValidationError
from core.editing.fields import Entity
from core.editing.orders import get_order, save_order, set_order_deleted
from core.editing.stored_rows import (
    DeleteOutcome,
    check_version,
    parse_key,
    select_row,
)
from core.editing.validation import validate
from core.editing.values import same_value


def get_row(ent: str | Entity, key: Any) -> dict[str, Any] | None:
    """The row as stored (every column), or None."""
    ent = entity(ent)
    with reading() as conn:
        return select_row(conn, ent, parse_key(key))


def create_row(ent: str | Entity, values: Mapping[str, Any], user: Any) -> dict:
    """Insert a row with an id 'app-<n>' from the app's sequence (the loader
    refuses ids starting with 'app-', so none can collide); returns it as stored.
    An order needs its lines: pass them as values["items"] (see save_order)."""
    ent = entity(ent)
    if ent.name == "orders":
        order = {k: v for k, v in values.items() if k != "items"}
        order_id = save_order(order, list(values.get("items") or []), user)
        return get_row(ent, order_id) or {}
    signed_in_name(user)
    cleaned = validate(ent, values)
    columns = [ent.key, *cleaned]
    statement = sql.SQL(
        "insert into raw.{table} ({columns}) "
        "values ('app-' || nextval({seq}), {values}) "
        "returning *"
    ).format(
        table=sql.Identifier(ent.table),
        columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        seq=sql.Literal(f"raw.{ent.table}_app_id_seq"),
        values=sql.SQL(", ").join(sql.Placeholder(k) for k in cleaned),
    )
    with writing(user, ent, cleaned) as conn, conn.cursor(row_factory=dict_row) as cur:
        _check_email_free(conn, ent, cleaned)
        return cur.execute(statement, cleaned).fetchone()


def _check_email_free(
    conn: psycopg.Connection, ent: Entity, values: Mapping[str, Any], key: Any = None
) -> None:
    """The warehouse lower-cases emails and keeps them unique: refuse an address
    that differs from another customer's only in case (the raw unique constraint
    compares them as typed)."""
    if ent.name != "customers" or not values.get("email"):
        return
    taken = conn.execute(
        "select 1 from raw.customers"
        " where lower(email) = lower(%s) and customer_id is distinct from %s limit 1",
        [values["email"], key],
    ).fetchone()
    if taken:
        raise ValidationError({"email": "Email: already used by another customer"})


def update_row(
    ent: str | Entity,
    key: Any,
    values: Mapping[str, Any],
    expected_updated_at: Any,
    user: Any,
) -> dict[str, Any]:
    """Change a row if it is still the version the user saw; returns the row as
    stored. Only the fields given change; nothing changed writes nothing."""
    ent = entity(ent)
    key = parse_key(key)
    if ent.name == "orders":
        order, items = get_order(key)
        if order is None:
            raise Conflict(None, ent)
        if "items" in values:
            items = list(values["items"])
        merged = {**order, **{k: v for k, v in values.items() if k != "items"}}
        save_order(merged, items, user, expected_updated_at)
        return get_row(ent, key) or {}
    signed_in_name(user)
    with writing(user, ent, values) as conn:
        current = select_row(conn, ent, key, lock=True)
        check_version(ent, current, expected_updated_at)
        cleaned = validate(ent, values, current)
        changes = {
            k: v for k, v in cleaned.items() if not same_value(v, current.get(k))
        }
        if not changes:
            return current
        _check_email_free(conn, ent, changes, key)
        statement = sql.SQL(
            "update raw.{table} set {assignments} "
            "where {key} = %(key)s and updated_at = %(expected)s returning *"
        ).format(
            table=sql.Identifier(ent.table),
            assignments=sql.SQL(", ").join(
                sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k))
                for k in changes
            ),
            key=sql.Identifier(ent.key),
        )
        params = changes | {"key": key, "expected": current["updated_at"]}
        with conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(statement, params).fetchone()
        if row is None:
            raise Conflict(select_row(conn, ent, key), ent)
        return row


def usage(ent: str | Entity, key: Any) -> dict[str, int]:
    """How many rows refer to this one, by kind ('orders', 'customers', ...)."""
    ent = entity(ent)
    with reading() as conn:
        return _usage(conn, ent, parse_key(key))


def _usage(conn: psycopg.Connection, ent: Entity, key: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table, column, noun in REFERENCES.get(ent.name, ()):
        statement = sql.SQL("select count(*) from raw.{} where {} = %s").format(
            sql.Identifier(table), sql.Identifier(column)
        )
        counts[noun] = conn.execute(statement, [key]).fetchone()[0]
    return counts


def _is_used(conn: psycopg.Connection, ent: Entity, key: str) -> bool:
    """Whether any row refers to this one (stops at the first)."""
    for table, column, _noun in REFERENCES.get(ent.name, ()):
        statement = sql.SQL("select exists (select from raw.{} where {} = %s)").format(
            sql.Identifier(table), sql.Identifier(column)
        )
        if conn.execute(statement, [key]).fetchone()[0]:
            return True
    return False


def _describe_usage(counts: Mapping[str, int]) -> str:
    """Counts as words: '3 orders and 1 customer'."""
    used = [f"{n:,} {noun if n != 1 else noun[:-1]}" for noun, n in counts.items() if n]
    if len(used) > 1:
        return ", ".join(used[:-1]) + " and " + used[-1]
    return used[0] if used else "nothing"


def _keep_for_history(
    conn: psycopg.Connection, ent: Entity, key: str, current: dict[str, Any]
) -> DeleteOutcome | None:
    """A customer with orders or a product on orders is deactivated instead of
    deleted; None when nothing refers to it (it may be deleted)."""
    used = (
        _usage(conn, ent, key)
        if ent.name == "customers"
        else ({"order lines": 1} if _is_used(conn, ent, key) else {})
    )
    if not any(used.values()):
        return None
    why = (
        f"has {_describe_usage(used)}"
        if ent.name == "customers"
        else "appears on orders"
    )
    if not current["is_active"]:
        return DeleteOutcome(
            "unchanged",
            f"This {ent.singular} {why}, so it is kept for their history; "
            "it was already deactivated.",
            current,
        )
    statement = sql.SQL(
        "update raw.{} set is_active = false "
        "where {} = %s and updated_at = %s returning *"
    ).format(sql.Identifier(ent.table), sql.Identifier(ent.key))
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(statement, [key, current["updated_at"]]).fetchone()
    return DeleteOutcome(
        "deactivated",
        f"This {ent.singular} {why}, so it was deactivated instead of "
        "deleted: the orders keep their history, and it no longer "
        "appears among the choices for new orders.",
        row,
    )


def delete_row(
    ent: str | Entity, key: Any, expected_updated_at: Any, user: Any
) -> DeleteOutcome:
    """Delete without losing history: orders are soft-deleted; customers and
    products on orders are deactivated; regions, channels and promotions still
    used are refused (`Refused`, saying what uses them)."""
    ent = entity(ent)
    key = parse_key(key)
    signed_in_name(user)
    if ent.name == "orders":
        return set_order_deleted(key, expected_updated_at, user, deleted=True)
    with writing(user, ent) as conn:
        # The lock also holds off new rows referring to this one until we commit.
        current = select_row(conn, ent, key, lock=True)
        check_version(ent, current, expected_updated_at)
        if ent.name in ("customers", "products"):
            kept = _keep_for_history(conn, ent, key, current)
            if kept is not None:
                return kept
        elif _is_used(conn, ent, key):
            counts = _usage(conn, ent, key)
            raise Refused(
                f"This {ent.singular} cannot be deleted: it is used by "
                f"{_describe_usage(counts)}."
            )
        statement = sql.SQL(
            "delete from raw.{} where {} = %s and updated_at = %s returning *"
        ).format(sql.Identifier(ent.table), sql.Identifier(ent.key))
        with conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(statement, [key, current["updated_at"]]).fetchone()
        if row is None:
            raise Conflict(select_row(conn, ent, key), ent)
        return DeleteOutcome("deleted", f"The {ent.singular} was deleted.", row)
