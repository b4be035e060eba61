"""The `ecom` command: parses arguments, calls the modules that do the work, prints.

Each command group lives in its own module (cli/*_commands.py); importing them
registers their commands on the Typer application of cli.base, in the order the
help lists them.

User errors (EcomError, a bad CSV, an unreachable database) end with one line on
stderr and exit code 1; `--debug` shows the traceback instead. Usage errors (an
unknown command or option, a missing or invalid argument) print the usage and the
problem and exit with code 2.
"""

from __future__ import annotations

import sys

import typer

from cli import (  # noqa: F401  (importing a command module registers its commands)
    app_commands,
    data_commands,
    db_commands,
    users_commands,
    warehouse_commands,
)
from cli.base import DEBUG, app
from core.errors import EcomError


def main() -> None:
    """Entry point: one-line errors for user mistakes, tracebacks only on --debug.

    Typer runs in standalone mode, so it reports usage errors itself (usage line,
    the problem, exit code 2) whichever copy of click raised them, and turns
    Ctrl-C into exit code 130.
    """
    try:
        app()
    except EcomError as exc:
        if DEBUG["on"]:
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
