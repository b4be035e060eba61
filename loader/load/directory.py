"""Load a directory of CSV files (the data contract) into the typed `raw` tables.

Each file is loaded in its own transaction, so a file is either fully loaded (good
rows in the table, bad rows in raw.load_rejects, one raw.load_batches row) or not at
all, even if the process is killed half-way.

Two paths:
- direct: stream the file's bytes into `COPY raw.<table>` inside a savepoint. This is
  as fast as `psql \\copy` and is taken whenever the whole file is valid.
- sifted: when the direct COPY fails (bad row, existing keys to update), roll back to
  the savepoint, stream the file into a text landing table (a light Python pass sets
  aside records with the wrong field count or bad encoding), then validate every row
  in SQL against the table's own constraints, read from the catalog: types, NOT NULL,
  CHECKs, foreign keys and unique keys. Valid rows are upserted, the others go to
  raw.load_rejects with their line number, original record and reason.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
import threading
import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from core.db import connect
from core.errors import EcomError
from core.schema import apply_schema

# Dependency order: parents before children.
TABLES = (
    "regions",
    "channels",
    "customers",
    "products",
    "promotions",
    "orders",
    "order_items",
)
COPY_CHUNK_BYTES = 1 << 20
HEADER_SAMPLE_BYTES = 64 << 10

ProgressCallback = Callable[[str, int, int], None]


@dataclass
class Column:
    name: str
    sql_type: str
    not_null: bool
    has_default: bool


@dataclass
class ForeignKey:
    name: str
    columns: list[str]
    ref_table: str
    ref_columns: list[str]


@dataclass
class TableSpec:
    """A raw table as the catalog describes it: the source of every validation."""

    name: str
    columns: list[Column]
    primary_key: list[str]
    unique_keys: list[list[str]] = field(default_factory=list)
    checks: list[tuple[str, str]] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.not_null and not c.has_default]


def read_table_spec(conn: psycopg.Connection, table: str) -> TableSpec:
    columns = [
        Column(*row)
        for row in conn.execute(
            """
            select a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   a.atthasdef
            from pg_attribute a
            where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped
            order by a.attnum
            """,
            [f"raw.{table}"],
        )
    ]
    spec = TableSpec(name=table, columns=columns, primary_key=[])
    constraints = conn.execute(
        """
        select c.conname, c.contype, pg_get_constraintdef(c.oid),
               array(select a.attname from unnest(c.conkey) with ordinality k(n, i)
                     join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n
                     order by k.i),
               c.confrelid::regclass::text,
               array(select a.attname from unnest(c.confkey) with ordinality k(n, i)
                     join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n
                     order by k.i)
        from pg_constraint c
        where c.conrelid = %s::regclass
        order by c.conname
        """,
        [f"raw.{table}"],
    ).fetchall()
    for name, kind, definition, cols, ref_table, ref_cols in constraints:
        if kind == "p":
            spec.primary_key = list(cols)
        elif kind == "u":
            spec.unique_keys.append(list(cols))
        elif kind == "c":
            spec.checks.append((name, definition.removeprefix("CHECK ")))
        elif kind == "f":
            ref = ref_table.split(".")[-1]
            spec.foreign_keys.append(ForeignKey(name, list(cols), ref, list(ref_cols)))
    return spec


# ------------------------------------------------------------------------ discovery


@dataclass
class SourceFile:
    table: str
    path: Path
    columns: list[str]  # header order
    header_bytes: int  # offset of the first data byte


def discover(data_dir: Path) -> list[Path]:
    """The CSV files of a directory, checked for names, in load order."""
    if not data_dir.is_dir():
        raise EcomError(f"{data_dir}: no such directory")
    found: dict[str, list[Path]] = {t: [] for t in TABLES}
    for path in sorted(data_dir.glob("*.csv")):
        table = path.stem.split("__", 1)[0]
        if table not in found:
            raise EcomError(
                f"{path.name}: unknown table '{table}' "
                f"(expected <table>.csv or <table>__<batch>.csv, table one of "
                f"{', '.join(TABLES)})"
            )
        found[table].append(path)
    ordered = []
    for table in TABLES:
        # the base file first, then extra batches in name order
        ordered += sorted(found[table], key=lambda p: (p.stem != table, p.name))
    if not ordered:
        raise EcomError(f"{data_dir}: no CSV files found")
    return ordered


def read_header(path: Path, spec: TableSpec) -> SourceFile:
    """Check a file's header against its table; one-line errors on any problem."""
    with path.open("rb") as f:
        sample = f.read(HEADER_SAMPLE_BYTES)
    name = path.name
    if not sample:
        raise EcomError(f"{name}: file is empty (expected a header row)")
    if (
        sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        or b"\x00" in (sample[:200])
    ):
        raise EcomError(
            f"{name}: file is not UTF-8 (looks like UTF-16); save it as UTF-8"
        )
    bom = len(codecs.BOM_UTF8) if sample.startswith(codecs.BOM_UTF8) else 0
    end = sample.find(b"\n")
    if end < 0 and len(sample) == HEADER_SAMPLE_BYTES:
        raise EcomError(f"{name}: header row is longer than 64 KiB")
    raw_header = sample[bom : end if end >= 0 else len(sample)]
    try:
        header_text = raw_header.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        raise EcomError(f"{name}: header row is not valid UTF-8") from None
    columns = [c.strip().lower() for c in next(csv.reader([header_text]))]
    if len(columns) == 1 and spec.column_names and len(spec.column_names) > 1:
        for delimiter in (";", "\t", "|"):
            if delimiter in header_text:
                shown = "tab" if delimiter == "\t" else f"'{delimiter}'"
                raise EcomError(
                    f"{name}: wrong delimiter {shown} in the header (expected ',')"
                )
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise EcomError(
            f"{name}: duplicate column(s) in header: {', '.join(duplicates)}"
        )
    unknown = [c for c in columns if c not in spec.column_names]
    if unknown:
        raise EcomError(
            f"{name}: unknown column(s) {', '.join(unknown)} for table {spec.name}"
        )
    missing = [c for c in spec.required if c not in columns]
    if missing:
        raise EcomError(f"{name}: missing required column(s): {', '.join(missing)}")
    header_bytes = bom + (end + 1 if end >= 0 else len(sample))
    return SourceFile(spec.name, path, columns, header_bytes)


