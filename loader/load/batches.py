"""Batch bookkeeping in raw.load_batches: open and close a file's batch, the
reconciliation and encoding checks, and whether a file was loaded before."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import MAX_PREC, Decimal, localcontext

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from core.errors import EcomError
from loader.load.catalog import TableSpec
from loader.load.files import SourceFile
from loader.load.totals import MoneyTotals, as_json


@dataclass
class FileResult:
    file: str
    table: str
    method: str  # direct, sifted, skipped
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    seconds: float = 0.0
    batch_id: int | None = None
    money: MoneyTotals = field(default_factory=dict)


def _open_batch(cur: psycopg.Cursor, spec: TableSpec, source: SourceFile) -> int:
    # A bulk load is not an edit: the audit trigger skips this transaction's rows
    # when the role is the loader's (see core/sql/002_app_schema.sql).
    cur.execute("set local ecom.bulk_load = on")
    return cur.execute(
        """
        insert into raw.load_batches (table_name, file_name, file_checksum,
            file_bytes, load_method, started_at, finished_at)
        values (%s, %s, %s, %s, 'direct', clock_timestamp(), clock_timestamp())
        returning batch_id
        """,
        [spec.name, source.path.name, source.checksum, source.size],
    ).fetchone()[0]


def _close_batch(cur: psycopg.Cursor, result: FileResult) -> None:
    """Check that every row is accounted for, then record the counts."""
    if result.rows_read != result.rows_loaded + result.rows_rejected:
        raise EcomError(
            f"{result.file}: rows do not reconcile ({result.rows_read} read, "
            f"{result.rows_loaded} loaded, {result.rows_rejected} rejected); "
            "nothing was written"
        )
    for column, (read, loaded, rejected) in result.money.items():
        if not _adds_up(read, loaded, rejected):
            raise EcomError(
                f"{result.file}: {column} totals do not reconcile ({read} read, "
                f"{loaded} loaded, {rejected} rejected); nothing was written"
            )
    cur.execute(
        """
        update raw.load_batches
        set load_method = %s, rows_read = %s, rows_loaded = %s, rows_rejected = %s,
            money_totals = %s, finished_at = clock_timestamp()
        where batch_id = %s
        """,
        [
            result.method,
            result.rows_read,
            result.rows_loaded,
            result.rows_rejected,
            Jsonb(as_json(result.money)) if result.money else None,
            result.batch_id,
        ],
    )


def _adds_up(read: Decimal, loaded: Decimal, rejected: Decimal) -> bool:
    """read = loaded + rejected, exactly (Python's default decimal context would
    round the sum to 28 digits)."""
    with localcontext() as exact:
        exact.prec = MAX_PREC
        return read == loaded + rejected


def _check_encoding(name: str, result: FileResult, cur: psycopg.Cursor, batch_id: int):
    """A file where most rows are not UTF-8 is in the wrong encoding, not dirty."""
    if result.rows_rejected < 10:
        return
    bad = cur.execute(
        "select count(*) from raw.load_rejects "
        "where batch_id = %s and reason like 'invalid UTF-8%%'",
        [batch_id],
    ).fetchone()[0]
    if bad * 2 > result.rows_read:
        raise EcomError(
            f"{name}: file is not UTF-8 ({bad} of {result.rows_read} rows have invalid "
            "bytes); save it as UTF-8. Nothing was written"
        )


def _already_loaded(conn: psycopg.Connection, table: str, checksum: str) -> bool:
    """Was this file loaded into this table before, and are its rows still there?

    A batch that loaded rows into a table that is empty now (emptied by hand, or
    by a replace that an older version of the loader did not finish) does not
    count: the file is loaded again.
    """
    row = conn.execute(
        sql.SQL(
            "select count(*) > 0 "
            "and (bool_or(rows_loaded = 0) or exists (select 1 from {table})) "
            "from raw.load_batches where table_name = %s and file_checksum = %s"
        ).format(table=sql.Identifier("raw", table)),
        [table, checksum],
    ).fetchone()
    return bool(row[0])


def _parents_missed(
    conn: psycopg.Connection, spec: TableSpec, checksum: str
) -> set[str]:
    """The parent tables of the rows that the latest load of this file rejected
    for a missing parent (their reason names the parent table, see
    checks._parent_checks)."""
    prefixes = {
        f"unknown {', '.join(fk.columns)}: no {fk.ref_table} row with": fk.ref_table
        for fk in spec.foreign_keys
    }
    if not prefixes:
        return set()
    found = conn.execute(
        """
        select array(
            select p from unnest(%s::text[]) p
            where exists (
                select 1 from raw.load_rejects r
                where r.batch_id = (
                    select max(batch_id) from raw.load_batches
                    where table_name = %s and file_checksum = %s
                )
                and strpos(r.reason, p) > 0
            )
        )
        """,
        [list(prefixes), spec.name, checksum],
    ).fetchone()[0]
    return {prefixes[p] for p in found}
