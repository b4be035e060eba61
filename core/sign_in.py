"""Signing in to the app: checking a password (throttled after repeated
failures, every attempt recorded) and the sessions a browser keeps.

- **Throttling.** After MAX_ACCOUNT_FAILURES failed sign-ins of one account, or
  MAX_CLIENT_FAILURES from one client, within THROTTLE_MINUTES, further attempts
  are refused without checking the password until the window has passed. Every
  attempt, failed or not, is a row of `app.sign_in_attempts`.
- **Sessions.** A session is a random token kept by the browser; the database
  stores only its SHA-256, the account and the client it was issued to. A token
  presented by another client (address and browser) is refused, so a token that
  leaks out of the browser is of no use elsewhere. Signing out ends the session
  for every tab; a password reset or disabling ends every session of the account
  (core.accounts).
"""

from __future__ import annotations

import hashlib
import math
import secrets

import psycopg
from argon2.exceptions import InvalidHashError, VerificationError

from core.accounts import User, hasher
from core.errors import EcomError

SESSION_HOURS = 12
THROTTLE_MINUTES = 15
MAX_ACCOUNT_FAILURES = 5
MAX_CLIENT_FAILURES = 20
_DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))


def authenticate(
    conn: psycopg.Connection, username: str, password: str, client: str = ""
) -> User:
    """The account when the password matches; EcomError otherwise.

    The message is the same for an unknown name and a wrong password, and a
    hash is verified either way, so neither answer nor timing tells them apart.
    `client` (e.g. the browser's address) is what throttling counts per client.
    """
    name = (username or "").strip().lower()[:60]
    _refuse_when_throttled(conn, name, client)
    row = conn.execute(
        "select username, role, is_active, password_hash from app.users "
        "where username = %s",
        [name],
    ).fetchone()
    digest = row[3] if row else _DUMMY_HASH
    try:
        hasher.verify(digest, password or "")
        matched = row is not None
    except (VerificationError, InvalidHashError):
        matched = False
    _record_attempt(conn, name, client, matched)
    if not matched:
        raise EcomError("unknown username or wrong password")
    if not row[2]:
        raise EcomError("this account is disabled; ask an admin")
    return User(row[0], row[1], row[2])


def _refuse_when_throttled(conn: psycopg.Connection, name: str, client: str) -> None:
    """EcomError when the account or the client failed too often lately: the
    failures since the account's last success (or in the window) count."""
    by_account, by_client = conn.execute(
        """
        with recent as (
            select username, client, succeeded, attempted_at
            from app.sign_in_attempts
            where attempted_at > now() - make_interval(mins => %(minutes)s)
        ),

        last_success as (
            select max(attempted_at) as at
            from recent
            where username = %(name)s and succeeded
        )

        select count(*), min(attempted_at)
        from recent
        where username = %(name)s and not succeeded
          and attempted_at > coalesce((select at from last_success), '-infinity')
        union all
        select count(*), min(attempted_at)
        from recent
        where client = %(client)s and %(client)s <> '' and not succeeded
        """,
        {"minutes": THROTTLE_MINUTES, "name": name, "client": client},
    ).fetchall()
    for (failures, oldest), limit in (
        (by_account, MAX_ACCOUNT_FAILURES),
        (by_client, MAX_CLIENT_FAILURES),
    ):
        if failures >= limit:
            waited = conn.execute("select now() - %s", [oldest]).fetchone()[0]
            left = THROTTLE_MINUTES * 60 - waited.total_seconds()
            minutes = max(1, math.ceil(left / 60))
            raise EcomError(
                "too many failed sign-ins; try again in "
                f"{minutes} minute{'s' if minutes > 1 else ''}"
            )


def _record_attempt(
    conn: psycopg.Connection, name: str, client: str, succeeded: bool
) -> None:
    with conn.transaction():
        conn.execute(
            "insert into app.sign_in_attempts (username, client, succeeded)"
            " values (%s, %s, %s)",
            [name, client[:200], succeeded],
        )


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(conn: psycopg.Connection, username: str, client: str = "") -> str:
    """A new sign-in token for a browser cookie (valid SESSION_HOURS), bound to
    the client it is issued to."""
    token = secrets.token_urlsafe(32)
    with conn.transaction():
        conn.execute("delete from app.sessions where expires_at < now()")
        conn.execute(
            "insert into app.sessions (token_sha256, username, client, expires_at)"
            " values (%s, %s, %s, now() + make_interval(hours => %s))",
            [_token_digest(token), username, client[:200], SESSION_HOURS],
        )
    return token


def session_user(conn: psycopg.Connection, token: str, client: str = "") -> User | None:
    """The active account of a valid, unexpired token, presented by the client
    it was issued to."""
    row = conn.execute(
        """
        select u.username, u.role, u.is_active
        from app.sessions as s
        inner join app.users as u on s.username = u.username
        where s.token_sha256 = %s and s.expires_at > now() and u.is_active
          and s.client = %s
        """,
        [_token_digest(token), client[:200]],
    ).fetchone()
    return User(*row) if row else None


def end_session(conn: psycopg.Connection, token: str) -> None:
    """Sign out: the session ends for every tab that holds its token."""
    with conn.transaction():
        conn.execute(
            "delete from app.sessions where token_sha256 = %s", [_token_digest(token)]
        )