def file_checksum(path: Path) -> str:
    """BLAKE2b-256 of the file: as strong as SHA-256, twice as fast without SHA-NI."""
    with path.open("rb") as f:
        return hashlib.file_digest(
            f, lambda: hashlib.blake2b(digest_size=32)
        ).hexdigest()


# --------------------------------------------------------------------------- result


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


# ---------------------------------------------------------------------- direct path


def _stream(
    path: Path, start: int, on_bytes: Callable[[int], None] | None
) -> Iterator[bytes]:
    with path.open("rb") as f:
        f.seek(start)
        while chunk := f.read(COPY_CHUNK_BYTES):
            if on_bytes:
                on_bytes(len(chunk))
            yield chunk


def _copy_direct(
    cur: psycopg.Cursor,
    spec: TableSpec,
    source: SourceFile,
    on_bytes: Callable[[int], None] | None,
    wait_for_parents: Callable[[], None],
) -> int:
    """COPY the file's bytes straight into the typed table; return rows copied.

    Foreign keys are checked per row by triggers that lock each parent row, which
    halves COPY speed. When the role may, the triggers are skipped for this
    transaction (session_replication_role = replica) and the foreign keys of the
    new rows are checked in one set-based query per key instead.
    """
    checks_fks = spec.foreign_keys and _may_skip_triggers(cur)
    if checks_fks:
        cur.execute("set local session_replication_role = replica")
    else:
        wait_for_parents()  # the triggers check each row against its parent
    statement = sql.SQL("copy raw.{} ({}) from stdin with (format csv)").format(
        sql.Identifier(source.table),
        sql.SQL(", ").join(map(sql.Identifier, source.columns)),
    )
    empty = _is_empty(cur, spec.name)
    rebuild = _drop_secondary_indexes(cur, spec) if empty else []
    newlines = 0
    has_quotes = False
    last = b"\n"
    with cur.copy(statement) as copy:
        for chunk in _stream(source.path, source.header_bytes, on_bytes):
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
        for fk in spec.foreign_keys:
            if _new_rows_missing_parent(cur, spec, fk, first_load=empty):
                raise _DirectCopyFailed(f"{fk.name}: unknown {', '.join(fk.columns)}")
    return copied


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


