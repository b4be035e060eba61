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

# column -> (read, loaded, rejected)
MoneyTotals = dict[str, tuple[Decimal, Decimal, Decimal]]

# the value when it is an amount a table can keep: 'NaN', infinities and values
# of 10^14 or more are rejected and not summed (they are not amounts)
FINITE = "case when abs({c}) < 100000000000000 then {c} end"


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
