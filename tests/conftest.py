"""Shared fixtures: a real PostgreSQL (embedded by default, or the server named by
the libpq variables) and one throw-away database per test module or test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from loader import db


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


@pytest.fixture(scope="session")
def built_warehouse(pg_env, tmp_path_factory) -> Iterator[dict]:
    """Generated data (scale 0.2, 0.2 % dirty rows) loaded into a fresh database and
    `dbt build` run.

    Read-only for the tests that use it: a test that edits data makes its own.
    """
    from loader.dbt_runner import run_dbt
    from loader.generate import generate
    from loader.load import load_directory

    env = _create_database(pg_env, "ecom_wh")
    data_dir = tmp_path_factory.mktemp("data")
    manifest = generate(data_dir, scale=0.2, seed=7, dirty_rate=0.002)
    load_directory(env, data_dir)
    target = tmp_path_factory.mktemp("dbt_target")
    result = run_dbt(["build"], env, target_path=target, capture=True)
    assert result.returncode == 0, result.stdout[-5000:]
    yield {
        "env": env,
        "data_dir": data_dir,
        "manifest": manifest,
        "target_path": target,
        "build_output": result.stdout,
    }
    _drop_database(pg_env, env["PGDATABASE"])


def app_account(env: dict[str, str], role: str = "viewer"):
    """An account of the app (`<role>_tester`) in env's database, for AppTest:
    put it in `at.session_state["user"]` to be signed in."""
    from loader import accounts
    from loader.load import apply_schema

    with db.connect(env) as conn:
        apply_schema(conn)
        return accounts.add_user(
            conn, f"{role}_tester", "tester-password", role, replace=True
        )


def query(env: dict[str, str], statement: str, params=None) -> list[tuple]:
    """Run one query in its own connection and return all rows."""
    with db.connect(env) as conn:
        return conn.execute(statement, params).fetchall()


@pytest.fixture
def sql_query():
    return query


__all__ = ["psycopg", "query"]
