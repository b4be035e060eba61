"""Landing a sifted file in the transaction's temporary tables: `typed` (one row
per record, its typed values or its problem), `landing` (records as text) and
`field_problems` (values that don't parse)."""

from __future__ import annotations

from array import array
from collections.abc import Callable

import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from loader.load.catalog import Column, TableSpec
from loader.load.checks import _field_checks, _missing_check
from loader.load.files import SourceFile
from loader.load.prescan import _landing_rows
from loader.load.sql_parts import COPY_CSV_OPTIONS, _quoted_list


def _land_text(
    cur: psycopg.Cursor,
    spec: TableSpec,
    source: SourceFile,
    on_bytes: Callable[[int], None] | None,
) -> int:
    """Every record as text into `landing`, then `typed` from it in one pass;
    return the number of records."""
    cols = source.columns
    # A writer thread sends the data, so the Python pre-scan overlaps the server.
    copy_landing = sql.SQL("copy landing from stdin with ({})").format(COPY_CSV_OPTIONS)
    with cur.copy(copy_landing, writer=QueuedLibpqWriter(cur)) as copy:
        for chunk in _landing_rows(source, on_bytes):
            copy.write(chunk)
    rows_read = cur.rowcount
    # An empty field in a column with a default takes the default.
    typed_cols = [
        sql.SQL(
            "case when problem is null then coalesce({c}::{t}, {d}) end {k} as {c}"
        ).format(
            c=sql.Identifier(c.name),
            t=sql.SQL(c.sql_type),
            d=sql.SQL(c.default_sql or "null"),
            k=_collate(c),
        )
        if c.name in cols
        else sql.SQL("null::{t} {k} as {c}").format(
            c=sql.Identifier(c.name), t=sql.SQL(c.sql_type), k=_collate(c)
        )
        for c in spec.columns
    ]
    cur.execute(
        sql.SQL(
            """
            create temp table typed as
            select _line, problem, _record, {typed_cols}
            from (
                select landing.*,
                    coalesce(_reason, nullif(concat_ws('; ', {checks}), '')) as problem
                from landing
                offset 0  -- a fence: compute problem once, not once per column
            ) l
            """
        ).format(
            typed_cols=sql.SQL(", ").join(typed_cols),
            checks=sql.SQL(", ").join(_field_checks(spec, cols)),
        )
    )
    return rows_read


def _land_typed(
    cur: psycopg.Cursor,
    spec: TableSpec,
    source: SourceFile,
    on_bytes: Callable[[int], None] | None,
) -> tuple[int, list[int]]:
    """Every record straight into `typed` by COPY, which parses the values once
    and skips the records whose values don't parse. Return the number of records
    and the lines of the skipped ones (their text is read again later, with the
    other rejects, see _land_records)."""
    cols = source.columns
    required = [c.name for c in spec.columns if c.not_null and c.name in cols]
    cur.execute(
        sql.SQL(
            "create temp table typed (_line bigint, problem text, _record text, {})"
        ).format(
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(
                    sql.Identifier(c.name), sql.SQL(c.declared_type)
                )
                for c in spec.columns
            )
        )
    )
    copy_typed = sql.SQL(
        "copy typed (_line, problem, _record, {}) from stdin with ({}, on_error ignore)"
    ).format(_quoted_list(cols), COPY_CSV_OPTIONS)
    sent = array("q")
    with cur.copy(copy_typed, writer=QueuedLibpqWriter(cur)) as copy:
        for chunk in _landing_rows(source, on_bytes, sent=sent):
            copy.write(chunk)
    copied = cur.rowcount
    skipped: list[int] = []
    if copied < len(sent):
        skipped = _missing_lines(cur, sent)
    _fill_defaults(cur, spec, cols)
    if required:
        cur.execute(
            sql.SQL(
                "update typed set problem = concat_ws('; ', {checks}) "
                "where problem is null and ({any_missing})"
            ).format(
                checks=sql.SQL(", ").join(_missing_check(c) for c in required),
                any_missing=sql.SQL(" or ").join(
                    sql.SQL("{} is null").format(sql.Identifier(c)) for c in required
                ),
            )
        )
    return len(sent), skipped


def _collate(column: Column) -> sql.Composable:
    """The column's own collation for a value typed from text (ids: "C")."""
    if column.collation:
        return sql.SQL("collate {}").format(sql.SQL(column.collation))
    return sql.SQL("")


def _fill_defaults(cur: psycopg.Cursor, spec: TableSpec, cols: list[str]) -> None:
    """An empty field in a column with a default (a status, an amount, a flag)
    takes the default, as if the column were left out of the file."""
    defaults = [c for c in spec.columns if c.name in cols and c.default_sql]
    for c in defaults:
        cur.execute(
            sql.SQL("update typed set {c} = {d} where {c} is null").format(
                c=sql.Identifier(c.name), d=sql.SQL(c.default_sql)
            )
        )


def _missing_lines(cur: psycopg.Cursor, sent: array) -> list[int]:
    """The lines sent to `typed` that COPY skipped. The sent lines go to the
    server as runs of consecutive numbers (a handful: lines are sent in order,
    and only blank lines and the continuation lines of a record are not)."""
    import numpy as np  # only a sifted file needs it: clean loads start faster

    lines = np.sort(np.frombuffer(sent, dtype=np.int64))
    breaks = np.flatnonzero(np.diff(lines) != 1)
    starts = np.concatenate((lines[:1], lines[breaks + 1]))
    ends = np.concatenate((lines[breaks], lines[-1:]))
    return [
        line
        for (line,) in cur.execute(
            """
            select sent._line
            from unnest(%s::bigint[], %s::bigint[]) as runs (first, last),
                generate_series(runs.first, runs.last) as sent (_line)
            where not exists (select from typed where typed._line = sent._line)
            order by 1
            """,
            [starts.tolist(), ends.tolist()],
        )
    ]


def _land_records(
    cur: psycopg.Cursor,
    spec: TableSpec,
    source: SourceFile,
    lines: list[int],
    skipped: list[int],
) -> None:
    """The text of the records on `lines` (sorted) into `landing`, read again from
    the file; the problems of the `skipped` ones into `field_problems`."""
    if not lines:
        return
    copy_landing = sql.SQL("copy landing from stdin with ({})").format(COPY_CSV_OPTIONS)
    with cur.copy(copy_landing) as copy:
        for chunk in _landing_rows(source, None, only=lines):
            copy.write(chunk)
    if skipped:
        cur.execute(
            sql.SQL(
                """
                insert into field_problems
                select _line, coalesce(
                    _reason,
                    nullif(concat_ws('; ', {checks}), ''),
                    'a value does not parse as its column''s type'
                )
                from landing
                where _line = any(%s)
                """
            ).format(checks=sql.SQL(", ").join(_field_checks(spec, source.columns))),
            [skipped],
        )
