"""The Spark load against the PostgreSQL load: one small dirty shop loaded into
both, the same rows, money and rejects; the Spark contract against PostgreSQL's
catalog; the dbt profile's Spark settings against core.spark_session."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import jinja2
import pytest
import yaml

from core import db
from core.errors import EcomError
from core.settings import PROJECT_ROOT
from core.spark_session import check_spark_available, spark_conf
from loader.load.catalog import TABLES, read_table_spec
from loader.load.checks import _readable
from loader.spark.contract import SPARK_TABLES

try:
    check_spark_available()
    NO_SPARK = ""
except EcomError as exc:
    NO_SPARK = str(exc)


def needs_spark(test):
    """Marked spark and slow; skipped with the missing piece as the reason."""
    for mark in (
        pytest.mark.spark,
        pytest.mark.slow,
        pytest.mark.skipif(bool(NO_SPARK), reason=NO_SPARK),
    ):
        test = mark(test)
    return test


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    from loader.generate import generate

    data_dir = tmp_path_factory.mktemp("spark_shop")
    generate(data_dir, scale=0.02, seed=7, dirty_rate=0.01)
    return data_dir


@pytest.fixture(scope="module")
def loads(shop, module_db, tmp_path_factory):
    """The shop loaded into PostgreSQL and into Spark (one session: the JVM is
    slow to start)."""
    if NO_SPARK:
        pytest.skip(NO_SPARK)
    from core.spark_session import session
    from loader.load import load_directory
    from loader.spark import load_directory_spark

    pg_results = load_directory(module_db, shop)
    spark_dir = tmp_path_factory.mktemp("spark_warehouse")
    spark = session(spark_dir)
    spark_results = load_directory_spark(shop, spark_dir, spark=spark)
    yield {
        "env": module_db,
        "pg": pg_results,
        "spark": spark,
        "spark_dir": spark_dir,
        "spark_results": spark_results,
    }
    spark.stop()


def _pg_rows(env, query: str) -> list[tuple]:
    with db.connect(env) as conn:
        return conn.execute(query).fetchall()


def _comparable(kind: str, column: str, engine: str) -> str:
    """A column as both engines can give it: timestamps in epoch microseconds."""
    if kind == "timestamp":
        if engine == "pg":
            return f"(extract(epoch from {column}) * 1000000)::bigint"
        return f"unix_micros({column})"
    if kind == "date":
        return f"cast({column} as string)" if engine == "spark" else f"{column}::text"
    return column


@needs_spark
@pytest.mark.parametrize("table", TABLES)
def test_same_rows_as_postgres(loads, table):
    """Every raw table holds the same rows, value for value (timestamps to the
    microsecond, money as exact decimals, ids as text)."""
    columns = SPARK_TABLES[table].columns

    def select(engine: str) -> str:
        shown = ", ".join(_comparable(c.kind, c.name, engine) for c in columns)
        return f"select {shown} from raw.{table}"

    pg = _pg_rows(loads["env"], select("pg"))
    spark = [tuple(r) for r in loads["spark"].sql(select("spark")).collect()]
    assert len(pg) > 0
    assert len(spark) == len(pg)
    assert Counter(spark) == Counter(pg)


@needs_spark
def test_same_money_and_counts_per_file(loads):
    """Each file: the same rows read, loaded and rejected, and the same money
    totals (read = loaded + rejected) as the PostgreSQL load."""
    pg = {r.file: r for r in loads["pg"]}
    spark = {r.file: r for r in loads["spark_results"]}
    assert set(spark) == set(pg)
    for name, result in spark.items():
        expected = pg[name]
        assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (
            expected.rows_read,
            expected.rows_loaded,
            expected.rows_rejected,
        ), name
        assert result.money == expected.money, name
    assert sum(r.rows_rejected for r in spark.values()) > 0  # the shop is dirty


@needs_spark
def test_same_rejects_and_reasons(loads):
    """raw.load_rejects: per file, the same lines with the same reasons and
    the same original records."""
    query = "select file_name, line_number, reason, record from raw.load_rejects"
    pg = _pg_rows(loads["env"], query)
    spark = [tuple(r) for r in loads["spark"].sql(query).collect()]
    assert pg
    assert sorted(spark) == sorted(pg)


@needs_spark
def test_bookkeeping_and_reload_replaces(loads, shop, tmp_path):
    """One raw.load_batches row per file, reconciled; loading a file again
    replaces its table (no doubled rows) and appends to the bookkeeping."""
    from loader.spark import load_directory_spark

    spark = loads["spark"]
    batches = spark.sql(
        "select file_name, rows_read, rows_loaded, rows_rejected from raw.load_batches"
    ).collect()
    assert {b.file_name for b in batches} == {r.file for r in loads["pg"]}
    assert all(b.rows_read == b.rows_loaded + b.rows_rejected for b in batches)
    again = tmp_path / "again"
    again.mkdir()
    (again / "regions.csv").write_bytes((shop / "regions.csv").read_bytes())
    before = spark.table("raw.regions").count()
    load_directory_spark(again, loads["spark_dir"], spark=spark)
    assert spark.table("raw.regions").count() == before
    assert spark.sql("select * from raw.load_batches").count() == len(batches) + 1


@needs_spark
def test_dbt_sources_exist_on_spark(loads):
    """Every source table and column dbt's staging reads exists on Spark."""
    sources = yaml.safe_load(
        (PROJECT_ROOT / "dbt_project/models/staging/_staging__sources.yml").read_text()
    )
    spark = loads["spark"]
    for source in sources["sources"]:
        for table in source["tables"]:
            stored = set(spark.table(f"raw.{table['name']}").columns)
            wanted = {c["name"] for c in table.get("columns", [])}
            assert wanted <= stored, table["name"]


