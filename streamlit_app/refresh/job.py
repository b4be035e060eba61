"""The "Refresh warehouse" action: `dbt build` of what the app's edits changed.

The app's editing pages change the raw tables (every change is recorded in
app.audit_log); the dashboards read the marts. A refresh builds the models
downstream of the raw tables edited since the last successful refresh
(`source:shop.<table>+` for each), or everything when asked, runs their tests,
records the run in app.refresh_runs and clears the dashboards' caches.

The build runs in a thread of the Streamlit server process, one at a time across
all sessions: a session that asks while a refresh is running gets that one back.
A PostgreSQL advisory lock, held by the running refresh's session, also keeps two
app processes on the same database from building at once (and marks runs a
stopped app left "running" as failed).

dbt runs as a child process with the build credentials (ECOM_BUILD_PGUSER /
ECOM_BUILD_PGPASSWORD, put there by the launcher: the app's own role may not
build) and writes into warehouse.dbt_target_dir(), so the dashboards' cache keys
change. Its "N of M START/OK/PASS/..." log lines drive the progress; the result
comes from run_results.json.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
from psycopg import errors

from core import db, dbt_runner
from core.db import conninfo, describe_database
from core.dbt_runner import DBT_PROJECT_DIR, dbt_command
from core.errors import EcomError, WarehouseError, WarehouseUnavailable, one_line
from core.settings import PROJECT_ROOT
from streamlit_app import data, warehouse
from streamlit_app.launch import BUILD_PASSWORD_VARIABLE, BUILD_USER_VARIABLE

SOURCE = "shop"
FULL_BUILD = "(everything)"
# pg_try_advisory_lock(0, LOCK_KEY): one refresh per database across processes
LOCK_KEY = 7_301_105
OUTPUT_LINES_KEPT = 200
ERROR_LINES_KEPT = 20

# "12:00:01  5 of 18 START sql view model staging.stg_shop__orders ..... [RUN]"
_PROGRESS_LINE = re.compile(
    r"^(?:\S+\s+)?(?P<index>\d+) of (?P<total>\d+) "
    r"(?P<status>START|OK|PASS|FAIL|ERROR|WARN|SKIP|NO-OP)\b\s*(?P<text>.*)$"
)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_NODE_NAME = re.compile(r"(?:(?:model|snapshot|seed|test|exposure)\s+)?(\S+)\s*$")


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
    with _session() as conn:
        return _pending(conn)


# --------------------------------------------------------------------- progress


@dataclass(frozen=True)
class RefreshState:
    """A refresh as it is now (a copy: safe to read in a page)."""

    run_id: int
    requested_by: str
    selection: tuple[str, ...]  # dbt selectors; empty = everything
    database: str
    predictions: bool
    status: str = "running"  # running / success / failed
    phase: str = "starting"  # starting, build, predictions, done
    done: int = 0
    total: int = 0
    running_nodes: tuple[str, ...] = ()
    models_built: int = 0
    tests_passed: int = 0
    tests_failed: int = 0
    warnings: int = 0
    skipped: int = 0
    errors: tuple[str, ...] = ()
    message: str = ""
    predictions_message: str = ""
    predictions_ok: bool | None = None
    started_at: datetime | None = None
    elapsed_seconds: float = 0.0

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def fraction(self) -> float:
        return min(self.done / self.total, 1.0) if self.total else 0.0

    @property
    def selection_text(self) -> str:
        return " ".join(self.selection) or FULL_BUILD


@dataclass
class _Job:
    state: RefreshState
    started: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: dict[int, str] = field(default_factory=dict)
    output: deque[str] = field(default_factory=lambda: deque(maxlen=OUTPUT_LINES_KEPT))
    thread: threading.Thread | None = None

    def update(self, **changes: Any) -> None:
        with self.lock:
            self.state = replace(self.state, **changes)

    def snapshot(self) -> RefreshState:
        with self.lock:
            state = self.state
        if state.running:
            state = replace(state, elapsed_seconds=time.monotonic() - self.started)
        return state

    def feed(self, line: str) -> None:
        """Take one line of dbt's output."""
        line = _ANSI.sub("", line).rstrip()
        self.output.append(line)
        match = _PROGRESS_LINE.match(line)
        if not match or match["text"].startswith("hook:"):
            return
        index, total = int(match["index"]), int(match["total"])
        if match["status"] == "START":
            self.in_flight[index] = node_name(match["text"])
        else:
            self.in_flight.pop(index, None)
        with self.lock:
            done = self.state.done + (match["status"] != "START")
            self.state = replace(
                self.state,
                phase="build",
                total=total,
                done=min(done, total),
                running_nodes=tuple(
                    self.in_flight[i] for i in sorted(self.in_flight)[-4:]
                ),
            )