def _new_rows_missing_parent(
    cur: psycopg.Cursor, spec: TableSpec, fk: ForeignKey, *, first_load: bool
) -> bool:
    """Does a row written by this transaction reference a missing parent?

    On a first load every row is new: no need to pick them out by xmin (and the
    planner, with no statistics yet, would pick a row-by-row plan for that).
    """
    join = sql.SQL(" and ").join(
        sql.SQL("r.{} = t.{}").format(sql.Identifier(rc), sql.Identifier(c))
        for c, rc in zip(fk.columns, fk.ref_columns, strict=True)
    )
    present = sql.SQL(" and ").join(
        sql.SQL("t.{} is not null").format(sql.Identifier(c)) for c in fk.columns
    )
    found = cur.execute(
        sql.SQL(
            "select exists (select 1 from {table} t "
            "where {new_rows} and {present} "
            "and not exists (select 1 from {ref} r where {join}))"
        ).format(
            table=sql.Identifier("raw", spec.name),
            new_rows=sql.SQL(
                "true" if first_load else "t.xmin = pg_current_xact_id()::xid"
            ),
            present=present,
            ref=sql.Identifier("raw", fk.ref_table),
            join=join,
        )
    ).fetchone()[0]
    return bool(found)


class _DirectCopyFailed(Exception):
    """The direct path can't take this file; the sifted path will."""


# ---------------------------------------------------------------------- sifted path


def _csv_field(value: str) -> bytes:
    return ('"' + value.replace('"', '""') + '"').encode("utf-8")


def _landing_rows(
    source: SourceFile,
    on_bytes: Callable[[int], None] | None,
    *,
    sent: array | None = None,
    only: list[int] | None = None,
) -> Iterator[bytes]:
    """CSV lines for the landing table: line number, reason, record, fields.

    Reads blocks of lines. In a block with no NUL byte and no quoted field going
    on to the next line (the usual case), every line is passed on with one list
    comprehension, and only the few lines with quotes, invalid UTF-8 or the wrong
    number of commas are parsed as CSV; other blocks are walked record by record.
    A quoted field may hold newlines, so a record can span lines (and blocks); it
    is numbered by its first line (the header is line 1).

    `sent` collects the line numbers of the rows given out; `only` (sorted line
    numbers) gives out just those records.
    """
    n = len(source.columns)
    commas = n - 1
    empty_fields = b"," * n
    line_no = 1
    pending: list[bytes] = []  # lines of a record whose quotes are still open
    quotes = 0
    first_line = 0
    wanted = set(only) if only is not None else None

    def landing_row(first: int, record: bytes) -> bytes | None:
        if not record.strip():
            return None  # blank line: not a record
        if wanted is not None and first not in wanted:
            return None
        if sent is not None:
            sent.append(first)
        problem = _shape_problem(record, n)
        if problem is None:
            row = b"%d,,,%s" % (first, record)
            return row if row.endswith(b"\n") else row + b"\n"
        shown = record.rstrip(b"\r\n").decode("utf-8", "backslashreplace")
        shown = shown.replace("\x00", "\\x00")
        return b"%d,%s,%s%s\n" % (
            first,
            _csv_field(problem),
            _csv_field(shown),
            empty_fields,
        )

    with source.path.open("rb") as f:
        f.seek(source.header_bytes)
        while lines := f.readlines(COPY_CHUNK_BYTES):
            block = b"".join(lines)
            if on_bytes:
                on_bytes(len(block))
            quoted = _quoted_lines(lines, block)
            if not pending and quoted is not None and b"\x00" not in block:
                # Every quote closes on its line: one line is one record.
                first = line_no + 1
                line_no += len(lines)
                if only is not None:
                    picked = only[
                        bisect_left(only, first) : bisect_right(only, line_no)
                    ]
                    yield b"".join(
                        landing_row(i, lines[i - first]) or b"" for i in picked
                    )
                    continue
                # Take every line as good, then redo the few that are not.
                rows = [b"%d,,,%s" % (i, line) for i, line in enumerate(lines, first)]
                bad = {j for j, line in enumerate(lines) if line.count(b",") != commas}
                bad |= quoted  # its commas may be inside quotes: parsed as CSV
                if not block.isascii():
                    bad |= {
                        j
                        for j, line in enumerate(lines)
                        if not line.isascii() and not _is_utf8(line)
                    }
                if not lines[-1].endswith(b"\n"):
                    bad.add(len(lines) - 1)
                if sent is not None:  # the bad ones are added by landing_row
                    sent.extend(
                        range(first, line_no + 1)
                        if not bad
                        else (
                            i for i in range(first, line_no + 1) if i - first not in bad
                        )
                    )
                for j in bad:
                    rows[j] = landing_row(first + j, lines[j]) or b""
                yield b"".join(rows)
                continue
            out = []
            for line in lines:
                line_no += 1
                if not pending:
                    first_line = line_no
                pending.append(line)
                quotes += line.count(b'"')
                if quotes % 2:  # inside a quoted field: the record goes on
                    continue
                row = landing_row(first_line, b"".join(pending))
                pending, quotes = [], 0
                if row is not None:
                    out.append(row)
            yield b"".join(out)
        if pending:
            row = landing_row(first_line, b"".join(pending))
            if row is not None:
                yield row