def test_contract_matches_postgres_catalog(module_db):
    """The Spark contract restates core/sql/001_raw_tables.sql: the same
    columns, types, required columns, defaults, keys and constraint texts."""
    from core.schema import apply_schema

    with db.connect(module_db) as conn:
        apply_schema(conn)
        specs = {t: read_table_spec(conn, t) for t in TABLES}
    for name, spec in specs.items():
        table = SPARK_TABLES[name]
        assert [(c.name, c.sql_type) for c in spec.columns] == [
            (c.name, c.pg_type) for c in table.columns
        ]
        assert spec.required == table.required
        assert [c.name for c in spec.columns if c.has_default] == [
            c.name for c in table.columns if c.default
        ]
        assert spec.primary_key == [table.primary_key]
        assert spec.unique_keys == [[k] for k in table.unique_keys]
        assert [(n, _readable(e)) for n, e in spec.checks] == [
            (c.name, c.readable) for c in table.checks
        ]
        assert sorted(
            (fk.columns, fk.ref_table, fk.ref_columns) for fk in spec.foreign_keys
        ) == sorted(
            ([fk.column], fk.parent, [fk.parent_column]) for fk in table.foreign_keys
        )
        assert [
            (i.name, [_readable(e) for e in i.expressions]) for i in spec.unique_indexes
        ] == [(n, [readable]) for n, _, readable, _ in table.unique_indexes]


def test_profile_spark_target_matches_spark_conf(tmp_path):
    """The dbt profile's spark target builds its session with exactly
    spark_conf(): the loader and dbt see one catalog."""
    profile = yaml.safe_load((PROJECT_ROOT / "dbt_project/profiles.yml").read_text())
    target = profile["ecom"]["outputs"]["spark"]
    spark_dir = tmp_path.resolve()
    render = jinja2.Environment().from_string
    parameters = {
        key: render(str(value)).render(env_var=lambda *_: str(spark_dir))
        for key, value in target["server_side_parameters"].items()
    }
    assert target["method"] == "session"
    assert parameters == spark_conf(spark_dir)
