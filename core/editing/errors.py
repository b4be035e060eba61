"""The editing layer's errors: each carries a message fit to show on a page.

Messages (`CrudError.message`) are fixed text with field labels and numbers only,
never data, so a page may show them as they are; `CrudError.detail` may hold
text from the database and must be shown as plain text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core.errors import WarehouseError, WarehouseUnavailable

if TYPE_CHECKING:
    from core.editing.fields import Entity


class CrudError(WarehouseError):
    """A problem to show on the page: `message` is fixed text (labels and numbers,
    never data); `detail`, when set, comes from the database: show it as text.

    A WarehouseError, so the app's page handler shows one that a page did not
    catch as a message, never as a traceback."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class ValidationError(CrudError):
    """Input that cannot be saved: `errors` maps a field to its message
    (the message starts with the field's label, e.g. "Email: ...")."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


class Conflict(CrudError):
    """The row changed (or vanished) since the form was opened; nothing was saved.

    `current` is the row as it is now (None when it was deleted meanwhile); for
    an order `items` holds its current lines.
    """

    def __init__(
        self,
        current: dict[str, Any] | None,
        entity: Entity | None = None,
        items: list[dict[str, Any]] | None = None,
    ) -> None:
        self.current = current
        self.entity = entity
        self.items = items
        noun = entity.singular if entity is not None else "row"
        if current is None:
            message = (
                f"This {noun} was deleted by someone else meanwhile; nothing was saved."
            )
        else:
            message = (
                f"This {noun} was changed by someone else after you opened it; "
                "nothing was saved. Its current values are shown: apply your changes "
                "again to them."
            )
        super().__init__(message)


class Refused(CrudError):
    """An action the rules do not allow (e.g. deleting a region still in use)."""


class Unavailable(CrudError, WarehouseUnavailable):
    """The database cannot be reached."""
