"""The `ecom` command's Typer applications, consoles and the helpers its command
modules share (dates, progress bars, the schema check before account commands)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from core import db
from core.errors import EcomError

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


def parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise EcomError(
            f"{option}: '{value}' is not a date in YYYY-MM-DD form"
        ) from None


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option(help="Show tracebacks on errors.")] = False,
) -> None:
    DEBUG["on"] = debug


def step_progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )


def init_schema(env: dict[str, str]) -> list[str]:
    """Apply the DDL; the least-privilege roles that exist afterwards."""
    from core.schema import apply_schema

    with db.connect(env) as conn:
        apply_schema(conn)
        return db.app_roles(conn)
