"""The `ecom` command: parses arguments, calls the modules that do the work, prints.

User errors (EcomError, a bad CSV, an unreachable database) end with one line on
stderr and exit code 1; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from core import db
from core.errors import EcomError
from core.settings import resolve

app = typer.Typer(
    help="E-commerce sales warehouse: generate data, load it, build it, explore it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Manage the database connection and the embedded server.")
app.add_typer(db_app, name="db")
users_app = typer.Typer(help="Manage the app's local accounts (viewer, editor, admin).")
app.add_typer(users_app, name="users")
console = Console()
err_console = Console(stderr=True)
DEBUG = {"on": False}

DEFAULT_DATA_DIR = Path("data")


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise EcomError(
            f"{option}: '{value}' is not a date in YYYY-MM-DD form"
        ) from None


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option(help="Show tracebacks on errors.")] = False,
) -> None:
    DEBUG["on"] = debug


# ---------------------------------------------------------------------------- db


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
    roles = _init_schema(env)
    console.print(f"schema ready at {db.describe(env)}")
    if roles:
        console.print("roles: " + ", ".join(roles))
    else:
        console.print(
            "roles not created: this login may not create roles (CREATEROLE); "
            "the app will connect as the current user"
        )


def _init_schema(env: dict[str, str]) -> list[str]:
    """Apply the DDL; the least-privilege roles that exist afterwards."""
    from core.schema import apply_schema

    with db.connect(env) as conn:
        apply_schema(conn)
        return db.app_roles(conn)


@db_app.command(
    "psql", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def db_psql(ctx: typer.Context) -> None:
    """Open psql on the resolved database (extra arguments go to psql)."""
    raise typer.Exit(db.run_psql(db.connection_env(), list(ctx.args)))


# ------------------------------------------------------------------------ users


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
    _init_schema(env)
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
    _init_schema(env)
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


# ---------------------------------------------------------------------- generate


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Folder to write the CSV files to.")] = (
        DEFAULT_DATA_DIR
    ),
    scale: Annotated[float, typer.Option(help="1 ≈ 100 000 order items.")] = 1.0,
    seed: Annotated[
        int, typer.Option(help="Random seed (same seed, same files).")
    ] = 42,
    start: Annotated[
        str | None, typer.Option(help="First order day, YYYY-MM-DD.")
    ] = None,
    end: Annotated[str | None, typer.Option(help="Last order day, YYYY-MM-DD.")] = None,
    dirty_rate: Annotated[
        float, typer.Option(help="Share of extra bad rows to inject (0-0.5).")
    ] = 0.0,
    append_days: Annotated[
        int, typer.Option(help="Continue the data in OUT by N more days instead.")
    ] = 0,
) -> None:
    """Generate realistic, reproducible e-commerce data as CSV files."""
    from loader import generate as gen

    started = time.perf_counter()
    with _step_progress() as progress:
        task = progress.add_task("generating", total=1)

        def report(step: str, done: int, total: int) -> None:
            progress.update(task, description=step, completed=done, total=total)

        if append_days:
            manifest = gen.append_days(out, append_days, progress=report)
        else:
            kwargs = {"scale": scale, "seed": seed, "dirty_rate": dirty_rate}
            if (d := _parse_date(start, "--start")) is not None:
                kwargs["start"] = d
            if (d := _parse_date(end, "--end")) is not None:
                kwargs["end"] = d
            manifest = gen.generate(out, progress=report, **kwargs)
    seconds = time.perf_counter() - started
    table = Table("table", "rows", title=f"generated in {out} ({seconds:.1f} s)")
    for name, count in manifest.get("row_counts", {}).items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    injected = manifest.get("injected", [])
    if injected:
        console.print(
            f"{len(injected):,} dirty rows injected (listed in _manifest.json)"
        )


def _step_progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )


# -------------------------------------------------------------------------- load


@app.command()
def load(
    directory: Annotated[Path, typer.Argument(help="Folder of <table>.csv files.")] = (
        DEFAULT_DATA_DIR
    ),
    force: Annotated[bool, typer.Option(help="Reload files already loaded.")] = False,
    replace: Annotated[
        bool, typer.Option(help="Empty the raw tables first (destroys their data).")
    ] = False,
) -> None:
    """Load CSV files into the raw tables; bad rows go to raw.load_rejects."""
    from loader.load import summary_rows

    env = db.connection_env()
    results = _run_load(env, directory, force=force, replace=replace)
    table = Table("file", "method", "read", "loaded", "rejected", "seconds")
    for row in summary_rows(results):
        table.add_row(*row)
    console.print(table)
    rejected = sum(r.rows_rejected for r in results)
    if rejected:
        console.print(
            f"{rejected:,} rows rejected: see raw.load_rejects "
            "(or the Data quality page)"
        )


def _run_load(env, directory: Path, *, force: bool, replace: bool):
    from loader.load import load_directory

    progress = Progress(
        TextColumn("{task.description:<32}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err_console,
        transient=True,
    )
    tasks = {}
    with progress:

        def on_file(name: str, size: int) -> None:
            tasks[name] = progress.add_task(name, total=size)

        def on_bytes(name: str, n: int) -> None:
            progress.advance(tasks[name], n)

        def on_done(result) -> None:
            progress.update(tasks[result.file], visible=False)

        return load_directory(
            env,
            directory,
            force=force,
            replace=replace,
            on_file=on_file,
            on_bytes=on_bytes,
            on_done=on_done,
        )


# ------------------------------------------------------------------ dbt and app


@app.command()
def build(
    select: Annotated[
        str | None, typer.Option("--select", "-s", help="dbt selection.")
    ] = None,
    full_refresh: Annotated[
        bool, typer.Option(help="Rebuild incremental models.")
    ] = False,
    test_all_rows: Annotated[
        bool,
        typer.Option(
            help="Tests read every row, not only the rows the incremental models"
            " wrote in their latest build."
        ),
    ] = False,
) -> None:
    """Run `dbt build` (seeds, models, snapshots, tests) on the resolved database."""
    from core.dbt_runner import run_dbt

    args = ["build"]
    if select:
        args += ["--select", select]
    if full_refresh:
        args.append("--full-refresh")
    if test_all_rows:
        args += ["--vars", "{test_all_rows: true}"]
    result = run_dbt(args, db.connection_env())
    if result.returncode != 0:
        raise EcomError(
            f"dbt build failed (exit {result.returncode}); see the log above"
        )


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def dbt(ctx: typer.Context) -> None:
    """Run any dbt command on the resolved database: ecom dbt test -s fct_orders."""
    from core.dbt_runner import run_dbt

    raise typer.Exit(run_dbt(list(ctx.args), db.connection_env()).returncode)


@app.command()
def docs(
    port: Annotated[int, typer.Option(help="Port for the docs site.")] = 8080,
) -> None:
    """Generate the dbt docs and serve them on localhost."""
    from core.dbt_runner import run_dbt

    env = db.connection_env()
    if run_dbt(["docs", "generate"], env).returncode != 0:
        raise EcomError("dbt docs generate failed; see the log above")
    raise typer.Exit(
        run_dbt(
            ["docs", "serve", "--port", str(port), "--host", "127.0.0.1"], env
        ).returncode
    )


@app.command()
def predict(
    seed: Annotated[int, typer.Option(help="Random seed for the models.")] = 42,
) -> None:
    """Fit the forecast, CLV and segment models on the marts; write schema ml."""
    env = db.connection_env()
    summary = _run_predictions(env, seed)
    metrics = summary["metrics"]
    table = Table("model", "result", title=f"predictions as of {summary['as_of_date']}")
    table.add_row("revenue forecast", f"MAPE {metrics['mape_total']} (total, backtest)")
    table.add_row(
        "customer lifetime value",
        f"{metrics['customers']:,} customers, {metrics['at_risk_customers']:,} at risk",
    )
    table.add_row(
        "segments",
        f"k = {summary['parameters']['segments_k']}: "
        + ", ".join(
            summary["parameters"]["segment_names"].values()
            if isinstance(summary["parameters"]["segment_names"], dict)
            else summary["parameters"]["segment_names"]
        ),
    )
    console.print(table)


def _run_predictions(env: dict[str, str], seed: int) -> dict:
    from predict import run_predictions

    with _step_progress() as progress:
        task = progress.add_task("predictions", total=1)

        def report(step: str, done: int, total: int) -> None:
            progress.update(task, description=step, completed=done, total=total)

        return run_predictions(env, seed=seed, progress=report)


@app.command("app")
def app_command(
    port: Annotated[
        int | None, typer.Option(help="Port (default 8501 or a free one).")
    ] = None,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Start the Streamlit app on the resolved database."""
    from streamlit_app.launch import run

    raise typer.Exit(run(db.connection_env(), host=host, port=port))


