"""Loading a directory into the Spark warehouse: the files of the data contract
into the managed parquet tables `raw.<table>` of the Hive metastore, with the
PostgreSQL load's reject rules and reasons, rejects in `raw.load_rejects` and
one `raw.load_batches` row per file.

A load replaces each table it has files for (Spark's parquet tables have no
keys to upsert on): the table's files, base file first, are checked and merged
(a later batch's row replaces an earlier one with the same key) and the result
overwrites the table. Tables without a file in the directory stay as they are,
and foreign keys are checked against them. Nothing is written until every file
has been checked, so a file above the reject limit leaves the warehouse as it
was; the bookkeeping tables keep every load's rows.
"""

from __future__ import annotations

import contextlib
import shutil
import time
import uuid
from array import array
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from core.errors import EcomError
from core.spark_session import default_spark_dir, session
from loader.load.batches import FileResult, _adds_up
from loader.load.catalog import SYNC_STAMP, TABLES, Column, TableSpec
from loader.load.files import (
    REQUIRED_TABLES,
    SourceFile,
    discover,
    read_header,
    take_checksum,
)
from loader.load.prescan import _landing_rows
from loader.load.reject_limit import DEFAULT_MAX_REJECT_RATE
from loader.spark import bookkeeping
from loader.spark.checks import parent_problems, row_problems
from loader.spark.contract import SPARK_TABLES, SparkTable
from loader.spark.landing import read_landing, typed_expressions

# what a money value adds to the totals: an amount a table can keep, of a row
# whose values all parse (as in the PostgreSQL load, a row with a value that
# does not parse is counted in the rows rejected, not in the sums)
FINITE = (
    "case when _problem is null and {c}__special is null "
    "and abs({c}) < 100000000000000 then {c} end"
)
SUM_TYPE = "decimal(38,10)"


def header_spec(table: SparkTable) -> TableSpec:
    """The table as the header check of the PostgreSQL load wants it."""
    columns = [
        Column(c.name, c.pg_type, c.required or c.default is not None, bool(c.default))
        for c in table.columns
    ]
    return TableSpec(table.name, columns, [table.primary_key])


