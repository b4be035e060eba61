"""Local accounts of the app: viewer (dashboards), editor (+ editing pages) and
admin (+ audit trail and accounts).

Passwords are hashed with argon2 (argon2-cffi); only the hash is stored, in
`app.users`. Used by `ecom users ...`, `ecom demo` and the app's sign-in.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from psycopg import sql

from core.errors import EcomError

ROLES = ("viewer", "editor", "admin")
USERNAME_PATTERN = re.compile(r"^[a-z0-9_.-]{2,60}$")
MIN_PASSWORD_LENGTH = 8
SESSION_HOURS = 12
_hasher = PasswordHasher()


@dataclass(frozen=True)
class User:
    """A signed-in (or listed) account."""

    username: str
    role: str
    is_active: bool = True

    @property
    def can_edit(self) -> bool:
        return self.role in ("editor", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def check_username(username: str) -> str:
    if not USERNAME_PATTERN.match(username or ""):
        raise EcomError(
            "username: use 2 to 60 lowercase letters, digits, '.', '_' or '-'"
        )
    return username


def check_role(role: str) -> str:
    if role not in ROLES:
        raise EcomError(f"role: {role!r} is not one of {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise EcomError(f"password: use at least {MIN_PASSWORD_LENGTH} characters")
    if "\x00" in password:
        raise EcomError("password: must not contain a NUL character")
    return password


def new_password() -> str:
    """A random password for a new account (about 96 bits)."""
    return secrets.token_urlsafe(12)


def add_user(
    conn: psycopg.Connection,
    username: str,
    password: str,
    role: str,
    *,
    replace: bool = False,
) -> User:
    """Create an account; with `replace`, reset the password and role of an
    existing one (and re-enable it)."""
    check_username(username)
    check_role(role)
    check_password(password)
    digest = _hasher.hash(password)
    with conn.transaction():
        if replace:
            row = conn.execute(
                """
                insert into app.users (username, password_hash, role)
                values (%s, %s, %s)
                on conflict (username) do update
                set password_hash = excluded.password_hash, role = excluded.role,
                    is_active = true, updated_at = now()
                returning username, role, is_active
                """,
                [username, digest, role],
            ).fetchone()
        else:
            row = conn.execute(
                """
                insert into app.users (username, password_hash, role)
                values (%s, %s, %s)
                on conflict (username) do nothing
                returning username, role, is_active
                """,
                [username, digest, role],
            ).fetchone()
            if row is None:
                raise EcomError(f"username: {username!r} exists already")
    return User(*row)


def list_users(conn: psycopg.Connection) -> list[User]:
    rows = conn.execute(
        "select username, role, is_active from app.users order by username"
    ).fetchall()
    return [User(*row) for row in rows]


def set_active(conn: psycopg.Connection, username: str, active: bool) -> User:
    """Disable (or re-enable) an account; its sessions end at their next page."""
    return _update(conn, username, "is_active", active)


def set_role(conn: psycopg.Connection, username: str, role: str) -> User:
    return _update(conn, username, "role", check_role(role))


def _update(conn: psycopg.Connection, username: str, column: str, value) -> User:
    statement = sql.SQL(
        "update app.users set {} = %s, updated_at = now() where username = %s"
        " returning username, role, is_active"
    ).format(sql.Identifier(column))
    with conn.transaction():
        row = conn.execute(statement, [value, username]).fetchone()
    if row is None:
        raise EcomError(f"username: no account named {username!r}")
    return User(*row)


def has_admin(conn: psycopg.Connection) -> bool:
    return bool(
        conn.execute(
            "select exists (select 1 from app.users where role = 'admin')"
        ).fetchone()[0]
    )


def has_users(conn: psycopg.Connection) -> bool:
    """Whether any account exists yet."""
    return bool(conn.execute("select exists (select 1 from app.users)").fetchone()[0])


def authenticate(conn: psycopg.Connection, username: str, password: str) -> User:
    """The account when the password matches; EcomError otherwise.

    The message is the same for an unknown name and a wrong password, and a
    hash is verified either way, so neither answer nor timing tells them apart.
    """
    row = conn.execute(
        "select username, role, is_active, password_hash from app.users "
        "where username = %s",
        [(username or "").strip().lower()],
    ).fetchone()
    digest = row[3] if row else _DUMMY_HASH
    try:
        _hasher.verify(digest, password or "")
        matched = row is not None
    except (VerificationError, InvalidHashError):
        matched = False
    if not matched:
        raise EcomError("unknown username or wrong password")
    if not row[2]:
        raise EcomError("this account is disabled; ask an admin")
    return User(row[0], row[1], row[2])


def current(conn: psycopg.Connection, username: str) -> User | None:
    """The account as it is now (role changes and disabling take effect)."""
    row = conn.execute(
        "select username, role, is_active from app.users where username = %s",
        [username],
    ).fetchone()
    return User(*row) if row else None


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(conn: psycopg.Connection, username: str) -> str:
    """A new sign-in token for a browser cookie (valid SESSION_HOURS)."""
    token = secrets.token_urlsafe(32)
    with conn.transaction():
        conn.execute("delete from app.sessions where expires_at < now()")
        conn.execute(
            "insert into app.sessions (token_sha256, username, expires_at)"
            " values (%s, %s, now() + make_interval(hours => %s))",
            [_token_digest(token), username, SESSION_HOURS],
        )
    return token


def session_user(conn: psycopg.Connection, token: str) -> User | None:
    """The active account a valid, unexpired token belongs to."""
    row = conn.execute(
        """
        select u.username, u.role, u.is_active
        from app.sessions as s
        inner join app.users as u on s.username = u.username
        where s.token_sha256 = %s and s.expires_at > now() and u.is_active
        """,
        [_token_digest(token)],
    ).fetchone()
    return User(*row) if row else None


def end_session(conn: psycopg.Connection, token: str) -> None:
    with conn.transaction():
        conn.execute(
            "delete from app.sessions where token_sha256 = %s", [_token_digest(token)]
        )


_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