def node_name(text: str) -> str:
    """'sql view model staging.stg_shop__orders ..... [RUN]' -> 'stg_shop__orders'."""
    text = re.sub(r"\s*\[[^\]]*\]\s*$", "", text).rstrip(" .")
    match = _NODE_NAME.search(text)
    name = match.group(1) if match else text
    return name.split(".")[-1] if "::" not in name else name


_lock = threading.Lock()
_job: _Job | None = None


def latest() -> RefreshState | None:
    """The running refresh of this app process, else its last one (this database's)."""
    job = _job
    if job is None:
        return None
    state = job.snapshot()
    if state.database != describe_database(_dsn()):
        return None
    return state


def wait(timeout: float | None = None) -> RefreshState | None:
    """Block until this process's refresh has finished (tests, scripts)."""
    job = _job
    if job is None or job.thread is None:
        return latest()
    job.thread.join(timeout)
    return job.snapshot()


# ------------------------------------------------------------------------ start


@dataclass(frozen=True)
class Started:
    state: RefreshState
    is_new: bool  # False: a refresh was already running, this is that one


def start(
    requested_by: str, *, full: bool = False, predictions: bool = False
) -> Started:
    """Start a refresh in the background (or return the one already running).

    Without `full`, builds what the raw tables edited since the last successful
    refresh feed; raises NothingChanged when there is none.
    """
    global _job
    with _lock:
        if _job is not None and _job.snapshot().running:
            return Started(_job.snapshot(), is_new=False)
        dsn = _dsn()
        env = build_env()
        target = warehouse.dbt_target_dir()
        lock_conn = _connect(dsn)
        try:
            job = _begin(lock_conn, dsn, requested_by, full, predictions)
        except BaseException:
            lock_conn.close()
            raise
        thread = threading.Thread(
            target=_run,
            args=(job, lock_conn, dsn, env, target),
            name=f"ecom-refresh-{job.state.run_id}",
            daemon=True,
        )
        job.thread = thread
        _job = job
        thread.start()
        return Started(job.snapshot(), is_new=True)


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


def _begin(
    conn: psycopg.Connection,
    dsn: str,
    requested_by: str,
    full: bool,
    predictions: bool,
) -> _Job:
    """Take the database's refresh lock, work out the selection, record the run."""
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
    return _Job(
        RefreshState(
            run_id=run_id,
            requested_by=requested_by,
            selection=tuple(selection),
            database=describe_database(dsn),
            predictions=predictions,
            started_at=started_at,
        )
    )


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


def running_elsewhere() -> str | None:
    """A message when another app process is refreshing this database."""
    job = _job
    if job is not None and job.snapshot().running:
        return None
    with _session() as conn:
        if not conn.execute(_LOCK_HELD_SQL, {"key": LOCK_KEY}).fetchone()[0]:
            return None
        return _busy_message(conn)


# -------------------------------------------------------------------------- run


def build_env() -> dict[str, str]:
    """libpq variables for dbt and the predictions: this process's database, with
    the build credentials when the launcher gave them (ECOM_BUILD_PGUSER empty:
    the login's default user, as for `ecom build` run without PGUSER)."""
    try:
        env = db.connection_env(start=False)
    except EcomError as exc:
        raise RefreshError(str(exc)) from None
    if BUILD_USER_VARIABLE in os.environ:
        env = env | {
            "PGUSER": os.environ[BUILD_USER_VARIABLE],
            "PGPASSWORD": os.environ.get(BUILD_PASSWORD_VARIABLE, ""),
        }
    return env


def _child_env(env: dict[str, str]) -> dict[str, str]:
    """db.child_env, where an empty PGUSER means "none" (each tool's default)."""
    process_env = db.child_env(env)
    if not process_env.get("PGUSER"):
        process_env.pop("PGUSER", None)
    return process_env


