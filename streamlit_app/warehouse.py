"""The app's way to the warehouse: pooled read-only connections, cached queries
keyed by the database and the latest dbt build, parallel gathering of a page's
queries, and the warehouse's status.

Database problems become `WarehouseError`s (core.errors) with a one-line message for
the page. The query modules in `streamlit_app/queries/` hold the SQL.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import streamlit as st
from psycopg import errors
from psycopg.types.numeric import FloatLoader
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from core.db import conninfo, describe_database
from core.errors import (
    MartMissing,
    QueryFailed,
    WarehouseUnavailable,
    one_line,
)
from core.settings import DBT_TARGET_VARIABLE, DEFAULT_DBT_TARGET

CACHE_TTL_SECONDS = 600
STATUS_TTL_SECONDS = 15

# The marts every page needs; a page that needs more names them in its queries.
CORE_MARTS = (
    "dim_channels",
    "dim_regions",
    "dim_products",
    "dim_customers",
    "fct_orders",
    "fct_order_items",
)


# ----------------------------------------------------------------------- connection


class _Pool:
    """A few idle connections per database, shared by the app's sessions."""

    max_idle = 8

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[str, list[psycopg.Connection]] = {}

    def _open(self, dsn: str) -> psycopg.Connection:
        try:
            conn = psycopg.connect(dsn, autocommit=True, prepare_threshold=None)
        except psycopg.OperationalError as exc:
            reason = one_line(exc) or "no answer"
            raise WarehouseUnavailable(
                f"Cannot reach the warehouse database at {describe_database(dsn)}: "
                f"{reason}"
            ) from None
        conn.adapters.register_loader("numeric", FloatLoader)
        return conn

    @contextmanager
    def connection(self, dsn: str, fresh: bool = False) -> Iterator[psycopg.Connection]:
        conn = None
        if not fresh:
            with self._lock:
                idle = self._idle.get(dsn, [])
                while idle and conn is None:
                    candidate = idle.pop()
                    if not candidate.closed:
                        conn = candidate
        if conn is None:
            conn = self._open(dsn)
        try:
            yield conn
        except BaseException:
            conn.close()
            raise
        if conn.closed or conn.broken:
            return
        with self._lock:
            idle = self._idle.setdefault(dsn, [])
            if len(idle) < self.max_idle:
                idle.append(conn)
                return
        conn.close()

    def close_all(self) -> None:
        with self._lock:
            for conns in self._idle.values():
                for conn in conns:
                    conn.close()
            self._idle.clear()


_pool = _Pool()

# Set by the benchmark to record every statement a page runs.
_recorder: list[tuple[str, dict[str, Any]]] | None = None


def _execute(dsn: str, statement: str, params: dict[str, Any]) -> pd.DataFrame:
    """Run one statement into a DataFrame; map database errors to WarehouseErrors."""

    def frame(conn: psycopg.Connection) -> pd.DataFrame:
        cur = conn.execute(statement, params)
        columns = [d.name for d in cur.description or []]
        return pd.DataFrame(cur.fetchall(), columns=columns)

    return _with_connection(dsn, frame)


def with_connection(call: Callable[[psycopg.Connection], Any]) -> Any:
    """call(conn) on a pooled read-only connection, uncached; database errors
    become WarehouseErrors as for the dashboards' queries."""
    return _with_connection(conninfo(), call)


def _with_connection(dsn: str, call: Callable[[psycopg.Connection], Any]) -> Any:
    for attempt in (1, 2):
        try:
            with _pool.connection(dsn, fresh=attempt == 2) as conn:
                return call(conn)
        except (errors.UndefinedTable, errors.InvalidSchemaName) as exc:
            raise MartMissing(_missing_relation(exc)) from None
        except errors.UndefinedColumn as exc:
            raise QueryFailed(
                "The marts are older than this app expects "
                f"({one_line(exc)}); run `ecom build` to rebuild them."
            ) from None
        except errors.QueryCanceled:
            raise QueryFailed(
                "A dashboard query took too long and was stopped."
            ) from None
        except psycopg.OperationalError as exc:
            # A pooled connection may have died with a server restart: retry once.
            if attempt == 2:
                raise WarehouseUnavailable(
                    f"Lost the connection to the warehouse database at "
                    f"{describe_database(dsn)}: {one_line(exc) or 'no answer'}"
                ) from None
        except psycopg.Error as exc:
            raise QueryFailed(f"A dashboard query failed: {one_line(exc)}") from None
    raise AssertionError("unreachable")