def _quoted_lines(lines: list[bytes], block: bytes) -> set[int] | None:
    """Indexes of the lines with quotes, or None when a quoted field goes on to
    the next line (an odd number of quotes on a line)."""
    if b'"' not in block:
        return set()
    quoted = {j for j, line in enumerate(lines) if b'"' in line}
    if any(lines[j].count(b'"') % 2 for j in quoted):
        return None
    return quoted


def _is_utf8(block: bytes) -> bool:
    try:
        block.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _shape_problem(record: bytes, n_columns: int) -> str | None:
    """Why a record can't even be split into fields, or None."""
    if b"\x00" in record:
        return "record contains a NUL byte"
    try:
        text = record.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"invalid UTF-8 (byte 0x{record[exc.start]:02x} at position {exc.start})"
    if b'"' in record:
        try:
            fields = next(csv.reader([text.rstrip("\r\n")], strict=True))
        except (csv.Error, StopIteration):
            return "malformed quoting"
        count = len(fields)
    else:
        count = record.count(b",") + 1
    if count != n_columns:
        return f"wrong number of fields: expected {n_columns}, found {count}"
    return None


def _quoted_list(names: list[str], prefix: str = "") -> sql.Composable:
    return sql.SQL(", ").join(
        sql.Identifier(*([prefix] if prefix else []), n) for n in names
    )


def _readable(expression: str) -> str:
    """`(((quantity)::numeric > (0)::numeric))` -> `quantity > 0`, for reasons."""
    text = re.sub(
        r"::[a-z]+( varying| precision| with time zone)?(\[\])?", "", expression
    )
    text = re.sub(r"\((\w+)\)", r"\1", text)
    while text.startswith("(") and text.endswith(")"):
        inner = text[1:-1]
        depth = 0
        for ch in inner:
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if depth < 0:
                return text
        text = inner
    return text


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


@dataclass
class _Checks:
    """Row checks of a batch in `typed t`: expressions that name a problem (or
    give null) and the left joins they read."""

    problems: list[sql.Composable] = field(default_factory=list)
    joins: list[sql.Composable] = field(default_factory=list)


def _row_checks(
    spec: TableSpec, cols: list[str]
) -> tuple[list[sql.Composable], _Checks, _Checks]:
    """SQL for the row-level checks of a batch in `typed t`, in two groups.

    Returns (CHECK constraints on bare columns, checks of the file and its own
    table, foreign-key checks). The first group (CHECK constraints, keys repeated
    in the file or held by other rows of the table) can run while the parent
    tables are still loading; foreign keys need the parents committed. Parents
    and other holders of a key are found with left joins (hash joins over the
    whole batch), not with a lookup per row.
    """
    table = sql.Identifier("raw", spec.name)
    constraint_checks: list[sql.Composable] = [sql.SQL("null")]
    for name, expression in spec.checks:
        if not any(re.search(rf"\b{re.escape(c)}\b", expression) for c in cols):
            continue
        constraint_checks.append(
            sql.SQL("case when not coalesce({e}, true) then {m} end").format(
                e=sql.SQL(expression),
                m=sql.Literal(f"violates {name}: {_readable(expression)}"),
            )
        )
    own = _Checks(problems=[sql.SQL("t._checks")])
    parents = _Checks()
    for n, fk in enumerate(spec.foreign_keys):
        if not set(fk.columns) <= set(cols):
            continue
        alias = sql.Identifier(f"p{n}")
        parents.joins.append(
            sql.SQL("left join {ref} {a} on {on}").format(
                ref=sql.Identifier("raw", fk.ref_table),
                a=alias,
                on=_same_values(alias, fk.columns, fk.ref_columns),
            )
        )
        label = ", ".join(fk.columns)
        parents.problems.append(
            sql.SQL(
                "case when t.{first} is not null and {a}.{ref_first} is null "
                "then {m} || {value} end"
            ).format(
                first=sql.Identifier(fk.columns[0]),
                a=alias,
                ref_first=sql.Identifier(fk.ref_columns[0]),
                m=sql.Literal(
                    f"unknown {label}: no {fk.ref_table} row with {label} = "
                ),
                value=sql.SQL(" || ',' || ").join(
                    sql.SQL("t.{}::text").format(sql.Identifier(c)) for c in fk.columns
                ),
            )
        )
    keys = [spec.primary_key, *spec.unique_keys]
    for i, key in enumerate(keys):
        if not key or not set(key) <= set(cols):
            continue
        label = ", ".join(key)
        # keys seen more than once in the file (a hash aggregate, no sort)
        alias = sql.Identifier(f"d{i}")
        own.joins.append(
            sql.SQL(
                "left join (select {k}, min(_line) as first_line from typed "
                "where problem is null group by {k} having count(*) > 1) {a} on {on}"
            ).format(k=_quoted_list(key), a=alias, on=_same_values(alias, key, key))
        )
        own.problems.append(
            sql.SQL(
                "case when t._line <> {a}.first_line then {m} || {a}.first_line::text "
                "|| ')' end"
            ).format(
                a=alias, m=sql.Literal(f"duplicate {label} in file (first on line ")
            )
        )
        if i > 0 and spec.primary_key:
            # a unique key held by another row already in the table
            alias = sql.Identifier(f"u{i}")
            own.joins.append(
                sql.SQL("left join {table} {a} on {on}").format(
                    table=table, a=alias, on=_same_values(alias, key, key)
                )
            )
            other_row = sql.SQL(" or ").join(
                sql.SQL("{a}.{c} <> t.{c}").format(a=alias, c=sql.Identifier(c))
                for c in spec.primary_key
            )
            own.problems.append(
                sql.SQL("case when {other} then {m} end").format(
                    other=other_row,
                    m=sql.Literal(f"{label} already used by another {spec.name} row"),
                )
            )
    return constraint_checks, own, parents


