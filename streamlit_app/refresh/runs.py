"""The refresh's records in the database: the raw tables edited since the last
successful refresh (app.audit_log), the runs in app.refresh_runs (begun under the
database's refresh lock, finished with their outcome, listed for the page), and
the errors a refresh raises when it cannot start or record itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import psycopg
from psycopg import errors

from core.db import conninfo, describe_database
from core.errors import WarehouseError, WarehouseUnavailable, one_line_or_name

SOURCE = "shop"
FULL_BUILD = "(everything)"
# pg_try_advisory_lock(0, LOCK_KEY): one refresh per database across processes
LOCK_KEY = 7_301_105
APPLICATION_NAME = "ecom-refresh"


class RefreshError(WarehouseError):
    """The refresh could not start (or its bookkeeping failed)."""


class NothingChanged(RefreshError):
    """No raw table was edited since the last successful refresh."""


class RefreshBusy(RefreshError):
    """Another app process is running a refresh on this database."""


# ------------------------------------------------------------------ what changed


@dataclass(frozen=True)
class Pending:
    """Raw tables edited in the app since the last successful refresh."""

    since: datetime | None  # the last successful refresh's start (None: never)
    changes: pd.DataFrame  # table_name, edits, last_changed_at

    @property
    def tables(self) -> list[str]:
        return list(self.changes["table_name"])

    @property
    def selectors(self) -> list[str]:
        return selectors(self.tables)


def selectors(tables: list[str]) -> list[str]:
    """dbt selectors for everything built from these raw tables."""
    return [f"source:{SOURCE}.{table}+" for table in sorted(set(tables))]


_LAST_SUCCESS_SQL = """
select max(started_at) as since
from app.refresh_runs
where status = 'success'
"""

_CHANGES_SQL = """
select
    table_name,
    count(*) as edits,
    max(changed_at) as last_changed_at
from app.audit_log
where changed_at > coalesce(%(since)s, '-infinity'::timestamptz)
group by table_name
order by table_name
"""


def _pending(conn: psycopg.Connection) -> Pending:
    since = conn.execute(_LAST_SUCCESS_SQL).fetchone()[0]
    cur = conn.execute(_CHANGES_SQL, {"since": since})
    frame = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
    return Pending(since=since, changes=frame)


def pending() -> Pending:
    """What a refresh would build now."""
    with session() as conn:
        return _pending(conn)


# ---------------------------------------------------------------- begin a run

_TRY_LOCK_SQL = "select pg_try_advisory_lock(0, %(key)s)"

_INTERRUPTED_SQL = """
update app.refresh_runs
set
    status = 'failed',
    message = 'Interrupted: the app stopped before the refresh finished.',
    finished_at = clock_timestamp()
where status = 'running'
"""

_INSERT_RUN_SQL = """
insert into app.refresh_runs (requested_by, selection, status, started_at)
values (%(user)s, %(selection)s, 'running', %(started_at)s)
returning run_id, started_at
"""


@dataclass(frozen=True)
class Begun:
    """A run recorded as running, under the database's refresh lock."""

    run_id: int
    started_at: datetime
    selection: list[str]  # dbt selectors; empty = everything


def begin_run(conn: psycopg.Connection, requested_by: str, full: bool) -> Begun:
    """Take the database's refresh lock (held by `conn`'s session), work out the
    selection, record the run."""
    try:
        if not conn.execute(_TRY_LOCK_SQL, {"key": LOCK_KEY}).fetchone()[0]:
            raise RefreshBusy(_busy_message(conn))
        conn.execute(_INTERRUPTED_SQL)
        # The run starts before the audit trail is read: the next refresh reads
        # from here, so no edit falls between two refreshes.
        started_at = conn.execute("select clock_timestamp()").fetchone()[0]
        selection: list[str] = []
        if not full:
            selection = _pending(conn).selectors
            if not selection:
                raise NothingChanged(
                    "Nothing was edited since the last refresh: the marts are up "
                    "to date."
                )
        run_id, started_at = conn.execute(
            _INSERT_RUN_SQL,
            {
                "user": requested_by,
                "selection": " ".join(selection) or FULL_BUILD,
                "started_at": started_at,
            },
        ).fetchone()
    except psycopg.Error as exc:
        raise _warehouse_error(exc) from None
    return Begun(run_id=run_id, started_at=started_at, selection=selection)


