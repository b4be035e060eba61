"""The last step of the sifted path: the valid rows of `typed` into the raw
table, updating the keys that exist and inserting the new ones."""

from __future__ import annotations

import psycopg
from psycopg import sql

from loader.load.catalog import TableSpec
from loader.load.raw_table import (
    _drop_secondary_indexes,
    _is_empty,
    _may_skip_triggers,
)
from loader.load.sql_parts import _quoted_list, _same_key


def _upsert(
    cur: psycopg.Cursor, spec: TableSpec, cols: list[str], valid: sql.Composable
) -> None:
    """Update the keys that exist (when a value differs; updated_at never moves
    backwards), then insert the new keys.

    Foreign keys were checked for the whole batch: skip the per-row triggers when
    the role may (see _copy_direct). Into an empty table, plain indexes are
    rebuilt once at the end.
    """
    table = sql.Identifier("raw", spec.name)
    skip_triggers = bool(spec.foreign_keys) and _may_skip_triggers(cur)
    if skip_triggers:
        cur.execute("set local session_replication_role = replica")
    empty = _is_empty(cur, spec.name)
    rebuild = _drop_secondary_indexes(cur, spec) if empty else []
    pk = spec.primary_key
    same_key = _same_key(pk)
    updates = [
        sql.SQL("{c} = x.{c}").format(c=sql.Identifier(c))
        for c in cols
        if c not in pk and c != "updated_at"
    ]
    if "updated_at" in cols:
        updates.append(
            sql.SQL(
                "updated_at = "
                "greatest(x.updated_at, t.updated_at + interval '1 second')"
            )
        )
    if spec.stamped:
        updates.append(sql.SQL("synced_at = now()"))
    if updates and not empty:
        cur.execute(
            sql.SQL(
                "update {table} t set {updates} from typed x "
                "where {same_key} and {valid} "
                "and ({t_cols}) is distinct from ({x_cols})"
            ).format(
                table=table,
                updates=sql.SQL(", ").join(updates),
                same_key=same_key,
                valid=valid,
                t_cols=_quoted_list(cols, "t"),
                x_cols=_quoted_list(cols, "x"),
            )
        )
    new_keys = (
        sql.SQL("true")
        if empty
        else sql.SQL("not exists (select 1 from {table} t where {same_key})").format(
            table=table, same_key=same_key
        )
    )
    cur.execute(
        sql.SQL(
            "insert into {table} ({cols}) select {x_cols} from typed x "
            "where {valid} and {new_keys}"
        ).format(
            table=table,
            cols=_quoted_list(cols),
            x_cols=_quoted_list(cols, "x"),
            valid=valid,
            new_keys=new_keys,
        )
    )
    for definition in rebuild:
        cur.execute(definition)
    if skip_triggers:
        cur.execute("set local session_replication_role = origin")