def _same_values(
    alias: sql.Identifier, columns: list[str], other_columns: list[str]
) -> sql.Composable:
    """`alias.other = t.column and ...`: a join on a (composite) key."""
    return sql.SQL(" and ").join(
        sql.SQL("{a}.{rc} = t.{c}").format(
            a=alias, rc=sql.Identifier(rc), c=sql.Identifier(c)
        )
        for c, rc in zip(columns, other_columns, strict=True)
    )


def _sift(
    cur: psycopg.Cursor,
    spec: TableSpec,
    source: SourceFile,
    batch_id: int,
    on_bytes: Callable[[int], None] | None,
    wait_for_parents: Callable[[], None],
) -> tuple[int, int, int]:
    """Land, validate and upsert a file; return (read, loaded, rejected).

    Temporary tables of the transaction: `typed` (one row per record with its
    typed values, or its problem), `landing` (records as text: every record, or
    on PostgreSQL 17+ only the rejected ones), `field_problems` (values that do
    not parse, when not already in `typed`) and `row_problems` (checks of the
    rows that parsed).
    """
    cols = source.columns
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

    # 1. the typed values of every record, or its problem (wrong shape, missing
    # required values, values that don't parse as the column's type).
    typed_copy = _copy_skips_bad_values(cur)
    if typed_copy:
        rows_read, skipped = _land_typed(cur, spec, source, on_bytes)
    else:
        rows_read, skipped = _land_text(cur, spec, source, on_bytes), []

    # 2. row problems of the rows that parsed (a small table: only the bad ones):
    # the checks of the file and its own table first, while the parents may
    # still be loading, then the foreign keys.
    constraint_checks, own, parents = _row_checks(spec, cols)
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
            joins=sql.SQL(" ").join(own.joins),
        )
    )
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
        if early:
            _delete_inserted(cur, spec, valid)
        cur.execute("insert into row_problems select * from parent_problems")
    if typed_copy:
        # the original text of the records rejected without it: read again
        row_lines = [r[0] for r in cur.execute("select _line from row_problems")]
        _land_records(cur, spec, source, sorted({*skipped, *row_lines}), skipped)
    rows_loaded = cur.execute(
        sql.SQL("select count(*) from typed x where {}").format(valid)
    ).fetchone()[0]

    # 3. upsert the valid rows.
    if not early:
        _upsert(cur, spec, cols, valid)

    # 4. log the rejects with their original record.
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
        ).format(record=_record_expression(cols, "l")),
        [batch_id, spec.name, source.path.name],
    )
    rows_rejected = cur.rowcount
    cur.execute(
        "drop table if exists landing, typed, row_problems, field_problems,"
        " parent_problems"
    )
    return rows_read, rows_loaded, rows_rejected


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


