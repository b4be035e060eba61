"""The `ecom` command: connection helpers and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg

from core import db


def ecom(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=db.child_env(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_db_url_and_env_reach_the_same_database(fresh_db):
    url = ecom(fresh_db, "db", "url")
    assert url.returncode == 0
    with psycopg.connect(url.stdout.strip()) as conn:
        assert (
            conn.execute("select current_database()").fetchone()[0]
            == (fresh_db["PGDATABASE"])
        )
    exports = ecom(fresh_db, "db", "env").stdout
    assert f"export PGDATABASE='{fresh_db['PGDATABASE']}'" in exports
    assert "export DBT_PROFILES_DIR=" in exports


def test_db_status_and_psql(fresh_db):
    status = ecom(fresh_db, "db", "status")
    assert status.returncode == 0 and "status: running" in status.stdout
    psql = ecom(fresh_db, "db", "psql", "-tAc", "select 40 + 2")
    assert psql.returncode == 0 and psql.stdout.strip() == "42"


def test_user_errors_are_one_line(fresh_db, tmp_path):
    cases = [
        (("generate", "--start", "2024-99-01", "--out", str(tmp_path)), "--start"),
        (("generate", "--append-days", "2", "--out", str(tmp_path / "none")), "none"),
        (("load", str(tmp_path / "missing")), "no such directory"),
    ]
    for args, needle in cases:
        result = ecom(fresh_db, *args)
        assert result.returncode == 1, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        assert needle in lines[0]


def test_unreachable_database_is_one_line(fresh_db):
    down = fresh_db | {"PGHOST": "127.0.0.1", "PGPORT": "1"}
    result = ecom(down, "db", "status")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: cannot connect to PostgreSQL")
    assert "Traceback" not in result.stderr


def test_a_new_embedded_server_starts_with_the_analytics_settings(tmp_path):
    """A new data folder gets ecom.conf before its first start, so the server
    never runs with PostgreSQL's defaults (128 MB of shared buffers)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.pop("DATABASE_URL", None)
    env["ECOM_PGDATA"] = str(tmp_path / "pgdata")

    def run(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "cli.main", *args]
        return subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=120
        )

    checks = []
    for name, value in db.server_settings().items():
        if value.endswith(("MB", "GB")):
            checks.append(
                f"pg_size_bytes(current_setting('{name}')) = pg_size_bytes('{value}')"
            )
        else:
            checks.append(f"current_setting('{name}') = '{value}'")
    try:
        started = run("db", "start")
        assert started.returncode == 0, started.stderr
        shown = run("db", "psql", "-tAc", "select " + " and ".join(checks))
        assert shown.stdout.strip() == "t", shown.stdout + shown.stderr
    finally:
        run("db", "stop")
