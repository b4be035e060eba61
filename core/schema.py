"""The raw tables and the app's schema (accounts, audit trail, refresh runs): the
DDL in `core/sql/`, applied in file order.

`{{ name }}` in the DDL stands for the quoted values of the enumeration `name`
(core.enums), so the CHECK constraints and the seeds cannot drift apart."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

from core import enums
from core.errors import EcomError

SQL_DIR = Path(__file__).with_name("sql")


def apply_schema(conn: psycopg.Connection) -> None:
    """Create the raw schema and tables (idempotent: create ... if not exists).

    A login that may not create objects in the database (the loader's own role,
    ecom_loader) finds the schema made by its owner (`ecom db init`) and leaves
    it as it is.
    """
    may_create, exists = conn.execute(
        "select has_database_privilege(current_database(), 'CREATE'),"
        " to_regclass('raw.order_items') is not null"
        " and to_regnamespace('app') is not null"
    ).fetchone()
    if exists:
        _refuse_integer_ids(conn)
    if exists and not may_create:
        return
    with conn.transaction():
        # Serialise concurrent first runs: DDL on the same objects would deadlock.
        conn.execute("select pg_advisory_xact_lock(hashtext('ecom.raw_schema'))")
        for path in sorted(SQL_DIR.glob("*.sql")):
            conn.execute(render_ddl(conn, path.read_text(encoding="utf-8")))


def _refuse_integer_ids(conn: psycopg.Connection) -> None:
    """Raw tables made before ids became text (integer ids) can't take the
    source's own ids: say so in one line instead of failing half-way."""
    old = conn.execute(
        "select format_type(atttypid, atttypmod) from pg_attribute"
        " where attrelid = 'raw.orders'::regclass and attname = 'order_id'"
        " and atttypid <> 'varchar'::regtype"
    ).fetchone()
    if old:
        raise EcomError(
            f"the raw tables of this database have {old[0]} ids (made by an "
            "earlier version); ids are text now: load your files into a new "
            "database, or drop the schema raw (`drop schema raw cascade`) and "
            "load them again"
        )


def render_ddl(conn: psycopg.Connection, text: str) -> str:
    """The DDL with every `{{ seed }}` replaced by that enumeration's values."""
    for seed in enums.ENUM_SEEDS:
        quoted = sql.SQL(", ").join(sql.Literal(v) for v in enums.values(seed))
        text = text.replace("{{ " + seed + " }}", quoted.as_string(conn))
    return text
