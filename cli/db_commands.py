"""`ecom db ...`: the connection, the embedded server and the schema."""

from __future__ import annotations

import typer

from cli.base import console, db_app, init_schema
from core import db
from core.errors import EcomError
from core.settings import resolve


@db_app.command("start")
def db_start() -> None:
    """Start the embedded PostgreSQL (or check the configured server)."""
    env = db.connection_env()
    with db.connect(env) as conn:
        version = conn.execute("show server_version").fetchone()[0]
    console.print(f"PostgreSQL {version} ready at {db.describe(env)}")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostgreSQL."""
    settings = resolve()
    if not settings.embedded:
        raise EcomError(
            "an external server is configured (PG*/DATABASE_URL); not stopping it"
        )
    stopped = db.stop_embedded(settings)
    console.print(
        "embedded PostgreSQL stopped"
        if stopped
        else "embedded PostgreSQL was not running"
    )


@db_app.command("status")
def db_status() -> None:
    """Say which server is used and whether it answers."""
    settings = resolve()
    if settings.embedded:
        console.print(f"mode: embedded (data folder {settings.pgdata})")
        try:
            env = db.connection_env(settings, start=False)
        except EcomError:
            console.print("status: stopped (`ecom db start` starts it)")
            raise typer.Exit(3) from None
    else:
        console.print("mode: external (from PG* variables / DATABASE_URL)")
        env = db.connection_env(settings)
    with db.connect(env) as conn:
        version = conn.execute("show server_version").fetchone()[0]
    console.print(f"status: running, PostgreSQL {version} at {db.describe(env)}")


@db_app.command("url")
def db_url() -> None:
    """Print a connection URL for the resolved database."""
    env = db.connection_env()
    typer.echo(db.connection_url(env))


@db_app.command("env")
def db_env() -> None:
    """Print shell exports for psql, dbt and friends: eval "$(ecom db env)"."""
    from core.dbt_runner import dbt_env_exports

    typer.echo(dbt_env_exports(db.connection_env()))


@db_app.command("init")
def db_init() -> None:
    """Create the raw tables, the app's schema and the least-privilege roles."""
    env = db.connection_env()
    roles = init_schema(env)
    console.print(f"schema ready at {db.describe(env)}")
    if roles:
        console.print("roles: " + ", ".join(roles))
    else:
        console.print(
            "roles not created: this login may not create roles (CREATEROLE); "
            "the app will connect as the current user"
        )


@db_app.command(
    "psql", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def db_psql(ctx: typer.Context) -> None:
    """Open psql on the resolved database (extra arguments go to psql)."""
    raise typer.Exit(db.run_psql(db.connection_env(), list(ctx.args)))
