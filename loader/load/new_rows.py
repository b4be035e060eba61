"""The rows a direct COPY wrote, checked in one pass over them: no id the app
keeps for itself, no missing parent (when the foreign-key triggers were
skipped), and the money totals of the file (all of it was loaded)."""

from __future__ import annotations

from decimal import Decimal

import psycopg
from psycopg import sql

from loader.load.catalog import ForeignKey, TableSpec
from loader.load.checks import APP_ID_PREFIX
from loader.load.totals import FINITE, MoneyTotals


class NewRowsRefused(Exception):
    """A row the COPY wrote can't stay: the sifted path takes the file and
    rejects that row with its reason."""


def check_new_rows(
    cur: psycopg.Cursor,
    spec: TableSpec,
    cols: list[str],
    batch_id: int,
    foreign_keys: list[ForeignKey],
    *,
    first_load: bool,
) -> MoneyTotals:
    """Check the rows this file's COPY wrote, in one query; return its money
    totals, or raise NewRowsRefused.

    The new rows are those written by the same (sub)transaction as the batch's
    own row in raw.load_batches (their `xmin` is the same); on a first load,
    every row of the table (no need to pick them out, and the planner, with no
    statistics yet, could pick a row-by-row plan for that). Parents are found
    with left joins on their keys: one match at most, so no row is summed twice.
    """
    money = [c for c in spec.money if c in cols]
    key = sql.Identifier("t", spec.primary_key[0])
    items = [
        sql.SQL("coalesce(bool_or(starts_with(lower({}), {})), false)").format(
            key, sql.Literal(APP_ID_PREFIX)
        )
    ]
    joins = []
    for n, fk in enumerate(foreign_keys):
        alias = sql.Identifier(f"p{n}")
        joins.append(
            sql.SQL("left join {ref} {a} on {on}").format(
                ref=sql.Identifier("raw", fk.ref_table),
                a=alias,
                on=sql.SQL(" and ").join(
                    sql.SQL("{a}.{rc} = t.{c}").format(
                        a=alias, rc=sql.Identifier(rc), c=sql.Identifier(c)
                    )
                    for c, rc in zip(fk.columns, fk.ref_columns, strict=True)
                ),
            )
        )
        items.append(
            sql.SQL(
                "coalesce(bool_or(t.{c} is not null and {a}.{rc} is null), false)"
            ).format(
                c=sql.Identifier(fk.columns[0]),
                a=alias,
                rc=sql.Identifier(fk.ref_columns[0]),
            )
        )
    items += [
        sql.SQL("coalesce(sum(" + FINITE + "), 0)").format(c=sql.Identifier("t", c))
        for c in money
    ]
    new_rows = sql.SQL(
        "true"
        if first_load
        else "t.xmin = (select xmin from raw.load_batches where batch_id = %s)"
    )
    row = cur.execute(
        sql.SQL("select {items} from {table} t {joins} where {new_rows}").format(
            items=sql.SQL(", ").join(items),
            table=sql.Identifier("raw", spec.name),
            joins=sql.SQL(" ").join(joins),
            new_rows=new_rows,
        ),
        [] if first_load else [batch_id],
    ).fetchone()
    if row[0]:
        raise NewRowsRefused(f"an id starting with {APP_ID_PREFIX!r}")
    for fk, missing in zip(foreign_keys, row[1 : 1 + len(foreign_keys)], strict=True):
        if missing:
            raise NewRowsRefused(f"{fk.name}: unknown {', '.join(fk.columns)}")
    sums = row[1 + len(foreign_keys) :]
    return {c: (s, s, Decimal(0)) for c, s in zip(money, sums, strict=True)}
