"""Search-as-you-type selectors of foreign keys: the best matches for a few
typed words, and the label of one row.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from psycopg import sql
from psycopg.rows import dict_row

from core.editing.connection import reading
from core.editing.entities import entity
from core.editing.fields import Entity, ilike
from core.editing.listing import (
    id_candidates,
    like_pattern,
    search_clause,
    search_words,
    where_clause,
)
from core.editing.stored_rows import parse_key
from core.editing.values import as_utc, to_decimal

OPTIONS_LIMIT = 20


def option_label(ent: str | Entity, row: Mapping[str, Any]) -> str:
    """A human label for a row, e.g. 'Ada Lovelace <ada@x.com> (#123)'; what
    the source left unknown is left out (a row with no name shows its id)."""
    ent = entity(ent)
    key = row[ent.key]
    if ent.name == "customers":
        parts = [_given(row, "first_name", "last_name"), _given(row, "email")]
        if parts[1]:
            parts[1] = f"<{parts[1]}>"
        text = " ".join(p for p in parts if p) or "Customer"
        text += f" (#{key})"
    elif ent.name == "products":
        text = " · ".join(p for p in (row["sku"], row["product_name"]) if p)
        text = f"{text or 'Product'} (#{key})"
    elif ent.name == "promotions":
        text = (
            f"{row['promo_code']} · {_percent(row['discount_pct'])} · "
            f"{as_utc(row['starts_at']):%Y-%m-%d} to {as_utc(row['ends_at']):%Y-%m-%d}"
            f" (#{key})"
        )
    elif ent.name == "regions":
        text = f"{row['region_name']} (#{key})"
    elif ent.name == "channels":
        text = f"{row['channel_name']} (#{key})"
    else:
        text = f"#{key}"
    if "is_active" in row and row["is_active"] is False:
        text += " (inactive)"
    return text


def _given(row: Mapping[str, Any], *names: str) -> str:
    """The row's non-empty values of these columns, joined by spaces."""
    return " ".join(str(row[n]) for n in names if row.get(n))


def _percent(value: Any) -> str:
    """A percentage without trailing zeros: 12.50 -> '12.5%'."""
    number = to_decimal(value) or Decimal(0)
    return f"{number.normalize():f}%"


def _option_order(
    ent: Entity, words: list[str], params: dict[str, Any]
) -> sql.Composable:
    """An id typed (the whole text or its first word) first, then labels
    starting with the first word, then by name; with no words the newest rows
    first (app-created ids sort after loaded ones of the same length)."""
    key = sql.Identifier(ent.key)
    if not words:
        return sql.SQL("order by {} desc").format(key)
    typed = " ".join(words)
    params["typed_id"] = typed
    params["exact_ids"] = [*id_candidates(typed), *id_candidates(words[0])]
    params["prefix"] = like_pattern(words[0])[1:]
    main = ent.option_search[0]
    return sql.SQL(
        "order by ({key} = %(typed_id)s) desc, "
        "({key} = any(%(exact_ids)s::text[])) desc, "
        "({main} ilike %(prefix)s) desc nulls last, {order}, {key}"
    ).format(key=key, main=sql.SQL(main), order=sql.SQL(ent.option_order))


def search_options(
    ent: str | Entity,
    text: str | None,
    limit: int = OPTIONS_LIMIT,
    active_only: bool = True,
) -> list[tuple[str, str]]:
    """The best `limit` matches for a search-as-you-type selector: an id typed
    exactly first, then labels starting with the text, then by name; with no
    text the newest rows."""
    ent = entity(ent)
    if not ent.option_columns:
        raise ValueError(f"{ent.name} has no selector")
    limit = min(max(int(limit), 1), 100)
    words = search_words(text)
    clauses: list[sql.Composable] = []
    params: dict[str, Any] = {"limit": limit}
    key = sql.Identifier(ent.key)
    searched = search_clause(ilike(*ent.option_search), key, text, params)
    if searched is not None:
        clauses.append(searched)
    if active_only and ent.option_active:
        clauses.append(sql.SQL(ent.option_active))
    where = where_clause(clauses)
    order = _option_order(ent, words, params)
    statement = sql.SQL(
        "select {columns} from raw.{table} {where} {order} limit %(limit)s"
    ).format(
        columns=sql.SQL(ent.option_columns),
        table=sql.Identifier(ent.table),
        where=where,
        order=order,
    )
    with reading() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(statement, params).fetchall()
    return [(row[ent.key], option_label(ent, row)) for row in rows]


def label_for(ent: str | Entity, key: Any) -> str | None:
    """The selector label of one row (None when it does not exist)."""
    ent = entity(ent)
    if key is None:
        return None
    statement = sql.SQL("select {} from raw.{} where {} = %s").format(
        sql.SQL(ent.option_columns), sql.Identifier(ent.table), sql.Identifier(ent.key)
    )
    with reading() as conn, conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(statement, [parse_key(key)]).fetchone()
    return option_label(ent, row) if row else None
