"""Errors with messages meant for people, and the one-line form of any exception.

`EcomError` is a problem with the user's input or environment (the CLI prints it as
one line); `WarehouseError` and its kinds are database problems shown on a page.
"""

from __future__ import annotations


class EcomError(Exception):
    """An error caused by the user's input or environment; shown as one line."""


class WarehouseError(Exception):
    """A database problem, with a message meant for a business user."""


class WarehouseUnavailable(WarehouseError):
    """The database cannot be reached."""


class MartMissing(WarehouseError):
    """A marts table does not exist (dbt has not built it yet)."""

    def __init__(self, relation: str) -> None:
        self.relation = relation
        super().__init__(f"the table {relation} does not exist yet")


class QueryFailed(WarehouseError):
    """A query failed for another reason (e.g. marts from an older build)."""


def one_line(exc: BaseException) -> str:
    """The first line of what went wrong: PostgreSQL's primary message when there
    is one, else the first non-empty line of the exception's text ('' if none)."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    if primary:
        return str(primary).strip()
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def one_line_or_name(exc: BaseException) -> str:
    """`one_line(exc)`, or the exception's class name when its text is empty."""
    return one_line(exc) or type(exc).__name__
