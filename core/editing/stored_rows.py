"""One stored row inside an operation: its key checked, the row read (locked for
a write), its version compared with the one the form saw (optimistic
concurrency), and what a delete did with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from core.editing.errors import Conflict, ValidationError
from core.editing.fields import Entity
from core.editing.validation import clean_id
from core.editing.values import as_utc


def select_row(
    conn: psycopg.Connection, ent: Entity, key: Any, lock: bool = False
) -> dict[str, Any] | None:
    """The row as stored (every column), or None; `lock` holds it until commit."""
    statement = sql.SQL("select * from raw.{} where {} = %s{}").format(
        sql.Identifier(ent.table),
        sql.Identifier(ent.key),
        sql.SQL(" for update" if lock else ""),
    )
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(statement, [key]).fetchone()


def parse_key(value: Any) -> str:
    """A row id as stored (text, see clean_id); an id no row can have is
    refused with a one-line message (`ValidationError`), never looked up."""
    key, problem = clean_id(value)
    if key is None:
        raise ValidationError({"id": f"Id: {problem or 'required'}"})
    return key


def parse_number(value: Any, label: str = "Id") -> int:
    """A whole-number id (audit entries, refresh runs) as an int."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationError({"id": f"{label}: must be a whole number"})
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise ValidationError({"id": f"{label}: must be a whole number"})
    return int(text)


def check_version(
    ent: Entity, current: dict[str, Any] | None, expected_updated_at: Any
) -> None:
    """`Conflict` unless the row is still the version the form was opened on."""
    expected = as_utc(expected_updated_at)
    if expected is None:
        raise ValueError("expected_updated_at: the updated_at seen when opening")
    if current is None or as_utc(current["updated_at"]) != expected:
        raise Conflict(current, ent)


@dataclass(frozen=True)
class DeleteOutcome:
    """What a delete did: 'deleted', 'deactivated' (kept for its history),
    'soft_deleted' / 'restored' (orders), or 'unchanged'."""

    action: str
    message: str
    row: dict[str, Any] | None = None