def dbt_env(env: dict[str, str], target: Path) -> dict[str, str]:
    """What core.dbt_runner.run_dbt gives dbt, without colours (the progress is
    read from its log lines)."""
    process_env = dbt_runner.dbt_env(env, target)
    if not process_env.get("PGUSER"):
        process_env.pop("PGUSER", None)
    process_env["DBT_USE_COLORS"] = "false"
    return process_env


def _run(
    job: _Job,
    lock_conn: psycopg.Connection,
    dsn: str,
    env: dict[str, str],
    target: Path,
) -> None:
    try:
        _build(job, env, target)
        if job.state.predictions and job.state.status != "failed":
            job.update(phase="predictions")
            ok, message = run_predictions(env)
            job.update(predictions_ok=ok, predictions_message=message)
    except Exception as exc:  # the thread must always record an end
        job.update(status="failed", errors=(f"The refresh failed: {_one_line(exc)}",))
    finally:
        with job.lock:
            state = replace(
                job.state,
                status="success" if job.state.status == "running" else "failed",
                phase="done",
                running_nodes=(),
                elapsed_seconds=time.monotonic() - job.started,
            )
            job.state = replace(state, message=summary(state))
        try:
            warehouse.clear_cache()
        finally:
            _finish(job, lock_conn, dsn)


def _build(job: _Job, env: dict[str, str], target: Path) -> None:
    results_path = target / "run_results.json"
    before = _mtime(results_path)
    args = ["build"]
    if job.state.selection:
        args += ["--select", *job.state.selection]
    job.update(phase="build")
    process = subprocess.Popen(
        dbt_command(args),
        cwd=DBT_PROJECT_DIR,
        env=dbt_env(env, target),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        bufsize=1,
    )
    assert process.stdout is not None
    for line in process.stdout:
        job.feed(line)
    returncode = process.wait()
    results = data.read_json(results_path) if _mtime(results_path) != before else None
    if results is None:
        job.update(status="failed", errors=(dbt_error(list(job.output)),))
        return
    counts = count_results(results)
    failed = returncode != 0 or bool(counts["errors"])
    errors = counts.pop("errors") or ([dbt_error(list(job.output))] if failed else [])
    job.update(
        status="failed" if failed else "running",
        errors=tuple(errors[:ERROR_LINES_KEPT]),
        done=job.state.total or job.state.done,
        **counts,
    )


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


_BUILT = {"model", "snapshot", "seed"}
_TESTS = {"test", "unit_test"}


def count_results(results: dict[str, Any]) -> dict[str, Any]:
    """Models built, tests passed / failed, warnings, skips and one line per
    failing node, from dbt's run_results.json."""
    counts: dict[str, Any] = {
        "models_built": 0,
        "tests_passed": 0,
        "tests_failed": 0,
        "warnings": 0,
        "skipped": 0,
        "errors": [],
    }
    for result in results.get("results", []):
        unique_id = str(result.get("unique_id", ""))
        kind = unique_id.split(".", 1)[0]
        status = str(result.get("status", ""))
        if status == "skipped":
            counts["skipped"] += 1
        elif status == "warn":
            counts["warnings"] += 1
        elif kind in _BUILT and status == "success":
            counts["models_built"] += 1
        elif kind in _TESTS and status == "pass":
            counts["tests_passed"] += 1
        elif status in ("error", "fail", "runtime error"):
            if kind in _TESTS:
                counts["tests_failed"] += 1
            label = kind.replace("_", " ")
            text = error_line(str(result.get("message") or status))
            counts["errors"].append(f"{label} {_result_name(unique_id)}: {text}")
    return counts


def _result_name(unique_id: str) -> str:
    parts = unique_id.split(".")
    if parts[0] == "test" and len(parts) >= 3:
        return parts[2]  # test.<project>.<name>.<hash>
    if parts[0] == "unit_test" and len(parts) >= 4:
        return f"{parts[2]}::{parts[3]}"  # unit_test.<project>.<model>.<name>
    return parts[-1]


_ERROR_HEADER = re.compile(r"^(?P<kind>[\w ]*Error) in \w+ \S+ \(.*\)$")