@app.command()
def demo(
    scale: Annotated[
        float, typer.Option(help="Data size (1 ≈ 100 000 order items).")
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    out: Annotated[Path, typer.Option(help="Folder for the generated CSV files.")] = (
        DEFAULT_DATA_DIR
    ),
    no_app: Annotated[bool, typer.Option(help="Stop after the build.")] = False,
) -> None:
    """The whole job: generate → load → dbt build → predictions → open the app."""
    from core.dbt_runner import run_dbt
    from loader import generate as gen

    env = db.connection_env()
    console.rule("1/5 generate")
    if (out / "_manifest.json").exists():
        console.print(f"reusing the data in {out} (delete it to regenerate)")
    else:
        gen.generate(out, scale=scale, seed=seed)
        console.print(f"generated scale {scale} into {out}")
    console.rule("2/5 load")
    results = _run_load(env, out, force=False, replace=False)
    loaded = sum(r.rows_loaded for r in results)
    console.print(f"{len(results)} files, {loaded:,} rows loaded")
    console.rule("3/5 dbt build")
    result = run_dbt(["build"], env)
    if result.returncode != 0:
        raise EcomError("dbt build failed; see the log above")
    console.rule("4/5 predictions")
    _run_predictions(env, seed)
    console.print("forecast, CLV and segments written to schema ml")
    _demo_admin(env)
    if no_app:
        return
    console.rule("5/5 app")
    from streamlit_app.launch import run

    raise typer.Exit(run(env, open_browser=True))


def _demo_admin(env: dict[str, str]) -> None:
    """Create the local admin on the first demo and print its password once."""
    from core import accounts

    with db.connect(env) as conn:
        if accounts.has_admin(conn):
            console.print(
                "sign in with your admin account "
                "(forgot the password? `ecom users add admin --role admin --reset`)"
            )
            return
        password = accounts.new_password()
        accounts.add_user(conn, "admin", password, "admin")
    console.print(
        f"admin account created: username admin, password {password}\n"
        "(shown once; add more with `ecom users add NAME --role editor`)"
    )


def main() -> None:
    """Entry point: one-line errors for user mistakes, tracebacks only on --debug."""
    try:
        app(standalone_mode=False)
    except EcomError as exc:
        if DEBUG["on"]:
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        raise


if __name__ == "__main__":
    main()
