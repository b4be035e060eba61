"""Small SQL fragments shared by the row checks, the landing and the upsert:
quoted column lists and joins on a key."""

from __future__ import annotations

from psycopg import sql

# How the loader reads CSV: an empty field is NULL, a quoted empty field ("") an
# empty string. (COPY's `default` option can't serve for the columns with
# defaults: it refuses the marker in any column without one.)
COPY_CSV_OPTIONS = sql.SQL("format csv")


def _quoted_list(names: list[str], prefix: str = "") -> sql.Composable:
    return sql.SQL(", ").join(
        sql.Identifier(*([prefix] if prefix else []), n) for n in names
    )


def _same_key(key: list[str]) -> sql.Composable:
    """`t.k = x.k and ...`: a raw row `t` and a `typed` row `x` with the same key."""
    return sql.SQL(" and ").join(
        sql.SQL("t.{c} = x.{c}").format(c=sql.Identifier(c)) for c in key
    )


def _same_values(
    alias: sql.Identifier, columns: list[str], other_columns: list[str]
) -> sql.Composable:
    """`alias.other = t.column and ...`: a join on a (composite) key."""
    return sql.SQL(" and ").join(
        sql.SQL("{a}.{rc} = t.{c}").format(
            a=alias, rc=sql.Identifier(rc), c=sql.Identifier(c)
        )
        for c, rc in zip(columns, other_columns, strict=True)
    )
