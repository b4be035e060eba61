"""What an editable table is made of: its fields (with their rules), its list
filters and the entity that ties them to the SQL of the lists and selectors.

The bounds below are those of the raw tables' column types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# Bounds of the raw columns: integer counts, text ids (varchar(64), printable),
# and money as numeric with at most 4 decimals and below 10^14 (the CHECKs
# `<col>_at_most_4_decimals` and `<col>_below_1e14`).
INT_MAX = 2_147_483_647
ID_MAX_CHARS = 64
MONEY_LIMIT = Decimal("1e14")
MONEY_DECIMALS = 4
PERCENT_DECIMALS = 2
CENT = Decimal("0.01")  # for display and computed suggestions only


@dataclass(frozen=True)
class Field:
    """An editable column and its rules (sizes as in core/sql/001_raw_tables.sql)."""

    name: str
    label: str
    kind: str  # text email country choice int money percent date datetime bool ref
    # (a ref holds a text id of the entity `ref`)
    required: bool = True
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    ref: str | None = None  # entity of a foreign key
    minimum: Decimal | int | None = None
    exclusive_minimum: bool = False
    maximum: Decimal | int | None = None
    not_future: bool = False
    default: Any = None
    help: str | None = None


@dataclass(frozen=True)
class Filter:
    """A list filter. `clause` is fixed SQL with `{p}` for the value:
    multi (a list, empty = all), bool (True/False, None = all), flag (only when
    True), choice (a key of `clauses`), date_from / date_to, equals."""

    name: str
    label: str
    kind: str
    clause: str = ""
    choices: tuple[str, ...] = ()
    clauses: Mapping[str, str] = field(default_factory=dict)
    ref: str | None = None


@dataclass(frozen=True)
class Entity:
    name: str
    table: str
    key: str
    alias: str
    singular: str
    title: str
    fields: tuple[Field, ...]
    list_columns: str
    joins: str
    search: str  # fixed SQL for one search word, `{p}` = the ILIKE pattern
    sorts: Mapping[str, str]  # sort name -> column label (sorted by alias.name)
    default_sort: str
    default_descending: bool
    filters: tuple[Filter, ...] = ()
    option_columns: str = ""
    option_search: tuple[str, ...] = ()  # the first one is the main label
    option_order: str = ""
    option_active: str = ""
    unique: Mapping[str, str] = field(default_factory=dict)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


def ilike(*columns: str) -> str:
    """Fixed SQL: the pattern `{p}` in any of the columns. The columns are joined
    with spaces and searched once (about three times faster than one ILIKE per
    column); a search word has no spaces, so it never matches across columns."""
    if len(columns) == 1:
        return f"{columns[0]} ilike {{p}}"
    return f"concat_ws(' ', {', '.join(columns)}) ilike {{p}}"
