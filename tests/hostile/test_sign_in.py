"""Sign-in throttling and sessions, on a real database: repeated failures lock
an account (and a client) out for a while even with the right password, every
attempt is recorded, and sessions end everywhere on a reset, a disable or a
sign-out, and never serve another client."""

from __future__ import annotations

import pytest

from core import accounts, db, sign_in
from core.errors import EcomError
from core.schema import apply_schema


@pytest.fixture
def schema_db(fresh_db) -> dict[str, str]:
    with db.connect(fresh_db) as conn:
        apply_schema(conn)
        accounts.add_user(conn, "sam", "right-password", "editor")
        accounts.add_user(conn, "kim", "kims-password", "viewer")
    return fresh_db


def _fail(conn, username: str, client: str = "10.0.0.1 ua", times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(EcomError, match="unknown username or wrong password"):
            sign_in.authenticate(conn, username, "wrong-password", client)


def test_repeated_failures_lock_the_account_even_with_the_right_password(schema_db):
    with db.connect(schema_db, autocommit=True) as conn:
        _fail(conn, "sam", times=sign_in.MAX_ACCOUNT_FAILURES)
        with pytest.raises(EcomError, match="too many failed sign-ins; try again in"):
            sign_in.authenticate(conn, "sam", "right-password", "10.0.0.2 other")
        # another account is not locked by sam's failures
        assert sign_in.authenticate(conn, "kim", "kims-password", "10.0.0.2 other")
        recorded = conn.execute(
            "select username, succeeded, count(*) from app.sign_in_attempts"
            " group by 1, 2 order by 1, 2"
        ).fetchall()
    assert recorded == [
        ("kim", True, 1),
        ("sam", False, sign_in.MAX_ACCOUNT_FAILURES),
    ]


def test_a_success_resets_the_account_count(schema_db):
    with db.connect(schema_db, autocommit=True) as conn:
        _fail(conn, "sam", times=sign_in.MAX_ACCOUNT_FAILURES - 1)
        assert sign_in.authenticate(conn, "sam", "right-password", "10.0.0.1 ua")
        _fail(conn, "sam", times=sign_in.MAX_ACCOUNT_FAILURES - 1)
        assert sign_in.authenticate(conn, "sam", "right-password", "10.0.0.1 ua")


def test_one_client_trying_many_accounts_is_throttled(schema_db):
    with db.connect(schema_db, autocommit=True) as conn:
        for n in range(sign_in.MAX_CLIENT_FAILURES):
            _fail(conn, f"guess{n}", client="10.9.9.9 bot")
        with pytest.raises(EcomError, match="too many failed sign-ins"):
            sign_in.authenticate(conn, "kim", "kims-password", "10.9.9.9 bot")
        # the same account from another client still signs in
        assert sign_in.authenticate(conn, "kim", "kims-password", "10.0.0.5 ua")


def test_a_failed_window_expires(schema_db):
    with db.connect(schema_db, autocommit=True) as conn:
        _fail(conn, "sam", times=sign_in.MAX_ACCOUNT_FAILURES)
        conn.execute(
            "update app.sign_in_attempts set attempted_at = attempted_at"
            " - make_interval(mins => %s)",
            [sign_in.THROTTLE_MINUTES + 1],
        )
        assert sign_in.authenticate(conn, "sam", "right-password", "10.0.0.1 ua")


def test_a_reset_or_disable_ends_every_session(schema_db):
    with db.connect(schema_db, autocommit=True) as conn:
        tokens = [sign_in.start_session(conn, "sam", "c1") for _ in range(2)]
        accounts.add_user(conn, "sam", "a-new-password", "editor", replace=True)
        assert all(sign_in.session_user(conn, t, "c1") is None for t in tokens)
        token = sign_in.start_session(conn, "sam", "c1")
        accounts.set_active(conn, "sam", False)
        accounts.set_active(conn, "sam", True)
        assert sign_in.session_user(conn, token, "c1") is None


def test_a_session_serves_only_its_client_and_ends_on_sign_out(schema_db):
    with db.connect(schema_db, autocommit=True) as conn:
        token = sign_in.start_session(conn, "sam", "10.0.0.1 ua")
        assert sign_in.session_user(conn, token, "10.0.0.1 ua").username == "sam"
        assert sign_in.session_user(conn, token, "10.6.6.6 ua") is None
        assert sign_in.session_user(conn, token, "10.0.0.1 other-browser") is None
        sign_in.end_session(conn, token)
        assert sign_in.session_user(conn, token, "10.0.0.1 ua") is None


def test_the_app_role_may_record_attempts_but_not_erase_them(schema_db):
    app_login = schema_db | {"PGUSER": "ecom_app", "PGPASSWORD": ""}
    with db.connect(schema_db) as conn:
        if "ecom_app" not in db.app_roles(conn):
            pytest.skip("this login may not create the ecom_* roles")
    with db.connect(app_login, autocommit=True) as conn:
        _fail(conn, "sam")
        with pytest.raises(Exception, match="permission denied"):
            conn.execute("delete from app.sign_in_attempts")
