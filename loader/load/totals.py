"""Money totals of a file's load: for each money column (see TableSpec.money)
the sums of the values read, loaded and rejected, so that a file's totals
reconcile exactly (read = loaded + rejected) and are kept in
raw.load_batches.money_totals. Rows whose money does not even parse are counted
in the rows rejected, not in the sums."""

from __future__ import annotations

from decimal import Decimal

import psycopg
from psycopg import sql

from loader.load.catalog import TableSpec
from loader.load.checks import APP_ID_PREFIX

# column -> (read, loaded, rejected)

# the value when it is a finite number ('NaN' and infinities are rejected and
# not summed: they are not amounts)
FINITE = "case when {c} not in ('NaN', 'Infinity', '-Infinity') then {c} end"
MoneyTotals = dict[str, tuple[Decimal, Decimal, Decimal]]


def direct_totals(
    cur: psycopg.Cursor, spec: TableSpec, cols: list[str], batch_id: int
) -> MoneyTotals:
    """The totals of a file the direct COPY took whole, from the rows it wrote;
    raises ReservedIds when a row's id is one the app keeps for itself.

    The rows are those written by the same (sub)transaction as the batch's own
    row in raw.load_batches: their `xmin` is the same.
    """
    key = spec.primary_key[0]
    money = [c for c in spec.money if c in cols]
    sums = [
        sql.SQL("coalesce(sum(" + FINITE + "), 0)").format(c=sql.Identifier(c))
        for c in money
    ]
    row = cur.execute(
        sql.SQL(
            "select coalesce(bool_or(starts_with(lower({key}), {reserved})), false) "
            "{sums} from {table} "
            "where xmin = (select xmin from raw.load_batches where batch_id = %s)"
        ).format(
            key=sql.Identifier(key),
            reserved=sql.Literal(APP_ID_PREFIX),
            sums=sql.SQL("").join(sql.SQL(", {}").format(s) for s in sums),
            table=sql.Identifier("raw", spec.name),
        ),
        [batch_id],
    ).fetchone()
    if row[0]:
        raise ReservedIds(key)
    return {
        c: (total, total, Decimal(0)) for c, total in zip(money, row[1:], strict=True)
    }


def sifted_totals(cur: psycopg.Cursor, spec: TableSpec, cols: list[str]) -> MoneyTotals:
    """The totals of a sifted file, from `typed` (loaded: no problem of its
    own and none in `row_problems`)."""
    money = [c for c in spec.money if c in cols]
    if not money:
        return {}
    finite = "sum(" + FINITE + ")"
    parts = [
        sql.SQL(
            f"coalesce({finite}, 0), coalesce({finite} filter (where _loaded), 0), "
            f"coalesce({finite} filter (where not _loaded), 0)"
        ).format(c=sql.Identifier(c))
        for c in money
    ]
    # a join, not a NOT EXISTS per row: inside an aggregate's FILTER that would
    # scan row_problems once per row
    row = cur.execute(
        sql.SQL(
            """
            select {}
            from (
                select x.*, x.problem is null and p._line is null as _loaded
                from typed x
                left join (select distinct _line from row_problems) p
                    on p._line = x._line
            ) t
            """
        ).format(sql.SQL(", ").join(parts))
    ).fetchone()
    return {
        c: (row[3 * i], row[3 * i + 1], row[3 * i + 2]) for i, c in enumerate(money)
    }


def as_json(totals: MoneyTotals) -> dict[str, dict[str, str]]:
    """For raw.load_batches.money_totals: exact decimal strings."""
    return {
        c: {"read": str(r), "loaded": str(lo), "rejected": str(rej)}
        for c, (r, lo, rej) in totals.items()
    }


class ReservedIds(Exception):
    """A file brings ids the app keeps for itself: the sifted path rejects
    those rows with their reason."""