def _busy_message(conn: psycopg.Connection) -> str:
    row = conn.execute(_RUNNING_SQL).fetchone()
    if row is None:
        return "Another app process is refreshing the warehouse right now."
    who, started_at = row
    return (
        f"A refresh started by {who} at {started_at:%H:%M:%S} is running in "
        "another app process; try again when it has finished."
    )


_RUNNING_SQL = """
select requested_by, started_at
from app.refresh_runs
where status = 'running'
order by started_at desc
limit 1
"""

_LOCK_HELD_SQL = """
select exists (
    select
    from pg_locks
    where
        locktype = 'advisory'
        and database = (select oid from pg_database where datname = current_database())
        and classid = 0
        and objid = %(key)s
        and objsubid = 2
        and granted
)
"""


def busy_elsewhere() -> str | None:
    """A message when some session holds this database's refresh lock."""
    with session() as conn:
        if not conn.execute(_LOCK_HELD_SQL, {"key": LOCK_KEY}).fetchone()[0]:
            return None
        return _busy_message(conn)


# ---------------------------------------------------------------- finish a run

_FINISH_SQL = """
update app.refresh_runs
set
    status = %(status)s,
    models_built = %(models_built)s,
    tests_passed = %(tests_passed)s,
    tests_failed = %(tests_failed)s,
    message = %(message)s,
    finished_at = clock_timestamp()
where run_id = %(run_id)s
"""


def record_outcome(
    lock_conn: psycopg.Connection, dsn: str, outcome: dict[str, Any]
) -> None:
    """Store a run's outcome (run_id, status, counts, message) through the lock's
    session, else a new one; raises psycopg.Error or WarehouseError."""
    try:
        lock_conn.execute(_FINISH_SQL, outcome)
    except psycopg.Error:
        # the lock's session died (e.g. a server restart): one more try
        with connect(dsn) as conn:
            conn.execute(_FINISH_SQL, outcome)


# ---------------------------------------------------------------------- history

_HISTORY_SQL = """
select
    run_id,
    status,
    requested_by,
    selection,
    models_built,
    tests_passed,
    tests_failed,
    extract(epoch from coalesce(finished_at, clock_timestamp()) - started_at)
        as seconds,
    started_at,
    finished_at,
    message
from app.refresh_runs
order by run_id desc
limit %(limit)s
"""


def history(limit: int = 20) -> pd.DataFrame:
    """The latest refreshes, newest first."""
    with session() as conn:
        cur = conn.execute(_HISTORY_SQL, {"limit": int(limit)})
        frame = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
    frame["seconds"] = pd.to_numeric(frame["seconds"]).round(1)
    return frame


# -------------------------------------------------------------------- sessions


def refresh_dsn() -> str:
    """The refresh's connection string: this process's database, read-write."""
    return conninfo(read_only=False, application_name=APPLICATION_NAME)


def connect(dsn: str | None = None) -> psycopg.Connection:
    """An autocommit session; an unreachable server becomes WarehouseUnavailable."""
    dsn = dsn or refresh_dsn()
    try:
        return psycopg.connect(dsn, autocommit=True)
    except psycopg.OperationalError as exc:
        raise WarehouseUnavailable(
            f"Cannot reach the warehouse database at {describe_database(dsn)}: "
            f"{one_line_or_name(exc)}"
        ) from None


@contextmanager
def session() -> Iterator[psycopg.Connection]:
    """A connection for the page's reads; database errors in plain words."""
    with connect() as conn:
        try:
            yield conn
        except psycopg.Error as exc:
            raise _warehouse_error(exc) from None


def _warehouse_error(exc: psycopg.Error) -> WarehouseError:
    if isinstance(exc, errors.UndefinedTable | errors.InvalidSchemaName):
        return RefreshError(
            "The app's tables (schema app) are missing: run `ecom load` or restart "
            "`ecom app`, which create them."
        )
    if isinstance(exc, errors.InsufficientPrivilege):
        return RefreshError(
            f"The app's database role may not do this: {one_line_or_name(exc)}"
        )
    return RefreshError(f"The refresh could not be recorded: {one_line_or_name(exc)}")
