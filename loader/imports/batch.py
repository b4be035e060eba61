"""The import's own bookkeeping: one raw.load_batches row for the export file,
and every line rejected before loading in raw.load_rejects with its line
number, original record and reason, so that no line of the export is lost.

The batch's table_name is `export_lines`, not a raw table: it counts the
export's lines (rows_read = lines read, rows_rejected = lines rejected before
loading, rows_loaded = the lines passed on to the contract's files), and each
contract file keeps its own batch with its own rows. Per-table figures of the
Data quality page therefore never count an order item twice.

Written after the contract's files have loaded, in one transaction: a failed
load writes nothing here. When every contract file was skipped (loaded before)
and this export was recorded before, nothing is written either.
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from core.db import connect
from loader.imports.mapping import Mapping
from loader.imports.source import ExportFile, Reject, original_records

TABLE_NAME = "export_lines"
LOAD_METHOD = "import"


def record_import(
    env: dict[str, str],
    export: ExportFile,
    mapping: Mapping,
    *,
    lines_read: int,
    rejects: list[Reject],
    started_at: datetime,
    loads: list,
) -> int | None:
    """Write the export's batch and its rejected lines; return the batch id
    (None when nothing new was imported, see the module's doc)."""
    records = original_records(export, mapping, {r.line for r in rejects})
    with connect(env) as conn, conn.transaction(), conn.cursor() as cur:
        if all(r.method == "skipped" for r in loads) and _recorded_before(cur, export):
            return None
        batch_id = cur.execute(
            """
            insert into raw.load_batches (table_name, file_name, file_checksum,
                file_bytes, load_method, rows_read, rows_loaded, rows_rejected,
                started_at, finished_at)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, clock_timestamp())
            returning batch_id
            """,
            [
                TABLE_NAME,
                export.path.name,
                export.checksum,
                export.size,
                LOAD_METHOD,
                lines_read,
                lines_read - len(rejects),
                len(rejects),
                started_at,
            ],
        ).fetchone()[0]
        columns = "batch_id, table_name, file_name, line_number, record, reason"
        with cur.copy(f"copy raw.load_rejects ({columns}) from stdin") as copy:
            for reject in rejects:
                copy.write_row(
                    [
                        batch_id,
                        TABLE_NAME,
                        export.path.name,
                        reject.line,
                        _storable(records[reject.line]),
                        _storable(reject.reason),
                    ]
                )
    return batch_id


def _recorded_before(cur: psycopg.Cursor, export: ExportFile) -> bool:
    return cur.execute(
        "select exists (select 1 from raw.load_batches "
        "where table_name = %s and file_checksum = %s)",
        [TABLE_NAME, export.checksum],
    ).fetchone()[0]


def _storable(text: str) -> str:
    """PostgreSQL text holds no NUL character: it is kept visibly as `\\0`."""
    return text.replace("\x00", "\\0")