def _same_key(key: list[str]) -> sql.Composable:
    """`t.k = x.k and ...`: a raw row `t` and a `typed` row `x` with the same key."""
    return sql.SQL(" and ").join(
        sql.SQL("t.{c} = x.{c}").format(c=sql.Identifier(c)) for c in key
    )


def _copy_skips_bad_values(cur: psycopg.Cursor) -> bool:
    """Whether COPY can skip the rows whose values don't parse (`on_error
    ignore`, PostgreSQL 17 and later)."""
    return cur.connection.info.server_version >= 170000


def _field_checks(spec: TableSpec, cols: list[str]) -> list[sql.Composable]:
    """Problems of the text fields of a `landing` row: missing required values,
    values that don't parse as the column's type (the same input functions as
    COPY and casts, asked without raising)."""
    types = {c.name: c.sql_type for c in spec.columns}
    not_null = {c.name for c in spec.columns if c.not_null}
    checks = []
    for c in cols:
        ident = sql.Identifier(c)
        if c in not_null:
            checks.append(_missing_check(c))
        checks.append(
            sql.SQL(
                "case when {c} is not null and not pg_input_is_valid({c}, {t}) "
                "then {label} || (pg_input_error_info({c}, {t})).message end"
            ).format(c=ident, t=sql.Literal(types[c]), label=sql.Literal(f"{c}: "))
        )
    return checks


def _missing_check(column: str) -> sql.Composable:
    return sql.SQL("case when {c} is null then {msg} end").format(
        c=sql.Identifier(column), msg=sql.Literal(f"{column}: missing value (required)")
    )


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
    copy_landing = sql.SQL("copy landing from stdin with (format csv)")
    with cur.copy(copy_landing, writer=QueuedLibpqWriter(cur)) as copy:
        for chunk in _landing_rows(source, on_bytes):
            copy.write(chunk)
    rows_read = cur.rowcount
    typed_cols = [
        sql.SQL("case when problem is null then {c}::{t} end as {c}").format(
            c=sql.Identifier(c.name), t=sql.SQL(c.sql_type)
        )
        if c.name in cols
        else sql.SQL("null::{t} as {c}").format(
            c=sql.Identifier(c.name), t=sql.SQL(c.sql_type)
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
                sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.sql_type))
                for c in spec.columns
            )
        )
    )
    copy_typed = sql.SQL(
        "copy typed (_line, problem, _record, {}) from stdin "
        "with (format csv, on_error ignore)"
    ).format(_quoted_list(cols))
    sent = array("q")
    with cur.copy(copy_typed, writer=QueuedLibpqWriter(cur)) as copy:
        for chunk in _landing_rows(source, on_bytes, sent=sent):
            copy.write(chunk)
    copied = cur.rowcount
    skipped: list[int] = []
    if copied < len(sent):
        skipped = _missing_lines(cur, sent)
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
    with cur.copy("copy landing from stdin with (format csv)") as copy:
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


def _upsert(
    cur: psycopg.Cursor, spec: TableSpec, cols: list[str], valid: sql.Composable
) -> None:
    """Update the keys that exist (when a value differs; updated_at never moves
    backwards), then insert the new keys.

    Foreign keys were checked for the whole batch: skip the per-row triggers when
    the role may (see _copy_direct). Into an empty table, plain indexes are
    rebuilt once at the end.
    """
    table = sql.Identifier("raw", spec.name)
    skip_triggers = bool(spec.foreign_keys) and _may_skip_triggers(cur)
    if skip_triggers:
        cur.execute("set local session_replication_role = replica")
    empty = _is_empty(cur, spec.name)
    rebuild = _drop_secondary_indexes(cur, spec) if empty else []
    pk = spec.primary_key
    same_key = _same_key(pk)
    updates = [
        sql.SQL("{c} = x.{c}").format(c=sql.Identifier(c))
        for c in cols
        if c not in pk and c != "updated_at"
    ]
    if "updated_at" in cols:
        updates.append(
            sql.SQL(
                "updated_at = "
                "greatest(x.updated_at, t.updated_at + interval '1 second')"
            )
        )
    if updates and not empty:
        cur.execute(
            sql.SQL(
                "update {table} t set {updates} from typed x "
                "where {same_key} and {valid} "
                "and ({t_cols}) is distinct from ({x_cols})"
            ).format(
                table=table,
                updates=sql.SQL(", ").join(updates),
                same_key=same_key,
                valid=valid,
                t_cols=_quoted_list(cols, "t"),
                x_cols=_quoted_list(cols, "x"),
            )
        )
    new_keys = (
        sql.SQL("true")
        if empty
        else sql.SQL("not exists (select 1 from {table} t where {same_key})").format(
            table=table, same_key=same_key
        )
    )
    cur.execute(
        sql.SQL(
            "insert into {table} ({cols}) select {x_cols} from typed x "
            "where {valid} and {new_keys}"
        ).format(
            table=table,
            cols=_quoted_list(cols),
            x_cols=_quoted_list(cols, "x"),
            valid=valid,
            new_keys=new_keys,
        )
    )
    for definition in rebuild:
        cur.execute(definition)
    if skip_triggers:
        cur.execute("set local session_replication_role = origin")


