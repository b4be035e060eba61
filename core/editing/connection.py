"""Connections of the editing layer: one of its own per operation, read or
written in one transaction that names the signed-in user for the audit trigger
(`set_config('ecom.app_user', ...)`); database errors become `CrudError`s.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors

from core.db import conninfo, describe_database
from core.editing.database_errors import translate_error
from core.editing.errors import CrudError, Unavailable
from core.editing.fields import Entity
from core.errors import one_line_or_name

APPLICATION_NAME = "ecom-editor"


def signed_in_name(user: Any) -> str:
    """The name a write is recorded under (a User or a name); none is an error."""
    name = getattr(user, "username", user)
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a signed-in user is needed to write")
    return name


@contextmanager
def connect() -> Iterator[psycopg.Connection]:
    """A connection of its own for one operation (autocommit; writes open a
    transaction); an unreachable server becomes `Unavailable`."""
    dsn = conninfo(read_only=False, application_name=APPLICATION_NAME)
    try:
        conn = psycopg.connect(dsn, autocommit=True)
    except psycopg.OperationalError as exc:
        where = describe_database(dsn)
        raise Unavailable(
            f"Cannot reach the database at {where}: {one_line_or_name(exc)}"
        ) from None
    try:
        conn.execute("set time zone 'UTC'")
        yield conn
    except errors.QueryCanceled:
        raise CrudError(
            "The database took too long and the query was stopped."
        ) from None
    except psycopg.OperationalError as exc:
        raise Unavailable(
            f"Lost the connection to the database at {describe_database(dsn)}",
            detail=one_line_or_name(exc),
        ) from None
    finally:
        conn.close()


@contextmanager
def reading() -> Iterator[psycopg.Connection]:
    """A connection to read with; a database error becomes a CrudError."""
    with connect() as conn:
        try:
            yield conn
        except (errors.QueryCanceled, psycopg.OperationalError):
            raise
        except psycopg.Error as exc:
            raise CrudError(
                "Could not read from the database.", detail=one_line_or_name(exc)
            ) from None


@contextmanager
def writing(
    user: Any, ent: Entity | None = None, values: Mapping[str, Any] | None = None
) -> Iterator[psycopg.Connection]:
    """One transaction that names the user for the audit trail; any database
    error rolls it back and becomes a CrudError naming the field."""
    username = signed_in_name(user)
    with connect() as conn:
        try:
            with conn.transaction():
                conn.execute("select set_config('ecom.app_user', %s, true)", [username])
                yield conn
        except (errors.QueryCanceled, psycopg.OperationalError):
            raise
        except psycopg.Error as exc:
            raise translate_error(exc, ent, values) from None
