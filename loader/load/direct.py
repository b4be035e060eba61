"""The direct path: a file's bytes straight into `COPY raw.<table>`, taken
whenever the whole file is valid (as fast as `psql \\copy`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
from psycopg import sql

from loader.load.catalog import TableSpec
from loader.load.files import COPY_CHUNK_BYTES, SourceFile, open_records
from loader.load.new_rows import check_new_rows
from loader.load.raw_table import (
    _drop_secondary_indexes,
    _is_empty,
    _may_skip_triggers,
)
from loader.load.sql_parts import COPY_CSV_OPTIONS
from loader.load.totals import MoneyTotals


def _stream(
    source: SourceFile, on_bytes: Callable[[int], None] | None
) -> Iterator[bytes]:
    """The file's records in chunks; fails at the end if they are not the
    bytes the batch records (see open_records)."""
    with open_records(source) as f:
        while chunk := f.read(COPY_CHUNK_BYTES):
            if on_bytes:
                on_bytes(len(chunk))
            yield chunk


def _copy_direct(
    cur: psycopg.Cursor,
    spec: TableSpec,
    source: SourceFile,
    batch_id: int,
    on_bytes: Callable[[int], None] | None,
    wait_for_parents: Callable[[], None],
) -> tuple[int, MoneyTotals]:
    """COPY the file's bytes straight into the typed table; return the rows
    copied and the file's money totals.

    Foreign keys are checked per row by triggers that lock each parent row, which
    halves COPY speed. When the role may, the triggers are skipped for this
    transaction (session_replication_role = replica) and the foreign keys of the
    new rows are checked set-based instead, in the one pass over them that also
    sums their money (see new_rows).
    """
    checks_fks = spec.foreign_keys and _may_skip_triggers(cur)
    if checks_fks:
        cur.execute("set local session_replication_role = replica")
    else:
        wait_for_parents()  # the triggers check each row against its parent
    statement = sql.SQL("copy raw.{} ({}) from stdin with ({})").format(
        sql.Identifier(source.table),
        sql.SQL(", ").join(map(sql.Identifier, source.columns)),
        COPY_CSV_OPTIONS,
    )
    empty = _is_empty(cur, spec.name)
    rebuild = _drop_secondary_indexes(cur, spec) if empty else []
    newlines = 0
    has_quotes = False
    last = b"\n"
    with cur.copy(statement) as copy:
        for chunk in _stream(source, on_bytes):
            newlines += chunk.count(b"\n")
            has_quotes = has_quotes or b'"' in chunk
            last = chunk[-1:]
            copy.write(chunk)
    copied = cur.rowcount
    lines = newlines + (0 if last == b"\n" else 1)
    if not has_quotes and copied != lines:
        # Blank lines or similar: let the sifted path account for every line.
        raise _DirectCopyFailed(f"{copied} rows copied for {lines} lines")
    for definition in rebuild:
        cur.execute(definition)
    if checks_fks:
        cur.execute("set local session_replication_role = origin")
        wait_for_parents()  # parent rows of this run must be committed
    money = check_new_rows(
        cur,
        spec,
        source.columns,
        batch_id,
        spec.foreign_keys if checks_fks else [],
        first_load=empty,
    )
    return copied, money


class _DirectCopyFailed(Exception):
    """The direct path can't take this file; the sifted path will."""
