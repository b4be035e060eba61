"""The sifted path: land a file that the direct COPY refused, validate every row
in SQL against the table's own constraints, upsert the valid rows and log the
others in raw.load_rejects with their line number, original record and reason."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from psycopg import sql

from loader.load.catalog import TableSpec
from loader.load.checks import _Checks, _row_checks
from loader.load.files import SourceFile
from loader.load.landing import _land_records, _land_text, _land_typed
from loader.load.raw_table import _is_empty, _may_skip_triggers
from loader.load.sql_parts import _same_key
from loader.load.totals import MoneyTotals, sifted_totals
from loader.load.upsert import _upsert


def _sift(
    cur: psycopg.Cursor,
    spec: TableSpec,
    source: SourceFile,
    batch_id: int,
    on_bytes: Callable[[int], None] | None,
    wait_for_parents: Callable[[], None],
) -> tuple[int, int, int, MoneyTotals]:
    """Land, validate and upsert a file; return (read, loaded, rejected, money
    totals).

    Temporary tables of the transaction: `typed` (one row per record with its
    typed values, or its problem), `landing` (records as text: every record, or
    on PostgreSQL 17+ only the rejected ones), `field_problems` (values that do
    not parse, when not already in `typed`) and `row_problems` (checks of the
    rows that parsed).
    """
    cols = source.columns
    _create_work_tables(cur, cols)

    # 1. the typed values of every record, or its problem (wrong shape, missing
    # required values, values that don't parse as the column's type).
    typed_copy = _copy_skips_bad_values(cur)
    if typed_copy:
        rows_read, skipped = _land_typed(cur, spec, source, on_bytes)
    else:
        rows_read, skipped = _land_text(cur, spec, source, on_bytes), []
    # Temporary tables get no statistics of their own: without them the planner
    # guesses few rows (wide text ids make the guess smaller) and re-runs the
    # duplicate-key aggregates once per row in nested loops.
    cur.execute("analyze typed")

    # 2. row problems of the rows that parsed (a small table: only the bad ones):
    # the checks of the file and its own table first, while the parents may
    # still be loading, then the foreign keys.
    constraint_checks, own, parents = _row_checks(spec, cols)
    _find_own_problems(cur, constraint_checks, own)
    valid = sql.SQL(
        "x.problem is null and not exists "
        "(select 1 from row_problems p where p._line = x._line)"
    )
    # Into an empty table the rows go in before the parents are committed (the
    # other connection may still be loading them), and the few whose parent
    # turns out to be missing are taken out again, in the same transaction.
    # That needs the foreign-key triggers off (see _upsert).
    early = (
        bool(parents.problems) and _is_empty(cur, spec.name) and _may_skip_triggers(cur)
    )
    if early:
        _upsert(cur, spec, cols, valid)
    wait_for_parents()  # foreign keys are checked against committed parents
    if parents.problems:
        _find_parent_problems(cur, parents)
        if early:
            _delete_inserted(cur, spec, valid)
        _merge_parent_problems(cur)
    if typed_copy:
        # the original text of the records rejected without it: read again
        row_lines = [r[0] for r in cur.execute("select _line from row_problems")]
        _land_records(cur, spec, source, sorted({*skipped, *row_lines}), skipped)
    rows_loaded = cur.execute(
        sql.SQL("select count(*) from typed x where {}").format(valid)
    ).fetchone()[0]
    money = sifted_totals(cur, spec, cols)

    # 3. upsert the valid rows.
    if not early:
        _upsert(cur, spec, cols, valid)

    # 4. log the rejects with their original record.
    rows_rejected = _log_rejects(cur, spec, source, batch_id)
    cur.execute(
        "drop table if exists landing, typed, row_problems, field_problems,"
        " parent_problems"
    )
    return rows_read, rows_loaded, rows_rejected, money


def _create_work_tables(cur: psycopg.Cursor, cols: list[str]) -> None:
    """A fresh `landing` (the file's columns as text) and `field_problems`."""
    cur.execute(
        "drop table if exists pg_temp.landing, pg_temp.typed, pg_temp.row_problems,"
        " pg_temp.field_problems, pg_temp.parent_problems"
    )
    cur.execute(
        sql.SQL(
            "create temp table landing (_line bigint, _reason text, _record text, {})"
        ).format(
            sql.SQL(", ").join(
                sql.SQL("{} text").format(sql.Identifier(c)) for c in cols
            )
        )
    )
    cur.execute("create temp table field_problems (_line bigint, problem text)")


def _find_own_problems(
    cur: psycopg.Cursor, constraint_checks: list[sql.Composable], own: _Checks
) -> None:
    """`row_problems`: the rows of `typed` that fail a CHECK constraint or a key
    check of the file and its own table."""
    # CHECK expressions name bare columns: evaluate them before the joins.
    cur.execute(
        sql.SQL(
            """
            create temp table row_problems as
            select _line, problem from (
                select t._line, nullif(concat_ws('; ', {checks}), '') as problem
                from (
                    select typed.*,
                        nullif(concat_ws('; ', {constraint_checks}), '') as _checks
                        {key_values}
                    from typed
                    where problem is null
                ) t
                {joins}
            ) p
            where problem is not null
            """
        ).format(
            checks=sql.SQL(", ").join(own.problems),
            constraint_checks=sql.SQL(", ").join(constraint_checks),
            key_values=sql.SQL("").join(sql.SQL(", {}").format(c) for c in own.columns),
            joins=sql.SQL(" ").join(own.joins),
        )
    )


def _find_parent_problems(cur: psycopg.Cursor, parents: _Checks) -> None:
    """`parent_problems`: the rows of `typed` whose parent row is missing."""
    cur.execute(
        sql.SQL(
            """
            create temp table parent_problems as
            select _line, problem from (
                select t._line, nullif(concat_ws('; ', {checks}), '') as problem
                from typed t
                {joins}
                where t.problem is null
            ) p
            where problem is not null
            """
        ).format(
            checks=sql.SQL(", ").join(parents.problems),
            joins=sql.SQL(" ").join(parents.joins),
        )
    )


def _merge_parent_problems(cur: psycopg.Cursor) -> None:
    """`parent_problems` into `row_problems`: one row per line, with every reason
    (a row may break a CHECK and miss its parent; it is one rejected row)."""
    cur.execute(
        """
        update row_problems r set problem = r.problem || '; ' || p.problem
        from parent_problems p where p._line = r._line
        """
    )
    cur.execute(
        """
        insert into row_problems
        select p._line, p.problem from parent_problems p
        where not exists (select 1 from row_problems r where r._line = p._line)
        """
    )


def _log_rejects(
    cur: psycopg.Cursor, spec: TableSpec, source: SourceFile, batch_id: int
) -> int:
    """Every rejected row into raw.load_rejects with its original record and
    reason; return how many."""
    cur.execute(
        sql.SQL(
            """
            insert into raw.load_rejects
                (batch_id, table_name, file_name, line_number, record, reason)
            select %s, %s, %s, r._line, coalesce(r._record, l._record, {record}),
                r.problem
            from (
                select _line, problem, _record from typed where problem is not null
                union all
                select _line, problem, null from field_problems
                union all
                select _line, problem, null from row_problems
            ) r
            left join landing l on l._line = r._line
            order by r._line
            """
        ).format(record=_record_expression(source.columns, "l")),
        [batch_id, spec.name, source.path.name],
    )
    return cur.rowcount


def _record_expression(columns: list[str], alias: str) -> sql.Composable:
    """Rebuild a CSV record from landing fields (for the reject log)."""
    parts = [
        sql.SQL(
            "case when {c} is null then '' when {c} ~ '[\",\\r\\n]' "
            "then '\"' || replace({c}, '\"', '\"\"') || '\"' else {c} end"
        ).format(c=sql.Identifier(alias, c))
        for c in columns
    ]
    return sql.SQL("concat_ws(',', {})").format(sql.SQL(", ").join(parts))


def _delete_inserted(cur: psycopg.Cursor, spec: TableSpec, valid: sql.Composable):
    """Take out the rows inserted early whose parent is missing (the lines of
    `parent_problems` that were valid when inserted). Nothing committed can
    reference rows of this transaction, so the foreign-key triggers stay off, as
    for the insert."""
    cur.execute("set local session_replication_role = replica")
    cur.execute(
        sql.SQL(
            "delete from {table} t using typed x where {same_key} "
            "and x._line in (select _line from parent_problems) and {valid}"
        ).format(
            table=sql.Identifier("raw", spec.name),
            same_key=_same_key(spec.primary_key),
            valid=valid,
        )
    )
    cur.execute("set local session_replication_role = origin")


def _copy_skips_bad_values(cur: psycopg.Cursor) -> bool:
    """Whether COPY can skip the rows whose values don't parse (`on_error
    ignore`, PostgreSQL 17 and later)."""
    return cur.connection.info.server_version >= 170000
