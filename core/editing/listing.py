"""The lists of the editing pages: search words, filters, sort and one page of
rows, all done by the database (sort columns and filters from whitelists).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pandas as pd
from psycopg import sql

from core.editing.connection import reading
from core.editing.entities import entity
from core.editing.errors import ValidationError
from core.editing.fields import Entity, Filter
from core.editing.values import as_utc

PAGE_SIZES = (10, 25, 50, 100)
MAX_PAGE_SIZE = 500
MAX_SEARCH_WORDS = 6
# Longer than any value a search can match (emails are at most 254 characters),
# so a longer search is refused instead of scanning every row with it.
MAX_SEARCH_CHARS = 256


def like_pattern(text: str) -> str:
    """`text` as an ILIKE pattern matching it anywhere, wildcards escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def bounded_search(text: str | None, label: str = "Search") -> str:
    """A search text with NUL characters dropped; ValidationError when it is
    longer than MAX_SEARCH_CHARS (every search query stays bounded)."""
    text = (text or "").replace("\x00", "")
    if len(text) > MAX_SEARCH_CHARS:
        raise ValidationError(
            {label.lower(): f"{label}: at most {MAX_SEARCH_CHARS} characters"}
        )
    return text


def search_words(text: str | None) -> list[str]:
    """The words of a search, at most MAX_SEARCH_WORDS (see bounded_search)."""
    return bounded_search(text).split()[:MAX_SEARCH_WORDS]


def id_candidates(text: str) -> list[str]:
    """What a typed id may be: the text as typed and without a leading '#'
    (labels show ids as #id); ids are matched exactly, as text."""
    text = text.strip()
    candidates = [text, text[1:].strip()] if text.startswith("#") else [text]
    return [c for c in dict.fromkeys(candidates) if c]


def search_clause(
    search: str, key: sql.Composable, text: str | None, params: dict[str, Any]
) -> sql.Composable | None:
    """A search in fixed SQL (`search`, `{p}` = one word's ILIKE pattern): every
    word in any searched column or equal to the id, or the whole text equal to
    the id (an id may hold spaces); None when there is nothing to search."""
    words = search_words(text)
    if not words:
        return None
    clauses = []
    for i, word in enumerate(words):
        name = f"w{i}"
        params[name] = like_pattern(word)
        params[f"{name}_ids"] = id_candidates(word)
        clauses.append(
            sql.SQL("({} or {} = any({}::text[]))").format(
                sql.SQL(search).format(p=sql.Placeholder(name)),
                key,
                sql.Placeholder(f"{name}_ids"),
            )
        )
    words_match = sql.SQL(" and ").join(clauses)
    if len(words) == 1:
        return sql.SQL("({})").format(words_match)
    params["whole_ids"] = id_candidates(bounded_search(text))
    return sql.SQL("({} = any(%(whole_ids)s::text[]) or ({}))").format(key, words_match)


def where_clause(clauses: Sequence[sql.Composable]) -> sql.Composable:
    """`where` with the clauses joined by `and`; nothing when there are none."""
    if not clauses:
        return sql.SQL("")
    return sql.SQL("where ") + sql.SQL(" and ").join(clauses)


def page_params(page: int, page_size: int) -> dict[str, int]:
    """LIMIT and OFFSET of one page (pages count from 1; at most MAX_PAGE_SIZE
    rows)."""
    page = max(int(page), 1)
    page_size = min(max(int(page_size), 1), MAX_PAGE_SIZE)
    return {"limit": page_size, "offset": (page - 1) * page_size}


def read_page(
    count_sql: sql.Composable, page_sql: sql.Composable, params: Mapping[str, Any]
) -> tuple[pd.DataFrame, int]:
    """The rows of one page as a frame, and the total count."""
    with reading() as conn:
        total = conn.execute(count_sql, params).fetchone()[0]
        cur = conn.execute(page_sql, params)
        columns = [d.name for d in cur.description or []]
        frame = pd.DataFrame(cur.fetchall(), columns=columns)
    return frame, int(total)


