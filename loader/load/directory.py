"""Loading a directory: every file in its own transaction (direct COPY, else the
sifted path), tables on two connections at once, and the summary of the results.
A replace is one transaction on one connection: the raw tables emptied and every
file loaded, or nothing changed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from core.db import connect
from core.errors import EcomError
from core.schema import apply_schema
from loader.load.batches import (
    FileResult,
    _already_loaded,
    _check_encoding,
    _close_batch,
    _open_batch,
    _parents_missed,
)
from loader.load.catalog import TABLES, TableSpec, read_table_spec
from loader.load.direct import _copy_direct, _DirectCopyFailed
from loader.load.files import (
    SourceFile,
    _check_required_tables,
    discover,
    read_header,
    take_checksum,
)
from loader.load.new_rows import NewRowsRefused
from loader.load.reject_limit import DEFAULT_MAX_REJECT_RATE, check_reject_limit
from loader.load.sift import _sift

ProgressCallback = Callable[[str, int, int], None]

LOAD_WORKERS = 2


def _load_file(
    conn: psycopg.Connection,
    spec: TableSpec,
    source: SourceFile,
    on_bytes: Callable[[int], None] | None,
    wait_for_parents: Callable[[], None],
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE,
) -> FileResult:
    """Load one file in one transaction (a savepoint when the connection is in
    one already): direct COPY, else the sifted path."""
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
            result.batch_id = _open_batch(cur, spec, source)
            copied, result.money = _copy_direct(
                cur, spec, source, result.batch_id, count_bytes, wait_for_parents
            )
            result.rows_read = result.rows_loaded = copied
            _close_batch(cur, result)
    except (
        psycopg.errors.DataError,
        psycopg.errors.IntegrityError,
        _DirectCopyFailed,
        NewRowsRefused,
    ):
        # Some row is bad or its key exists already: the transaction was rolled
        # back; take the sifted path in a new one.
        if on_bytes:
            on_bytes(-sent)  # the progress bar starts the file again
        result.method = "sifted"
        with conn.transaction(), conn.cursor() as cur:
            result.batch_id = _open_batch(cur, spec, source)
            read, loaded, rejected, money = _sift(
                cur, spec, source, result.batch_id, on_bytes, wait_for_parents
            )
            result.rows_read, result.rows_loaded, result.rows_rejected = (
                read,
                loaded,
                rejected,
            )
            result.money = money
            _check_encoding(source.path.name, result, cur, result.batch_id)
            check_reject_limit(cur, result, max_reject_rate)
            _close_batch(cur, result)
    result.seconds = time.perf_counter() - started
    return result


def load_directory(
    env: dict[str, str],
    data_dir: Path,
    *,
    force: bool = False,
    replace: bool = False,
    on_file: Callable[[str, int], None] | None = None,
    on_bytes: Callable[[str, int], None] | None = None,
    on_done: Callable[[FileResult], None] | None = None,
    timezone: str = "UTC",
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE,
) -> list[FileResult]:
    """Load every CSV of `data_dir` into raw; return one result per file.

    Timestamps without an offset, and dates, are read in `timezone` (the load's
    sessions are pinned to it, so the server's own setting never moves a
    date). A file with more than `max_reject_rate` of its rows rejected is not
    loaded at all and fails the load (see reject_limit).

    All headers are checked before anything is written. Files already loaded
    (same table and checksum) are skipped unless `force`, or unless rows of
    their latest load were rejected for a missing parent and this load brings
    new rows to that parent's table.

    Tables load on two connections at once: a table's files go in order, and a
    child table streams its rows while its parent is still loading, then waits
    for the parent's commit before it checks its foreign keys.

    `replace` empties the raw tables and loads every file (the only way the
    loader removes data) in one transaction, so the old rows stay until the new
    ones commit.
    """
    data_dir = Path(data_dir)
    if not 0 <= max_reject_rate <= 1:
        raise EcomError(
            f"max reject rate {max_reject_rate} is not between 0 and 1 "
            "(e.g. 0.1 for 10 %)"
        )
    paths = discover(data_dir)
    _check_timezone(env, timezone)
    specs, sources = _prepare(env, paths, replace)
    by_table = {t: [s for s in sources if s.table == t] for t in TABLES}
    by_table = {t: files for t, files in by_table.items() if files}
    loads = _TableLoads(
        env, specs, by_table, force or replace, on_file, on_bytes, on_done
    )
    loads.max_reject_rate, loads.timezone = max_reject_rate, timezone
    if replace:
        return loads.replace_all()
    with ThreadPoolExecutor(max_workers=LOAD_WORKERS) as pool:
        futures = {t: pool.submit(loads.load_table, t) for t in _start_order(by_table)}
        wait(futures.values())
    loads.raise_first_failure()
    return [r for t in by_table for r in futures[t].result()]


def _check_timezone(env: dict[str, str], timezone: str) -> None:
    """A one-line error unless PostgreSQL knows the time zone."""
    with connect(env) as conn:
        try:
            _pin_timezone(conn, timezone)
        except (psycopg.errors.InvalidParameterValue, psycopg.errors.DataError):
            raise EcomError(
                f"unknown time zone {timezone!r} (use a name such as UTC or "
                "Europe/Berlin)"
            ) from None


def _pin_timezone(conn: psycopg.Connection, timezone: str) -> None:
    """Timestamps without an offset, and dates, are read in this zone, whatever
    the server's or the client's (PGTZ) setting."""
    conn.execute("select set_config('timezone', %s, false)", [timezone])


def _prepare(
    env: dict[str, str], paths: list[Path], replace: bool
) -> tuple[dict[str, TableSpec], list[SourceFile]]:
    """Before anything is written: the schema applied, the table specs read,
    every header and the required tables checked; with `replace`, the right to
    empty the raw tables."""
    with connect(env, autocommit=True) as conn:
        apply_schema(conn)
        specs = {t: read_table_spec(conn, t) for t in TABLES}
        sources = [read_header(p, specs[p.stem.split("__", 1)[0]]) for p in paths]
        _check_required_tables(conn, sources, replace)
        if replace:
            for table in TABLES:
                may = conn.execute(
                    "select has_table_privilege(%s, 'TRUNCATE')", [f"raw.{table}"]
                ).fetchone()[0]
                if not may:
                    raise _may_not_empty(conn)
    return specs, sources


def _may_not_empty(conn: psycopg.Connection) -> EcomError:
    return EcomError(
        f"--replace: role {conn.info.user} may not empty the raw tables; nothing "
        "was changed. Run the load with --replace as the database owner"
    )


def _empty_raw_tables(conn: psycopg.Connection) -> None:
    try:
        with conn.transaction():
            conn.execute(
                sql.SQL("truncate {}").format(
                    sql.SQL(", ").join(sql.Identifier("raw", t) for t in TABLES)
                )
            )
    except psycopg.errors.InsufficientPrivilege:
        raise _may_not_empty(conn) from None


@dataclass
class _TableLoads:
    """The tables of one directory load, each on its own connection from a
    worker thread: which have finished, and which failed with what."""

    env: dict[str, str]
    specs: dict[str, TableSpec]
    by_table: dict[str, list[SourceFile]]
    force: bool
    on_file: Callable[[str, int], None] | None
    on_bytes: Callable[[str, int], None] | None
    on_done: Callable[[FileResult], None] | None
    finished: dict[str, threading.Event] = field(init=False)
    failed: dict[str, BaseException] = field(default_factory=dict)
    rows_loaded: dict[str, int] = field(init=False)
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        self.finished = {t: threading.Event() for t in self.by_table}
        self.rows_loaded = dict.fromkeys(self.by_table, 0)

    def replace_all(self) -> list[FileResult]:
        """Empty the raw tables and load every file, tables parents first, in
        one transaction on one connection: a failing file or a killed process
        leaves the raw tables as they were. Each file is still tried direct,
        then sifted, in savepoints of that transaction."""
        results = []
        try:
            with connect(self.env, autocommit=True) as conn, conn.transaction():
                _pin_timezone(conn, self.timezone)
                _empty_raw_tables(conn)
                for table, sources in self.by_table.items():
                    for source in sources:
                        result = self._load_or_skip(
                            conn, self.specs[table], source, lambda: None
                        )
                        results.append(result)
                        if self.on_done:
                            self.on_done(result)
        except psycopg.OperationalError as error:
            raise EcomError(f"lost the connection to PostgreSQL: {error}") from None
        return results

    def load_table(self, table: str) -> list[FileResult]:
        """Load a table's files in order; record when it finishes or fails."""
        spec = self.specs[table]
        wait_for_parents = self._parent_waiter(spec)
        results = []
        try:
            with connect(self.env, autocommit=True) as table_conn:
                _pin_timezone(table_conn, self.timezone)
                for source in self.by_table[table]:
                    result = self._load_or_skip(
                        table_conn, spec, source, wait_for_parents
                    )
                    results.append(result)
                    self.rows_loaded[table] += result.rows_loaded
                    if self.on_done:
                        self.on_done(result)
        except BaseException as exc:
            self.failed[table] = exc
            raise
        finally:
            self.finished[table].set()
        return results

    def _parent_waiter(self, spec: TableSpec) -> Callable[[], None]:
        """A function that waits until the parent tables in this load have
        finished, and fails if one of them failed."""
        table = spec.name
        parents = {fk.ref_table for fk in spec.foreign_keys} - {table}
        parents &= set(self.by_table)

        def wait_for_parents() -> None:
            for parent in sorted(parents):
                self.finished[parent].wait()
                if parent in self.failed:
                    raise EcomError(
                        f"{table}: not loaded, because loading {parent} failed"
                    )

        return wait_for_parents

    def _load_or_skip(
        self,
        conn: psycopg.Connection,
        spec: TableSpec,
        source: SourceFile,
        wait_for_parents: Callable[[], None],
    ) -> FileResult:
        """Load one file, or skip it when it was loaded before (unless `force`,
        or a parent it missed has arrived)."""
        name = source.path.name
        take_checksum(source)
        if self.on_file:
            self.on_file(name, source.size)
        if (
            not self.force
            and _already_loaded(conn, spec.name, source.checksum)
            and not self._missed_parents_arrived(conn, spec, source, wait_for_parents)
        ):
            return FileResult(name, spec.name, "skipped")
        on_bytes = self.on_bytes
        return _load_file(
            conn,
            spec,
            source,
            (lambda n: on_bytes(name, n)) if on_bytes else None,
            wait_for_parents,
            self.max_reject_rate,
        )

    def _missed_parents_arrived(
        self,
        conn: psycopg.Connection,
        spec: TableSpec,
        source: SourceFile,
        wait_for_parents: Callable[[], None],
    ) -> bool:
        """Did the latest load of this file reject rows for a missing parent, and
        does this load bring new rows to that parent's table? Then the file is
        loaded again (its other rows are upserted unchanged). Waits for the
        parent tables of this load to finish before it answers."""
        missed = _parents_missed(conn, spec, source.checksum) & set(self.by_table)
        if not missed:
            return False
        wait_for_parents()
        return any(self.rows_loaded[t] > 0 for t in missed)

    def raise_first_failure(self) -> None:
        """Raise the error of the first table that failed in load order: the
        root cause of the others."""
        for table in self.by_table:
            if table in self.failed:
                error = self.failed[table]
                if isinstance(error, psycopg.OperationalError):
                    raise EcomError(
                        f"lost the connection to PostgreSQL: {error}"
                    ) from None
                raise error


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


def money_rows(results: list[FileResult]) -> Iterator[tuple[str, ...]]:
    """Each file's money totals, exact: read = loaded + rejected."""
    for r in results:
        for column, (read, loaded, rejected) in r.money.items():
            yield (r.file, column, f"{read:,}", f"{loaded:,}", f"{rejected:,}")


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