# ------------------------------------------------------------------------ the load


def _load_file(
    conn: psycopg.Connection,
    spec: TableSpec,
    source: SourceFile,
    checksum: str,
    on_bytes: Callable[[int], None] | None,
    wait_for_parents: Callable[[], None],
) -> FileResult:
    """Load one file in one transaction: direct COPY, else the sifted path."""
    started = time.perf_counter()
    result = FileResult(file=source.path.name, table=spec.name, method="direct")
    sent = 0

    def count_bytes(n: int) -> None:
        nonlocal sent
        sent += n
        if on_bytes:
            on_bytes(n)

    try:
        with conn.transaction(), conn.cursor() as cur:
            result.batch_id = _open_batch(cur, spec, source, checksum)
            result.rows_read = result.rows_loaded = _copy_direct(
                cur, spec, source, count_bytes, wait_for_parents
            )
            _close_batch(cur, result)
    except (psycopg.errors.DataError, psycopg.errors.IntegrityError, _DirectCopyFailed):
        # Some row is bad or its key exists already: the transaction was rolled
        # back; take the sifted path in a new one.
        if on_bytes:
            on_bytes(-sent)  # the progress bar starts the file again
        result.method = "sifted"
        with conn.transaction(), conn.cursor() as cur:
            result.batch_id = _open_batch(cur, spec, source, checksum)
            read, loaded, rejected = _sift(
                cur, spec, source, result.batch_id, on_bytes, wait_for_parents
            )
            result.rows_read, result.rows_loaded, result.rows_rejected = (
                read,
                loaded,
                rejected,
            )
            _check_encoding(source.path.name, result, cur, result.batch_id)
            _close_batch(cur, result)
    result.seconds = time.perf_counter() - started
    return result


def _open_batch(
    cur: psycopg.Cursor, spec: TableSpec, source: SourceFile, checksum: str
) -> int:
    # A bulk load is not an edit: the audit trigger skips this transaction's rows
    # when the role is the loader's (see loader/sql/002_app_schema.sql).
    cur.execute("set local ecom.bulk_load = on")
    return cur.execute(
        """
        insert into raw.load_batches (table_name, file_name, file_checksum,
            file_bytes, load_method, started_at, finished_at)
        values (%s, %s, %s, %s, 'direct', clock_timestamp(), clock_timestamp())
        returning batch_id
        """,
        [spec.name, source.path.name, checksum, source.path.stat().st_size],
    ).fetchone()[0]


def _close_batch(cur: psycopg.Cursor, result: FileResult) -> None:
    """Check that every row is accounted for, then record the counts."""
    if result.rows_read != result.rows_loaded + result.rows_rejected:
        raise EcomError(
            f"{result.file}: rows do not reconcile ({result.rows_read} read, "
            f"{result.rows_loaded} loaded, {result.rows_rejected} rejected); "
            "nothing was written"
        )
    cur.execute(
        """
        update raw.load_batches
        set load_method = %s, rows_read = %s, rows_loaded = %s, rows_rejected = %s,
            finished_at = clock_timestamp()
        where batch_id = %s
        """,
        [
            result.method,
            result.rows_read,
            result.rows_loaded,
            result.rows_rejected,
            result.batch_id,
        ],
    )


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
    row = conn.execute(
        "select 1 from raw.load_batches where table_name = %s and file_checksum = %s",
        [table, checksum],
    ).fetchone()
    return row is not None


LOAD_WORKERS = 2


