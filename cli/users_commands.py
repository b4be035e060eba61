"""`ecom users ...`: the app's local accounts."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from cli.base import console, init_schema, users_app
from core import db


def _read_password(prompt: bool, password_stdin: bool) -> str | None:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if prompt:
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return None


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Lowercase letters, digits, . _ -")],
    role: Annotated[
        str, typer.Option(help="viewer (dashboards), editor (+ editing), admin.")
    ] = "viewer",
    prompt: Annotated[
        bool, typer.Option("--prompt", help="Type the password (hidden, twice).")
    ] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    reset: Annotated[
        bool,
        typer.Option(help="Reset the password and role of an existing account."),
    ] = False,
) -> None:
    """Create an account. Without --prompt or --password-stdin a random password
    is generated and printed once."""
    from core import accounts

    password = _read_password(prompt, password_stdin)
    generated = password is None
    password = accounts.new_password() if generated else password
    env = db.connection_env()
    init_schema(env)
    with db.connect(env) as conn:
        user = accounts.add_user(conn, username, password, role, replace=reset)
    console.print(f"account {user.username} ({user.role}) ready")
    if generated:
        console.print(f"password: {password}  (shown once; not stored in clear)")


@users_app.command("list")
def users_list() -> None:
    """List the accounts (never their passwords)."""
    from core import accounts

    env = db.connection_env()
    init_schema(env)
    with db.connect(env) as conn:
        users = accounts.list_users(conn)
    table = Table("username", "role", "active")
    for user in users:
        table.add_row(user.username, user.role, "yes" if user.is_active else "no")
    console.print(table if users else "no accounts yet (`ecom users add NAME`)")


@users_app.command("disable")
def users_disable(
    username: Annotated[str, typer.Argument(help="The account to disable.")],
) -> None:
    """Disable an account: it can no longer sign in, and open sessions end."""
    _set_active(username, False)


@users_app.command("enable")
def users_enable(
    username: Annotated[str, typer.Argument(help="The account to enable.")],
) -> None:
    """Enable a disabled account again."""
    _set_active(username, True)


def _set_active(username: str, active: bool) -> None:
    from core import accounts

    with db.connect(db.connection_env()) as conn:
        accounts.set_active(conn, username, active)
    console.print(f"account {username} {'enabled' if active else 'disabled'}")
