"""The reject limit: a file with more than a share of its rows rejected is not
a dirty file but the wrong file (or the wrong mapping). Nothing of it is kept,
and the message says why the rows were rejected."""

from __future__ import annotations

import psycopg

from core.errors import EcomError
from loader.load.batches import FileResult

DEFAULT_MAX_REJECT_RATE = 0.1
EXAMPLE_CHARS = 80


def check_reject_limit(
    cur: psycopg.Cursor, result: FileResult, max_rate: float
) -> None:
    """Raise (rolling the file's transaction back) when more than `max_rate` of
    the file's rows were rejected, naming the three commonest reasons with
    their counts and an example line each."""
    if not result.rows_read or result.rows_rejected <= max_rate * result.rows_read:
        return
    reasons = cur.execute(
        """
        select reason, count(*), min(line_number),
            (array_agg(record order by line_number))[1]
        from raw.load_rejects
        where batch_id = %s
        group by reason
        order by count(*) desc, min(line_number)
        limit 3
        """,
        [result.batch_id],
    ).fetchall()
    shown = "; ".join(
        f"{count:,} x {reason} (e.g. line {line}: {_short(record)})"
        for reason, count, line, record in reasons
    )
    share = result.rows_rejected / result.rows_read
    raise EcomError(
        f"{result.file}: {result.rows_rejected:,} of {result.rows_read:,} rows "
        f"rejected ({share:.0%}, more than the limit of {max_rate:.0%}); nothing "
        f"of the file was loaded. Commonest reasons: {shown}"
    )


def _short(record: str) -> str:
    record = record.replace("\r", " ").replace("\n", " ")
    if len(record) > EXAMPLE_CHARS:
        return record[: EXAMPLE_CHARS - 1] + "…"
    return record
