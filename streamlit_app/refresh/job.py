"""A refresh's run: start it (or join the one running), build in a background
thread, follow dbt's progress, refit the predictions when asked, record the end.

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

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from core import db, dbt_runner
from core.db import describe_database
from core.dbt_runner import DBT_PROJECT_DIR, dbt_command
from core.errors import EcomError, WarehouseError, one_line_or_name
from core.settings import PROJECT_ROOT
from streamlit_app import warehouse
from streamlit_app.launch import BUILD_PASSWORD_VARIABLE, BUILD_USER_VARIABLE
from streamlit_app.queries.dbt_artifacts import read_json
from streamlit_app.refresh.dbt_output import (
    count_results,
    dbt_error,
    node_name,
    plain,
    progress_line,
)
from streamlit_app.refresh.runs import (
    FULL_BUILD,
    RefreshError,
    begin_run,
    busy_elsewhere,
    connect,
    record_outcome,
    refresh_dsn,
)

OUTPUT_LINES_KEPT = 200
ERROR_LINES_KEPT = 20


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
        line = plain(line)
        self.output.append(line)
        step = progress_line(line)
        if step is None:
            return
        if step.started:
            self.in_flight[step.index] = node_name(step.text)
        else:
            self.in_flight.pop(step.index, None)
        with self.lock:
            done = self.state.done + (not step.started)
            self.state = replace(
                self.state,
                phase="build",
                total=step.total,
                done=min(done, step.total),
                running_nodes=tuple(
                    self.in_flight[i] for i in sorted(self.in_flight)[-4:]
                ),
            )


_lock = threading.Lock()
_job: _Job | None = None


def latest() -> RefreshState | None:
    """The running refresh of this app process, else its last one (this database's)."""
    job = _job
    if job is None:
        return None
    state = job.snapshot()
    if state.database != describe_database(refresh_dsn()):
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
        dsn = refresh_dsn()
        env = build_env()
        target = warehouse.dbt_target_dir()
        lock_conn = connect(dsn)
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


def _begin(
    conn: psycopg.Connection,
    dsn: str,
    requested_by: str,
    full: bool,
    predictions: bool,
) -> _Job:
    """The job of a run begun in the database (under its refresh lock)."""
    begun = begin_run(conn, requested_by, full)
    return _Job(
        RefreshState(
            run_id=begun.run_id,
            requested_by=requested_by,
            selection=tuple(begun.selection),
            database=describe_database(dsn),
            predictions=predictions,
            started_at=begun.started_at,
        )
    )


def running_elsewhere() -> str | None:
    """A message when another app process is refreshing this database."""
    job = _job
    if job is not None and job.snapshot().running:
        return None
    return busy_elsewhere()


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


def _without_empty_user(process_env: dict[str, str]) -> dict[str, str]:
    """An empty PGUSER means "none" (each tool's default user): drop it."""
    if not process_env.get("PGUSER"):
        process_env.pop("PGUSER", None)
    return process_env


def _child_env(env: dict[str, str]) -> dict[str, str]:
    """db.child_env, where an empty PGUSER means "none" (each tool's default)."""
    return _without_empty_user(db.child_env(env))


def dbt_env(env: dict[str, str], target: Path) -> dict[str, str]:
    """What core.dbt_runner.run_dbt gives dbt, without colours (the progress is
    read from its log lines)."""
    process_env = _without_empty_user(dbt_runner.dbt_env(env, target))
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
        job.update(
            status="failed", errors=(f"The refresh failed: {one_line_or_name(exc)}",)
        )
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
    results = read_json(results_path) if _mtime(results_path) != before else None
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


# A refresh whose build succeeded and whose refit failed is recorded as a
# success (the marts are rebuilt: the edits need no new build) with this in its
# message; the page shows it as a warning, never as a plain success.
PREDICTIONS_NOT_REFITTED = "The predictions were not refitted"


def run_predictions(env: dict[str, str]) -> tuple[bool, str]:
    """`python -m predict --json` in a child process with the build credentials:
    (True, what was refitted) or (False, why the refit failed)."""
    process_env = _child_env(env) | {"NO_COLOR": "1", "TERM": "dumb"}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "predict", "--json"],
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
        return True, refitted_message(result.stdout, seconds)
    lines = [
        line.strip()
        for line in (result.stderr + result.stdout).splitlines()
        if line.strip()
    ]
    reason = plain(lines[-1]) if lines else f"exit code {result.returncode}"
    reason = reason.removeprefix("error: ").rstrip(".")
    return False, (
        f"{PREDICTIONS_NOT_REFITTED}: {reason}. The Predictions page still shows "
        "the previous fit."
    )


def refitted_message(output: str, seconds: float) -> str:
    """The refit's outcome: its time, and how many models fell back or were
    skipped (from the statuses `python -m predict --json` printed)."""
    text = f"Predictions refitted in {seconds:.0f} s."
    try:
        models = json.loads(output.strip().splitlines()[-1])["models"]
        counts = Counter(str(row["status"]) for row in models)
    except (ValueError, IndexError, KeyError, TypeError):
        return text
    notes = []
    if counts["fallback"]:
        notes.append(f"{counts['fallback']} fell back to a simpler model")
    if counts["skipped"]:
        notes.append(f"{counts['skipped']} could not be fitted")
    if notes:
        text += (
            f" Of {len(models)} models, "
            + " and ".join(notes)
            + ": the Predictions page says why."
        )
    return text


def shown_status(status: str, message: str | None) -> str:
    """A run's status as the page lists it: a success whose refit failed says so."""
    if status == "success" and PREDICTIONS_NOT_REFITTED in (message or ""):
        return "success, predictions not refitted"
    return status


def build_summary(state: RefreshState) -> str:
    """The build's outcome in words: models built, tests passed, time."""
    parts = [
        f"{state.models_built} models built",
        f"{state.tests_passed} tests passed",
    ]
    if state.warnings:
        parts.append(f"{state.warnings} warnings")
    return ", ".join(parts) + f" in {state.elapsed_seconds:.0f} s."


def summary(state: RefreshState) -> str:
    """The run's outcome in words (also stored in app.refresh_runs.message): the
    build's, then the refit's (a failed refit is named, see
    PREDICTIONS_NOT_REFITTED)."""
    if state.status == "failed":
        if not state.errors:
            return "The refresh failed."
        return "\n".join(state.errors)
    text = build_summary(state)
    if state.predictions_message:
        text += " " + state.predictions_message
    return text


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
        record_outcome(lock_conn, dsn, params)
    except (psycopg.Error, WarehouseError) as exc:
        job.update(
            message=state.message + f" (not recorded: {one_line_or_name(exc)})",
        )
    finally:
        lock_conn.close()
