"""The raw tables and the app's schema (accounts, audit trail, refresh runs): the
DDL in `core/sql/`, applied in file order."""

from __future__ import annotations

from pathlib import Path

import psycopg

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
    if exists and not may_create:
        return
    with conn.transaction():
        # Serialise concurrent first runs: DDL on the same objects would deadlock.
        conn.execute("select pg_advisory_xact_lock(hashtext('ecom.raw_schema'))")
        for path in sorted(SQL_DIR.glob("*.sql")):
            conn.execute(path.read_text(encoding="utf-8"))