def load_directory(
    env: dict[str, str],
    data_dir: Path,
    *,
    force: bool = False,
    replace: bool = False,
    on_file: Callable[[str, int], None] | None = None,
    on_bytes: Callable[[str, int], None] | None = None,
    on_done: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Load every CSV of `data_dir` into raw; return one result per file.

    All headers are checked before anything is written. Files already loaded
    (same table and checksum) are skipped unless `force`. `replace` empties the raw
    tables first (the only way the loader removes data).

    Tables load on two connections at once: a table's files go in order, and a
    child table streams its rows while its parent is still loading, then waits
    for the parent's commit before it checks its foreign keys.
    """
    data_dir = Path(data_dir)
    paths = discover(data_dir)
    with connect(env, autocommit=True) as conn:
        apply_schema(conn)
        specs = {t: read_table_spec(conn, t) for t in TABLES}
        sources = [read_header(p, specs[p.stem.split("__", 1)[0]]) for p in paths]
        _check_required_tables(conn, sources, replace)
        if replace:
            with conn.transaction():
                conn.execute(
                    sql.SQL("truncate {}").format(
                        sql.SQL(", ").join(sql.Identifier("raw", t) for t in TABLES)
                    )
                )
            force = True
    by_table = {t: [s for s in sources if s.table == t] for t in TABLES}
    by_table = {t: files for t, files in by_table.items() if files}
    finished = {t: threading.Event() for t in by_table}
    failed: dict[str, BaseException] = {}

    def load_table(table: str) -> list[FileResult]:
        spec = specs[table]
        parents = {fk.ref_table for fk in spec.foreign_keys} - {table}
        parents &= set(by_table)

        def wait_for_parents() -> None:
            for parent in sorted(parents):
                finished[parent].wait()
                if parent in failed:
                    raise EcomError(
                        f"{table}: not loaded, because loading {parent} failed"
                    )

        results = []
        try:
            with connect(env, autocommit=True) as table_conn:
                for source in by_table[table]:
                    name = source.path.name
                    checksum = file_checksum(source.path)
                    if on_file:
                        on_file(name, source.path.stat().st_size)
                    if not force and _already_loaded(table_conn, table, checksum):
                        result = FileResult(name, table, "skipped")
                    else:
                        result = _load_file(
                            table_conn,
                            spec,
                            source,
                            checksum,
                            (lambda n, name=name: on_bytes(name, n))
                            if on_bytes
                            else None,
                            wait_for_parents,
                        )
                    results.append(result)
                    if on_done:
                        on_done(result)
        except BaseException as exc:
            failed[table] = exc
            raise
        finally:
            finished[table].set()
        return results

    with ThreadPoolExecutor(max_workers=LOAD_WORKERS) as pool:
        futures = {t: pool.submit(load_table, t) for t in _start_order(by_table)}
        wait(futures.values())
    for table in by_table:  # the first failure in load order is the root cause
        if table in failed:
            error = failed[table]
            if isinstance(error, psycopg.OperationalError):
                raise EcomError(f"lost the connection to PostgreSQL: {error}") from None
            raise error
    return [r for t in by_table for r in futures[t].result()]


def _start_order(by_table: dict[str, list[SourceFile]]) -> list[str]:
    """The tables in the order their loads start: the one with the most bytes
    first (it takes longest; started first, it does not keep one connection busy
    alone at the end), then the others parents first.

    No deadlock: with at least two workers the biggest table holds one, and the
    others start parents first on the rest, so by the time a table waits for the
    biggest, every parent of the biggest has started.
    """
    tables = list(by_table)
    if LOAD_WORKERS < 2 or len(tables) < 2:
        return tables
    biggest = max(tables, key=lambda t: sum(s.path.stat().st_size for s in by_table[t]))
    return [biggest, *(t for t in tables if t != biggest)]


def _check_required_tables(
    conn: psycopg.Connection, sources: list[SourceFile], replace: bool
) -> None:
    """Every table needs a file, unless raw already holds its rows."""
    present = {s.table for s in sources}
    for table in TABLES:
        if table in present:
            continue
        has_rows = conn.execute(
            sql.SQL("select exists (select 1 from {})").format(
                sql.Identifier("raw", table)
            )
        ).fetchone()[0]
        if replace or not has_rows:
            raise EcomError(
                f"missing file: {table}.csv (raw.{table} is empty and nothing in the "
                "directory loads it)"
            )


def summary_rows(results: list[FileResult]) -> Iterator[tuple[str, ...]]:
    for r in results:
        yield (
            r.file,
            r.method,
            f"{r.rows_read:,}",
            f"{r.rows_loaded:,}",
            f"{r.rows_rejected:,}",
            f"{r.seconds:.2f}",
        )
