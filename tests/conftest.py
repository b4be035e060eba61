"""Shared fixtures: a real PostgreSQL (embedded by default, or the server named by
the libpq variables) and one throw-away database per test module or test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from core import db


@pytest.fixture(scope="session")
def pg_env() -> dict[str, str]:
    """libpq variables of the server under test (started on demand)."""
    return db.connection_env()


def _create_database(base_env: dict[str, str], prefix: str) -> dict[str, str]:
    return db.create_database(base_env, f"{prefix}_{uuid.uuid4().hex[:10]}")


def _drop_database(base_env: dict[str, str], name: str) -> None:
    db.drop_database(base_env, name)


@pytest.fixture
def fresh_db(pg_env) -> Iterator[dict[str, str]]:
    """An empty database for one test; dropped afterwards."""
    env = _create_database(pg_env, "ecom_test")
    yield env
    _drop_database(pg_env, env["PGDATABASE"])


@pytest.fixture(scope="module")
def module_db(pg_env) -> Iterator[dict[str, str]]:
    """An empty database shared by the tests of one module."""
    env = _create_database(pg_env, "ecom_mod")
    yield env
    _drop_database(pg_env, env["PGDATABASE"])


def build_warehouse(
    pg_env: dict[str, str],
    tmp_path_factory,
    prefix: str,
    *,
    scale: float,
    seed: int,
    dirty_rate: float = 0.0,
) -> dict:
    """Generate data, load it into a new database and `dbt build` it (into a
    target folder of its own). Drop the database with `db.drop_database`."""
    from core.dbt_runner import run_dbt
    from loader.generate import generate
    from loader.load import load_directory

    env = _create_database(pg_env, prefix)
    data_dir = tmp_path_factory.mktemp(f"{prefix}_data")
    manifest = generate(data_dir, scale=scale, seed=seed, dirty_rate=dirty_rate)
    load_directory(env, data_dir)
    target = tmp_path_factory.mktemp(f"{prefix}_target")
    result = run_dbt(["build"], env, target_path=target, capture=True)
    assert result.returncode == 0, result.stdout[-5000:]
    return {
        "env": env,
        "data_dir": data_dir,
        "manifest": manifest,
        "target_path": target,
        "build_output": result.stdout,
    }


@pytest.fixture(scope="session")
def built_warehouse(pg_env, tmp_path_factory) -> Iterator[dict]:
    """Generated data (scale 0.2, 0.2 % dirty rows) loaded into a fresh database and
    `dbt build` run.

    Read-only for the tests that use it: a test that edits data makes its own
    (`build_warehouse`).
    """
    warehouse = build_warehouse(
        pg_env, tmp_path_factory, "ecom_wh", scale=0.2, seed=7, dirty_rate=0.002
    )
    yield warehouse
    _drop_database(pg_env, warehouse["env"]["PGDATABASE"])


def app_account(env: dict[str, str], role: str = "viewer"):
    """An account of the app (`<role>_tester`) in env's database, for AppTest:
    put it in `at.session_state["user"]` to be signed in."""
    from core import accounts
    from core.schema import apply_schema

    with db.connect(env) as conn:
        apply_schema(conn)
        return accounts.add_user(
            conn, f"{role}_tester", "tester-password", role, replace=True
        )


def signed_in_viewer(monkeypatch, env: dict[str, str], target=None, account=True):
    """Point the app at env (see point_app_at) and return a viewer to sign in
    with: an account in env's database, or, when `account` is False (the
    database cannot be reached), a viewer that exists nowhere."""
    from core.accounts import User

    user = app_account(env) if account else User("viewer_tester", "viewer")
    point_app_at(monkeypatch, env, target)
    return user


LIBPQ = ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "DATABASE_URL")


def point_app_at(monkeypatch, env: dict[str, str], target=None) -> None:
    """AppTest (and the editing layer, refresh) run in this process: set its libpq
    variables to env's, without the launcher's build credentials, and the dbt
    target folder the dashboards read (none by default)."""
    from streamlit_app import launch
    from streamlit_app import warehouse as wh

    build = (launch.BUILD_USER_VARIABLE, launch.BUILD_PASSWORD_VARIABLE)
    for name in (*LIBPQ, *build):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    no_target = Path(__file__).resolve().parent.parent / "no-dbt-target"
    monkeypatch.setenv(wh.DBT_TARGET_VARIABLE, str(target or no_target))
    wh.clear_cache()


def query(env: dict[str, str], statement: str, params=None) -> list[tuple]:
    """Run one query in its own connection and return all rows."""
    with db.connect(env) as conn:
        return conn.execute(statement, params).fetchall()


@pytest.fixture
def sql_query():
    return query


__all__ = ["psycopg", "query"]
