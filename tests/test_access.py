"""Accounts, sign-in and the least-privilege database roles, on a real server."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest
from conftest import point_app_at

from core import accounts, db, sign_in
from core.errors import EcomError
from core.schema import apply_schema
from loader.load import TABLES as RAW_TABLES
from streamlit_app import launch


def ecom(
    env: dict[str, str], *args: str, stdin: str = ""
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=db.child_env(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def schema_db(fresh_db) -> dict[str, str]:
    with db.connect(fresh_db) as conn:
        apply_schema(conn)
    return fresh_db


def as_role(env: dict[str, str], role: str) -> psycopg.Connection:
    return db.connect(env | {"PGUSER": role, "PGPASSWORD": ""}, autocommit=True)


def refused(conn: psycopg.Connection, statement: str) -> bool:
    try:
        conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


def seed_rows(env: dict[str, str]) -> None:
    """One row per raw table, written as a bulk load would (no audit)."""
    with db.connect(env) as conn, conn.transaction():
        conn.execute("set local ecom.bulk_load = on")
        conn.execute(
            "insert into raw.regions (region_id, region_name) values (1, 'North')"
        )
        conn.execute(
            "insert into raw.channels (channel_id, channel_name, channel_type)"
            " values (1, 'Web', 'online')"
        )
        conn.execute(
            "insert into raw.customers (customer_id, first_name, last_name, email,"
            " country_code, region_id, segment, acquisition_channel_id, signup_at)"
            " values (1, 'Ada', 'Lovelace', 'ada@example.com', 'GB', 1, 'consumer',"
            " 1, '2024-01-01')"
        )


# ---------------------------------------------------------------------- accounts


def test_passwords_are_hashed_and_checked(schema_db):
    with db.connect(schema_db) as conn:
        accounts.add_user(conn, "erin", "correct horse", "editor")
        stored = conn.execute(
            "select password_hash from app.users where username = 'erin'"
        ).fetchone()[0]
        assert stored.startswith("$argon2id$") and "correct horse" not in stored
        user = sign_in.authenticate(conn, "Erin ", "correct horse")
        assert (user.username, user.role, user.can_edit, user.is_admin) == (
            "erin",
            "editor",
            True,
            False,
        )
        for name, password in (("erin", "wrong password"), ("nobody", "x" * 10)):
            with pytest.raises(EcomError, match="unknown username or wrong password"):
                sign_in.authenticate(conn, name, password)
        accounts.set_active(conn, "erin", False)
        with pytest.raises(EcomError, match="disabled"):
            sign_in.authenticate(conn, "erin", "correct horse")


@pytest.mark.parametrize(
    ("username", "password", "role", "message"),
    [
        ("Bad Name", "long enough", "viewer", "username"),
        ("x", "long enough", "viewer", "username"),
        ("ok_name", "short", "viewer", "password: use at least 8"),
        ("ok_name", "nul\x00inside", "viewer", "password: must not contain"),
        ("ok_name", "long enough", "owner", "role: 'owner' is not one of"),
    ],
)
def test_account_input_is_checked(schema_db, username, password, role, message):
    with db.connect(schema_db) as conn:
        with pytest.raises(EcomError, match=message):
            accounts.add_user(conn, username, password, role)
        assert accounts.list_users(conn) == []


def test_users_cli_add_list_disable(schema_db):
    added = ecom(schema_db, "users", "add", "carol", "--role", "admin")
    assert added.returncode == 0, added.stderr
    password = added.stdout.split("password: ")[1].split()[0]
    with db.connect(schema_db) as conn:
        assert sign_in.authenticate(conn, "carol", password).role == "admin"

    typed = ecom(
        schema_db, "users", "add", "dave", "--password-stdin", stdin="s3cret-pass\n"
    )
    assert typed.returncode == 0, typed.stderr
    assert "s3cret-pass" not in typed.stdout and "password:" not in typed.stdout

    again = ecom(schema_db, "users", "add", "dave", "--password-stdin", stdin="x" * 9)
    assert again.returncode == 1
    assert again.stderr.strip() == "error: username: 'dave' exists already"

    listed = ecom(schema_db, "users", "list")
    assert "carol" in listed.stdout and "dave" in listed.stdout
    assert "viewer" in listed.stdout and "s3cret" not in listed.stdout

    assert ecom(schema_db, "users", "disable", "dave").returncode == 0
    with db.connect(schema_db) as conn, pytest.raises(EcomError, match="disabled"):
        sign_in.authenticate(conn, "dave", "s3cret-pass")
    missing = ecom(schema_db, "users", "disable", "nobody")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "error: username: no account named 'nobody'"


def test_demo_admin_password_is_printed_once(schema_db, capsys):
    from cli import app_commands as cli

    cli._demo_admin(schema_db)
    first = capsys.readouterr().out
    assert "username admin, password" in first
    password = first.split("password ")[1].split()[0]
    with db.connect(schema_db) as conn:
        assert sign_in.authenticate(conn, "admin", password).is_admin
    cli._demo_admin(schema_db)
    second = capsys.readouterr().out
    assert password not in second and "--reset" in second


# ------------------------------------------------------------------------- roles


def test_roles_exist_and_the_app_connects_as_ecom_app(schema_db):
    with db.connect(schema_db) as conn:
        assert db.app_roles(conn) == ["ecom_app", "ecom_dbt", "ecom_loader"]
    env = launch.database_env(schema_db)
    assert env["PGUSER"] == "ecom_app"
    assert env[launch.BUILD_USER_VARIABLE] == schema_db.get("PGUSER", "")
    with db.connect(env) as conn:
        assert conn.execute("select current_user").fetchone()[0] == "ecom_app"


def test_app_role_may_edit_raw_and_nothing_else(schema_db):
    seed_rows(schema_db)
    with db.connect(schema_db, autocommit=True) as conn:
        conn.execute("create schema staging")
        conn.execute("create table staging.secret (x int)")
        conn.execute("create schema marts")
        conn.execute("create table marts.not_granted (x int)")
    with as_role(schema_db, "ecom_app") as conn:
        # what it may do
        assert conn.execute("select count(*) from raw.customers").fetchone() == (1,)
        conn.execute(
            "insert into raw.regions (region_id, region_name)"
            " values (nextval('raw.regions_app_id_seq'), 'South')"
        )
        conn.execute("update raw.customers set city = 'London' where customer_id = '1'")
        conn.execute("select count(*) from app.audit_log").fetchone()
        # DDL, truncate, hard-deleting orders, other schemas, the audit trail
        forbidden = [
            "create table raw.extra (x int)",
            "create table public.extra (x int)",
            "create table app.extra (x int)",
            "create schema extra",
            "alter table raw.customers add column note text",
            "alter table raw.customers disable trigger audit_row_change",
            "drop table raw.regions",
            "create index on raw.customers (city)",
            "delete from raw.orders",
            "select * from raw.load_batches",
            "select * from raw.load_rejects",
            "select * from staging.secret",
            "select * from marts.not_granted",
            "insert into app.audit_log (table_name, row_key, action, changed_by,"
            " database_role) values ('x', '{}', 'insert', 'x', 'x')",
            "update app.audit_log set changed_by = 'someone else'",
            "delete from app.audit_log",
            "set session_replication_role = replica",
            "create or replace function raw.f() returns int language sql as 'select 1'",
        ]
        forbidden += [f"truncate raw.{table}" for table in RAW_TABLES]
        allowed = [statement for statement in forbidden if not refused(conn, statement)]
        assert allowed == []
        # setting the loader's flag does not hide an edit from the audit trail
        conn.execute("set ecom.bulk_load = on")
        conn.execute("update raw.customers set city = 'Paris' where customer_id = '1'")
    with db.connect(schema_db) as conn:
        rows = conn.execute(
            "select table_name, action, changed_by, new_values ->> 'city'"
            " from app.audit_log order by audit_id"
        ).fetchall()
    assert rows == [
        ("regions", "insert", "ecom_app", None),
        ("customers", "update", "ecom_app", "London"),
        ("customers", "update", "ecom_app", "Paris"),
    ]


def test_dbt_and_loader_roles(schema_db):
    seed_rows(schema_db)
    with as_role(schema_db, "ecom_dbt") as conn:
        assert conn.execute("select count(*) from raw.customers").fetchone() == (1,)
        assert refused(conn, "update raw.customers set city = 'x'")
        assert refused(conn, "truncate raw.customers")
        conn.execute("create schema dbt_scratch")  # dbt builds its own schemas
        conn.execute("create table dbt_scratch.t as select 1 as x")
    with as_role(schema_db, "ecom_loader") as conn:
        conn.execute(
            "insert into raw.regions (region_id, region_name) values (7, 'West')"
        )
        assert refused(conn, "select * from dbt_scratch.t")
        assert refused(conn, "create schema loader_scratch")
        assert refused(conn, "delete from raw.regions")


def test_bulk_loads_are_not_audited_but_edits_are(schema_db):
    seed_rows(schema_db)
    with db.connect(schema_db) as conn:
        assert conn.execute("select count(*) from app.audit_log").fetchone() == (0,)
        with conn.transaction():
            conn.execute("select set_config('ecom.app_user', 'erin', true)")
            conn.execute("update raw.regions set region_name = 'Nord'")
        row = conn.execute(
            "select row_key, action, old_values ->> 'region_name',"
            " new_values ->> 'region_name', changed_by, database_role"
            " from app.audit_log"
        ).fetchone()
        updated_at = conn.execute("select updated_at from raw.regions").fetchone()[0]
        old = conn.execute(
            "select (old_values ->> 'updated_at')::timestamptz from app.audit_log"
        ).fetchone()[0]
    assert row[:5] == ({"region_id": "1"}, "update", "North", "Nord", "erin")
    assert updated_at > old  # the row version moved


def test_marts_are_readable_by_the_app_after_a_build(built_warehouse):
    env = built_warehouse["env"]
    with as_role(env, "ecom_app") as conn:
        orders = conn.execute("select count(*) from marts.fct_orders").fetchone()[0]
        assert orders > 0
        assert refused(conn, "select count(*) from staging.stg_shop__orders")
        assert refused(conn, "select count(*) from snapshots.snap_products")
        assert refused(conn, "drop table marts.fct_orders")
        assert refused(
            conn, "insert into marts.dim_regions select * from marts.dim_regions"
        )
        assert refused(conn, "truncate marts.fct_orders")


# ------------------------------------------------------------------ in the app


def app_test():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(launch.APP_SCRIPT), default_timeout=60)


def sign_in_form(at, username: str, password: str) -> None:
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click().run()


def test_sign_in_roles_and_sign_out(schema_db, monkeypatch):
    point_app_at(monkeypatch, schema_db)
    with db.connect(schema_db) as conn:
        accounts.add_user(conn, "vera", "viewer-pass", "viewer")
        accounts.add_user(conn, "eddie", "editor-pass", "editor")

    at = app_test().run()
    assert [t.value for t in at.title] == ["Sign in"]
    assert not at.info  # accounts exist: no hint how to create one
    sign_in_form(at, "vera", "not her password")
    assert [e.value for e in at.error] == ["unknown username or wrong password"]
    assert "user" not in at.session_state

    sign_in_form(at, "vera", "viewer-pass")
    assert at.session_state["user"].username == "vera"
    assert not at.exception
    # a viewer's navigation has no editing pages
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/edit_customers.py")

    # disabling the account ends the session at the next page view
    with db.connect(schema_db) as conn:
        accounts.set_active(conn, "vera", False)
    at.run()
    assert [t.value for t in at.title] == ["Sign in"]

    at = app_test().run()
    sign_in_form(at, "eddie", "editor-pass")
    at.switch_page("views/edit_customers.py").run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/accounts.py")
    with db.connect(schema_db) as conn:
        sessions = conn.execute("select username from app.sessions").fetchall()
    assert sessions == [("eddie",)]  # vera's ended when her account was disabled
    at.button(key="sign_out").click().run()
    assert [t.value for t in at.title] == ["Sign in"]
    with db.connect(schema_db) as conn:
        assert conn.execute(
            "select count(*) from app.sessions where username = 'eddie'"
        ).fetchone() == (0,)


def test_sign_in_page_says_how_to_create_the_first_account(schema_db, monkeypatch):
    point_app_at(monkeypatch, schema_db)
    at = app_test().run()
    assert [t.value for t in at.title] == ["Sign in"]
    assert "ecom users add NAME --role admin" in at.info[0].value
    sign_in_form(at, "anyone", "any password")
    assert [e.value for e in at.error] == ["unknown username or wrong password"]


def test_session_tokens(schema_db):
    with db.connect(schema_db) as conn:
        accounts.add_user(conn, "tina", "tina-password", "editor")
        token = sign_in.start_session(conn, "tina")
        stored = conn.execute("select token_sha256 from app.sessions").fetchone()[0]
        assert token not in stored and len(stored) == 64
        assert sign_in.session_user(conn, token) == accounts.User("tina", "editor")
        assert sign_in.session_user(conn, token + "x") is None
        accounts.set_active(conn, "tina", False)
        assert sign_in.session_user(conn, token) is None
        accounts.set_active(conn, "tina", True)
        sign_in.end_session(conn, token)
        assert sign_in.session_user(conn, token) is None


def test_admin_manages_accounts_in_the_app(schema_db, monkeypatch):
    point_app_at(monkeypatch, schema_db)
    with db.connect(schema_db) as conn:
        admin = accounts.add_user(conn, "ann", "admin-pass", "admin")
    at = app_test()
    at.session_state["user"] = admin
    at.run()
    at.switch_page("views/accounts.py").run()
    assert not at.exception
    form_inputs = [t for t in at.text_input if t.label == "Username"]
    form_inputs[0].input("new.editor")
    at.selectbox[0].select("editor")
    at.button[0].click().run()
    assert not at.exception and not at.error
    shown = [c.value for c in at.code]
    assert len(shown) == 1
    with db.connect(schema_db) as conn:
        assert sign_in.authenticate(conn, "new.editor", shown[0]).role == "editor"


def test_loader_and_dbt_do_their_jobs_as_their_own_roles(fresh_db, tmp_path):
    """`ecom db init` as the owner; then the loader as ecom_loader (dirty rows
    included) and dbt as ecom_dbt; the app's role reads the result."""
    from core.dbt_runner import run_dbt
    from loader.generate import generate
    from loader.load import load_directory

    with db.connect(fresh_db) as conn:
        apply_schema(conn)
    data_dir = tmp_path / "data"
    manifest = generate(data_dir, scale=0.02, seed=5, dirty_rate=0.01)
    results = load_directory(fresh_db | {"PGUSER": "ecom_loader"}, data_dir)
    loaded = {table: 0 for table in RAW_TABLES}
    for result in results:
        loaded[result.table] += result.rows_loaded
    with db.connect(fresh_db) as conn:
        for table in RAW_TABLES:
            count = conn.execute(f"select count(*) from raw.{table}").fetchone()[0]
            assert count == loaded[table] > 0, table
        rejected = conn.execute("select count(*) from raw.load_rejects").fetchone()[0]
        assert rejected == len(manifest["injected"])
        # a bulk load is not an edit
        assert conn.execute("select count(*) from app.audit_log").fetchone() == (0,)

    built = run_dbt(
        ["build"],
        fresh_db | {"PGUSER": "ecom_dbt"},
        target_path=tmp_path / "target",
        capture=True,
    )
    assert built.returncode == 0, built.stdout[-3000:]
    with as_role(fresh_db, "ecom_app") as conn:
        orders = conn.execute("select count(*) from marts.fct_orders").fetchone()[0]
        assert orders > 0
    with db.connect(fresh_db) as conn:
        owner = conn.execute(
            "select tableowner from pg_tables"
            " where schemaname = 'marts' and tablename = 'fct_orders'"
        ).fetchone()
    assert owner == ("ecom_dbt",)