def _filter_clause(
    flt: Filter, value: Any, params: dict[str, Any]
) -> sql.Composable | None:
    """One filter as a clause (its value put in params), or None when the value
    filters nothing."""
    param = f"f_{flt.name}"
    if flt.kind == "multi":
        if not value:
            return None
        params[param] = list(value)
    elif flt.kind == "bool":
        if value is None:
            return None
        params[param] = bool(value)
    elif flt.kind == "flag":
        return sql.SQL(flt.clause) if value else None
    elif flt.kind == "choice":
        if value is None:
            return None
        if value not in flt.clauses:
            raise ValueError(f"unknown choice {value!r} for filter {flt.name!r}")
        return sql.SQL(flt.clauses[value])
    elif flt.kind in ("date_from", "date_to"):
        if value is None:
            return None
        day = as_utc(value)
        if day is None:
            raise ValueError(f"filter {flt.name!r} needs a date")
        day = datetime.combine(day.date(), time(), tzinfo=UTC)
        params[param] = day + timedelta(days=1) if flt.kind == "date_to" else day
    elif flt.kind == "equals":
        if value is None:
            return None
        params[param] = value
    else:  # pragma: no cover - definitions above
        raise ValueError(flt.kind)
    return sql.SQL(flt.clause).format(p=sql.Placeholder(param))


def _where(
    ent: Entity, search: str | None, filters: Mapping[str, Any] | None
) -> tuple[sql.Composable, dict[str, Any]]:
    """Every search word (in any searched column) and every filter, as a where
    clause and its parameters; an unknown filter is the caller's mistake."""
    clauses: list[sql.Composable] = []
    params: dict[str, Any] = {}
    key = sql.SQL("{}.{}").format(sql.Identifier(ent.alias), sql.Identifier(ent.key))
    searched = search_clause(ent.search, key, search, params)
    if searched is not None:
        clauses.append(searched)
    known = {f.name: f for f in ent.filters}
    for name, value in (filters or {}).items():
        if name not in known:
            raise ValueError(f"unknown filter {name!r} for {ent.name}")
        clause = _filter_clause(known[name], value, params)
        if clause is not None:
            clauses.append(clause)
    return where_clause(clauses), params


def _order(ent: Entity, sort: str | None, descending: bool) -> sql.Composable:
    """The sort column (one of the entity's sorts), then the key."""
    sort = sort or ent.default_sort
    if sort not in ent.sorts:
        raise ValueError(f"cannot sort {ent.name} by {sort!r}")
    direction = sql.SQL("desc nulls last" if descending else "asc nulls first")
    columns = [sort] if sort == ent.key else [sort, ent.key]
    return sql.SQL("order by ") + sql.SQL(", ").join(
        sql.SQL("{}.{} {}").format(
            sql.Identifier(ent.alias), sql.Identifier(c), direction
        )
        for c in columns
    )


def list_rows(
    ent: str | Entity,
    search: str | None = "",
    filters: Mapping[str, Any] | None = None,
    sort: str | None = None,
    descending: bool = False,
    page: int = 1,
    page_size: int = 25,
) -> tuple[pd.DataFrame, int]:
    """One page of rows matching the search words (each word in any searched
    column or equal to the id, or the whole search equal to the id) and the
    filters, and the total count."""
    ent = entity(ent)
    paging = page_params(page, page_size)
    where, params = _where(ent, search, filters)
    order = _order(ent, sort, descending)
    table = sql.SQL("raw.{} as {}").format(
        sql.Identifier(ent.table), sql.Identifier(ent.alias)
    )
    count_sql = sql.SQL("select count(*) from {} {}").format(table, where)
    page_sql = sql.SQL(
        "select {columns} from ("
        "select {alias}.* from {table} {where} {order} "
        "limit %(limit)s offset %(offset)s"
        ") as {alias} {joins} {order}"
    ).format(
        columns=sql.SQL(ent.list_columns),
        alias=sql.Identifier(ent.alias),
        table=table,
        where=where,
        order=order,
        joins=sql.SQL(ent.joins),
    )
    return read_page(count_sql, page_sql, params | paging)


def page_count(total: int, page_size: int) -> int:
    """How many pages `total` rows fill (at least one)."""
    return max(1, -(-int(total) // max(int(page_size), 1)))


def distinct_values(ent: str | Entity, column: str) -> list[str]:
    """The values a text column holds (for filters and pickers of small sets:
    product categories, subcategories, brands)."""
    ent = entity(ent)
    if column not in ent.field_names or ent.field(column).kind != "text":
        raise ValueError(f"no text column {column!r} in {ent.name}")
    statement = sql.SQL(
        "select distinct {col} from raw.{table} where {col} is not null "
        "order by 1 limit 1000"
    ).format(col=sql.Identifier(column), table=sql.Identifier(ent.table))
    with reading() as conn:
        return [row[0] for row in conn.execute(statement)]