def load_directory_spark(
    data_dir: Path,
    spark_dir: Path | None = None,
    *,
    spark=None,
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE,
    on_file: Callable[[str, int], None] | None = None,
    on_bytes: Callable[[str, int], None] | None = None,
    on_done: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Load every CSV file of `data_dir` into the Spark warehouse; return one
    result per file (method `spark`)."""
    data_dir = Path(data_dir)
    sources = [
        read_header(path, header_spec(SPARK_TABLES[_table_of(path)]))
        for path in discover(data_dir)
    ]
    spark_dir = Path(spark_dir or default_spark_dir())
    spark = spark or session(spark_dir)
    spark.sql("create database if not exists raw")
    _check_required_tables(spark, sources)
    work = spark_dir / "landing" / uuid.uuid4().hex
    work.mkdir(parents=True)
    loaded: dict[str, object] = {}  # table -> its rows of this run
    results, rejects, cached = [], [], []
    try:
        for source in sources:
            take_checksum(source)
            if on_file:
                on_file(source.path.name, source.size)
            result, valid, rejected, frames = _load_file(
                spark, source, work, loaded, on_bytes, max_reject_rate
            )
            cached += frames
            loaded[source.table] = _merged(loaded.get(source.table), valid, source)
            results.append(result)
            rejects.append((result, rejected))
            if on_done:
                on_done(result)
        replaced = [t for t in TABLES if t in loaded]
        existed = {t for t in replaced if spark.catalog.tableExists(f"raw.{t}")}
        for table in replaced:
            _write_table(spark, SPARK_TABLES[table], loaded[table])
        bookkeeping.record(spark, sources, results, rejects)
        bookkeeping.record_replaced(spark, existed)
    finally:
        for frame in cached:
            frame.unpersist()
        shutil.rmtree(work, ignore_errors=True)
        with contextlib.suppress(OSError):  # another load may be using it
            work.parent.rmdir()
    return results


def _table_of(path: Path) -> str:
    return path.stem.split("__", 1)[0]


def _check_required_tables(spark, sources: list[SourceFile]) -> None:
    present = {s.table for s in sources}
    for table in REQUIRED_TABLES:
        if table in present or spark.catalog.tableExists(f"raw.{table}"):
            continue
        raise EcomError(
            f"missing file: {table}.csv (raw.{table} does not exist in the Spark "
            "warehouse and nothing in the directory loads it)"
        )


def _parents(spark, table: SparkTable, loaded: dict) -> dict:
    """Each parent table's rows: this run's, else those stored, else none."""
    from pyspark.sql import functions as F

    parents = {}
    for fk in table.foreign_keys:
        if fk.parent in loaded:
            parents[fk.parent] = loaded[fk.parent]
        elif spark.catalog.tableExists(f"raw.{fk.parent}"):
            parents[fk.parent] = spark.table(f"raw.{fk.parent}")
        else:
            parents[fk.parent] = spark.range(0).select(
                F.lit(None).cast("string").alias(fk.parent_column)
            )
    return parents


def _load_file(spark, source, work, loaded, on_bytes, max_reject_rate):
    """Check one file: (result, valid rows, rejected rows, cached frames)."""
    started = time.perf_counter()
    table = SPARK_TABLES[source.table]
    name = source.path.name
    landing = work / f"{source.path.stem}.csv"
    sent = array("q")  # the line numbers the pre-scan gave out: rows read

    def count(n: int) -> None:
        if on_bytes:
            on_bytes(name, n)

    with landing.open("wb") as out:
        for block in _landing_rows(source, count, sent=sent):
            out.write(block)
    typed = (
        read_landing(spark, landing, source.columns)
        .selectExpr(*typed_expressions(table, source.columns))
        .cache()
    )
    checked = row_problems(typed, table, source.columns, loaded.get(source.table))
    checked = parent_problems(
        checked, table, source.columns, _parents(spark, table, loaded)
    )
    checked = checked.selectExpr(
        "*",
        "coalesce(_problem, nullif(concat_ws('; ', _row_problem, _parent_problem),"
        " '')) as _reason",
    ).cache()
    result = FileResult(file=name, table=table.name, method="spark")
    _count(checked, table, source.columns, result)
    result.seconds = time.perf_counter() - started
    if result.rows_read != len(sent):
        raise EcomError(
            f"{name}: Spark read {result.rows_read} rows, the file has {len(sent)}; "
            "nothing was written"
        )
    _check_reject_limit(checked, result, max_reject_rate)
    valid = checked.where("_reason is null").select(*table.column_names)
    rejected = checked.where("_reason is not null").select(
        "_line", "_record", "_reason"
    )
    return result, valid, rejected, [typed, checked]


def _count(checked, table: SparkTable, columns: list[str], result: FileResult):
    """Rows and money totals of the file, in one pass; they must reconcile."""
    from pyspark.sql import functions as F

    money = [c for c in table.money if c in columns]
    aggregates = [
        F.count("*").alias("read"),
        F.count(F.when(F.expr("_reason is null"), 1)).alias("loaded"),
        F.count(F.when(F.expr("_reason is not null"), 1)).alias("rejected"),
    ]
    for c in money:
        value = f"cast({FINITE.format(c=c)} as {SUM_TYPE})"
        aggregates += [
            F.expr(f"sum({value})").alias(f"{c}__read"),
            F.expr(f"sum(case when _reason is null then {value} end)").alias(
                f"{c}__loaded"
            ),
            F.expr(f"sum(case when _reason is not null then {value} end)").alias(
                f"{c}__rejected"
            ),
        ]
    row = checked.agg(*aggregates).collect()[0]
    result.rows_read, result.rows_loaded = row["read"], row["loaded"]
    result.rows_rejected = row["rejected"]
    if result.rows_read != result.rows_loaded + result.rows_rejected:
        raise EcomError(
            f"{result.file}: rows do not reconcile ({result.rows_read} read, "
            f"{result.rows_loaded} loaded, {result.rows_rejected} rejected); "
            "nothing was written"
        )
    for c in money:
        read, kept, refused = (
            _exact(row[f"{c}__{part}"]) for part in ("read", "loaded", "rejected")
        )
        if not _adds_up(read, kept, refused):
            raise EcomError(
                f"{result.file}: {c} totals do not reconcile ({read} read, {kept} "
                f"loaded, {refused} rejected); nothing was written"
            )
        result.money[c] = (read, kept, refused)


def _exact(value) -> Decimal:
    """A sum as the PostgreSQL load shows it: no trailing zeros of the type."""
    if value is None:
        return Decimal(0)
    value = Decimal(value).normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral() else value


def _check_reject_limit(checked, result: FileResult, rate: float) -> None:
    """A file with too many rejects is taken for the wrong file: stop."""
    if not result.rows_rejected or result.rows_rejected <= rate * result.rows_read:
        return
    commonest = (
        checked.where("_reason is not null")
        .groupBy("_reason")
        .agg({"_line": "min", "*": "count"})
        .orderBy("count(1)", ascending=False)
        .limit(3)
        .collect()
    )
    shown = "; ".join(
        f"{r['_reason']} ({r['count(1)']}x, e.g. line {r['min(_line)']})"
        for r in commonest
    )
    raise EcomError(
        f"{result.file}: {result.rows_rejected} of {result.rows_read} rows rejected "
        f"(more than {rate:.0%}); nothing was written. Commonest: {shown}"
    )


def _merged(before, valid, source: SourceFile):
    """This run's rows of a table after one more file: a row of the later file
    replaces the earlier row with the same key."""
    if before is None:
        return valid
    key = SPARK_TABLES[source.table].primary_key
    return before.join(valid.select(key), key, "left_anti").unionByName(valid)


def _write_table(spark, table: SparkTable, rows) -> None:
    """Replace `raw.<table>` with the rows, in the stored types, each stamped
    `synced_at` (when the warehouse wrote it, as in PostgreSQL)."""
    typed = rows.selectExpr(
        *(f"cast({c.name} as {c.spark_type}) as {c.name}" for c in table.columns),
        f"cast(current_timestamp() as timestamp) as {SYNC_STAMP}",
    )
    typed.write.mode("overwrite").format("parquet").saveAsTable(f"raw.{table.name}")