def _missing_relation(exc: psycopg.Error) -> str:
    message = exc.diag.message_primary or str(exc)
    if '"' in message:
        return "marts." + message.split('"')[1].split(".")[-1]
    return "a marts table"


def dbt_target_dir() -> Path:
    """Where dbt writes run_results.json (ECOM_DBT_TARGET, else dbt_project/target)."""
    return Path(os.environ.get(DBT_TARGET_VARIABLE) or DEFAULT_DBT_TARGET)


def build_stamp() -> str:
    """Changes whenever dbt finishes a run, so cached results are not reused."""
    try:
        return str((dbt_target_dir() / "run_results.json").stat().st_mtime_ns)
    except OSError:
        return ""


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False, max_entries=2000)
def _cached(
    dsn: str, stamp: str, statement: str, params: dict[str, Any]
) -> pd.DataFrame:
    return _execute(dsn, statement, params)


class _WaitClock:
    """Wall time this process spent waiting for data (read by the benchmark).

    Only the outermost call counts: queries run by gather()'s threads are inside
    the gather() call that waits for them.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self._lock = threading.Lock()
        self._local = threading.local()

    @contextmanager
    def waiting(self) -> Iterator[None]:
        if getattr(self._local, "busy", False):
            yield
            return
        self._local.busy = True
        started = time.perf_counter()
        try:
            yield
        finally:
            self._local.busy = False
            with self._lock:
                self.seconds += time.perf_counter() - started

    def mark_busy(self) -> None:
        self._local.busy = True


wait_clock = _WaitClock()


def query(
    statement: str,
    params: dict[str, Any] | None = None,
    *,
    key: str = "",
    cached: bool = True,
) -> pd.DataFrame:
    """Run a marts query through the cache (keyed by the database, the latest
    build and `key`), or straight to the database when `cached` is false."""
    params = params or {}
    if _recorder is not None:
        _recorder.append((statement, params))
    with wait_clock.waiting():
        if not cached:
            return _execute(conninfo(), statement, params)
        return _cached(conninfo(), f"{build_stamp()}{key}", statement, params)


def gather(**calls: Callable[[], Any]) -> dict[str, Any]:
    """Run independent data calls at the same time; return their results by name.

    Each call goes through the cache as usual, on its own pooled connection, so a
    page waits for its slowest query instead of the sum of them. The first error
    (in the order given) is raised once all calls have finished.
    """
    results: dict[str, Any] = {}
    failures: dict[str, BaseException] = {}

    def run(name: str, call: Callable[[], Any]) -> None:
        wait_clock.mark_busy()
        try:
            results[name] = call()
        except BaseException as exc:
            failures[name] = exc

    ctx = get_script_run_ctx(suppress_warning=True)
    threads = []
    for name, call in calls.items():
        thread = threading.Thread(target=run, args=(name, call), daemon=True)
        if ctx is not None:
            add_script_run_ctx(thread, ctx)
        threads.append(thread)
    with wait_clock.waiting():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for name in calls:
        if name in failures:
            raise failures[name]
    return results


def run_uncached(statement: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Run a statement without the cache (benchmarks, tests)."""
    return _execute(conninfo(), statement, params or {})


def clear_cache() -> None:
    """Forget every cached result (the sidebar's refresh button)."""
    _cached.clear()
    _status.clear()


# --------------------------------------------------------------------------- status


@dataclass(frozen=True)
class WarehouseStatus:
    """What the app can show: 'ready', 'no_marts' or 'empty'."""

    state: str
    missing: tuple[str, ...] = ()


_STATUS_SQL = """
select
    array(
        select name
        from unnest(%(marts)s::text[]) as name
        where to_regclass('marts.' || name) is null
    ) as missing
"""

_HAS_ORDERS_SQL = "select exists (select from marts.fct_orders) as has_orders"


@st.cache_data(ttl=STATUS_TTL_SECONDS, show_spinner=False)
def _status(dsn: str, stamp: str) -> WarehouseStatus:
    missing = _execute(dsn, _STATUS_SQL, {"marts": list(CORE_MARTS)})["missing"][0]
    if missing:
        return WarehouseStatus("no_marts", tuple(missing))
    if not _execute(dsn, _HAS_ORDERS_SQL, {})["has_orders"][0]:
        return WarehouseStatus("empty")
    return WarehouseStatus("ready")


def warehouse_status() -> WarehouseStatus:
    """Raises WarehouseUnavailable when the database cannot be reached."""
    with wait_clock.waiting():
        return _status(conninfo(), build_stamp())
