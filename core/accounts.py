"""Local accounts of the app: viewer (dashboards), editor (+ editing pages) and
admin (+ audit trail and accounts).

Passwords are hashed with argon2 (argon2-cffi); only the hash is stored, in
`app.users`. Used by `ecom users ...`, `ecom demo` and the app's accounts page;
signing in and its sessions are `core.sign_in`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import psycopg
from argon2 import PasswordHasher
from psycopg import sql

from core.errors import EcomError

ROLES = ("viewer", "editor", "admin")
USERNAME_PATTERN = re.compile(r"^[a-z0-9_.-]{2,60}$")
MIN_PASSWORD_LENGTH = 8
hasher = PasswordHasher()


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
    digest = hasher.hash(password)
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
        if replace:
            # a reset password must not leave the old sign-ins open
            end_all_sessions(conn, username)
    return User(*row)


def list_users(conn: psycopg.Connection) -> list[User]:
    rows = conn.execute(
        "select username, role, is_active from app.users order by username"
    ).fetchall()
    return [User(*row) for row in rows]


def set_active(conn: psycopg.Connection, username: str, active: bool) -> User:
    """Disable (or re-enable) an account; disabling ends all its sessions."""
    user = _update(conn, username, "is_active", active)
    if not active:
        end_all_sessions(conn, username)
    return user


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


def current(conn: psycopg.Connection, username: str) -> User | None:
    """The account as it is now (role changes and disabling take effect)."""
    row = conn.execute(
        "select username, role, is_active from app.users where username = %s",
        [username],
    ).fetchone()
    return User(*row) if row else None


def end_all_sessions(conn: psycopg.Connection, username: str) -> None:
    """End every sign-in session of an account (password reset, disabling)."""
    with conn.transaction():
        conn.execute("delete from app.sessions where username = %s", [username])
