"""Bulk-writing helpers on a raw table, shared by the direct COPY and the upsert
of the sifted path: is it empty, drop its plain indexes, may its triggers be
skipped."""

from __future__ import annotations

import psycopg
from psycopg import sql

from loader.load.catalog import TableSpec


def _is_empty(cur: psycopg.Cursor, table: str) -> bool:
    return cur.execute(
        sql.SQL("select not exists (select 1 from {})").format(
            sql.Identifier("raw", table)
        )
    ).fetchone()[0]


def _drop_secondary_indexes(cur: psycopg.Cursor, spec: TableSpec) -> list[str]:
    """Drop plain indexes (not keys) before a first load; return their definitions.

    Building an index once after the COPY is about three times cheaper than
    updating it row by row. It all happens in the file's transaction, so a
    rollback brings the indexes back.
    """
    indexes = cur.execute(
        """
        select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        from pg_index i
        join pg_class t on t.oid = i.indrelid
        where i.indrelid = %s::regclass
          and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)
          and pg_has_role(t.relowner, 'USAGE')  -- only the owner may drop them
        """,
        [f"raw.{spec.name}"],
    ).fetchall()
    for name, _ in indexes:
        cur.execute(sql.SQL("drop index {}").format(sql.SQL(name)))
    return [definition for _, definition in indexes]


def _may_skip_triggers(cur: psycopg.Cursor) -> bool:
    return cur.execute(
        "select has_parameter_privilege('session_replication_role', 'set')"
    ).fetchone()[0]