def error_line(message: str) -> str:
    """dbt's multi-line node message as one line, without file paths."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    lines = [line for line in lines if not line.lower().startswith("compiled code")]
    if lines and (header := _ERROR_HEADER.match(lines[0])) and len(lines) > 1:
        lines[0] = header["kind"] + ":"
    return re.sub(r"\s+", " ", " ".join(lines))[:400] or "failed"


def dbt_error(output: list[str]) -> str:
    """One line for a dbt run that ended without results (a bad selection, an
    unreachable database, a project error): its "Encountered an error" part."""
    lines = [line.strip() for line in output if line.strip()]
    lines = [re.sub(r"^\d\d:\d\d:\d\d\s+", "", line) for line in lines]
    for position, line in enumerate(lines):
        if line.startswith("Encountered an error"):
            rest = [text for text in lines[position + 1 :] if text]
            return error_line("\n".join(rest)) if rest else line
    errors = [line for line in lines if "error" in line.lower()]
    if errors:
        return error_line(errors[-1])
    return lines[-1][:400] if lines else "dbt ended without output"


def run_predictions(env: dict[str, str]) -> tuple[bool, str]:
    """`python -m predict` in a child process with the build credentials."""
    process_env = _child_env(env) | {"NO_COLOR": "1", "TERM": "dumb"}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "predict"],
        cwd=PROJECT_ROOT,
        env=process_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        check=False,
    )
    seconds = time.monotonic() - started
    if result.returncode == 0:
        return True, f"Predictions refitted in {seconds:.0f} s."
    lines = [
        line.strip()
        for line in (result.stderr + result.stdout).splitlines()
        if line.strip()
    ]
    reason = _ANSI.sub("", lines[-1]) if lines else f"exit code {result.returncode}"
    return False, f"The predictions failed: {reason}"


def summary(state: RefreshState) -> str:
    """The run's outcome in words (also stored in app.refresh_runs.message)."""
    if state.status == "failed":
        if not state.errors:
            return "The refresh failed."
        return "\n".join(state.errors)
    parts = [
        f"{state.models_built} models built",
        f"{state.tests_passed} tests passed",
    ]
    if state.warnings:
        parts.append(f"{state.warnings} warnings")
    text = ", ".join(parts) + f" in {state.elapsed_seconds:.0f} s."
    if state.predictions_message:
        text += " " + state.predictions_message
    return text


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


def _finish(job: _Job, lock_conn: psycopg.Connection, dsn: str) -> None:
    """Record the outcome; the lock goes with its session."""
    state = job.snapshot()
    params = {
        "status": state.status,
        "models_built": state.models_built,
        "tests_passed": state.tests_passed,
        "tests_failed": state.tests_failed,
        "message": state.message,
        "run_id": state.run_id,
    }
    try:
        try:
            lock_conn.execute(_FINISH_SQL, params)
        except psycopg.Error:
            # the lock's session died (e.g. a server restart): one more try
            with _connect(dsn) as conn:
                conn.execute(_FINISH_SQL, params)
    except (psycopg.Error, WarehouseError) as exc:
        job.update(
            message=state.message + f" (not recorded: {_one_line(exc)})",
        )
    finally:
        lock_conn.close()


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
    with _session() as conn:
        cur = conn.execute(_HISTORY_SQL, {"limit": int(limit)})
        frame = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
    frame["seconds"] = pd.to_numeric(frame["seconds"]).round(1)
    return frame


# -------------------------------------------------------------------- plumbing


def _dsn() -> str:
    return conninfo(read_only=False, application_name="ecom-refresh")


def _connect(dsn: str | None = None) -> psycopg.Connection:
    dsn = dsn or _dsn()
    try:
        return psycopg.connect(dsn, autocommit=True)
    except psycopg.OperationalError as exc:
        raise WarehouseUnavailable(
            f"Cannot reach the warehouse database at {describe_database(dsn)}: "
            f"{_one_line(exc) or 'no answer'}"
        ) from None


@contextmanager
def _session() -> Iterator[psycopg.Connection]:
    """A connection for the page's reads; database errors in plain words."""
    with _connect() as conn:
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
            f"The app's database role may not do this: {_one_line(exc)}"
        )
    return RefreshError(f"The refresh could not be recorded: {_one_line(exc)}")


def _one_line(exc: BaseException) -> str:
    return one_line(exc) or type(exc).__name__
