"""`raw.load_batches`, `raw.load_rejects` and `raw.order_deletions` in the Spark
warehouse: the same columns as in PostgreSQL (dbt's sources read them),
appended to by every load. Ids continue from the largest stored one."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from loader.load.batches import FileResult
from loader.load.files import SourceFile
from loader.load.totals import as_json

BATCHES_SCHEMA = (
    "batch_id bigint, table_name string, file_name string, file_checksum string, "
    "file_bytes bigint, load_method string, rows_read bigint, rows_loaded bigint, "
    "rows_rejected bigint, started_at timestamp, finished_at timestamp, "
    "money_totals string"
)
REJECTS_SCHEMA = (
    "reject_id bigint, batch_id bigint, table_name string, file_name string, "
    "line_number bigint, record string, reason string, rejected_at timestamp"
)
DELETIONS_SCHEMA = "deletion_id bigint, order_id string, synced_at timestamp"
# the tables whose replacement may drop orders or lines (see record_replaced)
ORDER_TABLES = ("orders", "order_items")


def create_tables(spark) -> None:
    """The bookkeeping tables, empty, when the warehouse has none yet (dbt's
    sources need them even before a file was rejected)."""
    for table, schema in (
        ("raw.load_batches", BATCHES_SCHEMA),
        ("raw.load_rejects", REJECTS_SCHEMA),
        ("raw.order_deletions", DELETIONS_SCHEMA),
    ):
        spark.sql(f"create table if not exists {table} ({schema}) using parquet")


def _next_id(spark, table: str, column: str) -> int:
    if not spark.catalog.tableExists(table):
        return 1
    return (spark.table(table).agg({column: "max"}).collect()[0][0] or 0) + 1


def record(
    spark,
    sources: list[SourceFile],
    results: list[FileResult],
    rejects: list,
) -> None:
    """One batch row per file, and its rejected rows, appended."""
    from pyspark.sql import functions as F

    create_tables(spark)
    first_batch = _next_id(spark, "raw.load_batches", "batch_id")
    first_reject = _next_id(spark, "raw.load_rejects", "reject_id")
    now = datetime.now(UTC).replace(tzinfo=None)
    batches = []
    for n, (source, result) in enumerate(zip(sources, results, strict=True)):
        result.batch_id = first_batch + n
        started = now - timedelta(seconds=result.seconds)
        batches.append(
            (
                result.batch_id,
                result.table,
                result.file,
                source.checksum,
                source.size,
                result.method,
                result.rows_read,
                result.rows_loaded,
                result.rows_rejected,
                started,
                now,
                json.dumps(as_json(result.money)) if result.money else None,
            )
        )
    spark.createDataFrame(batches, BATCHES_SCHEMA).write.mode("append").format(
        "parquet"
    ).saveAsTable("raw.load_batches")
    frames = [
        rows.select(
            F.lit(result.batch_id).cast("bigint").alias("batch_id"),
            F.lit(result.table).alias("table_name"),
            F.lit(result.file).alias("file_name"),
            F.col("_line").alias("line_number"),
            F.col("_record").alias("record"),
            F.col("_reason").alias("reason"),
        )
        for result, rows in rejects
    ]
    if not frames:
        return
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionByName(frame)
    numbered = union.selectExpr(
        f"cast({first_reject} - 1 + row_number() over "
        "(order by batch_id, line_number) as bigint) as reject_id",
        "batch_id",
        "table_name",
        "file_name",
        "line_number",
        "record",
        "reason",
        "current_timestamp() as rejected_at",
    )
    numbered.write.mode("append").format("parquet").saveAsTable("raw.load_rejects")


def record_replaced(spark, replaced: set[str]) -> None:
    """A replaced orders or order_items table may have lost rows: one
    `raw.order_deletions` row with no order id ("every order may be gone"), as
    PostgreSQL records a truncate."""
    create_tables(spark)
    if replaced & set(ORDER_TABLES):
        deletion_id = _next_id(spark, "raw.order_deletions", "deletion_id")
        spark.sql(
            f"insert into raw.order_deletions select {deletion_id}, "
            "cast(null as string), current_timestamp()"
        )
