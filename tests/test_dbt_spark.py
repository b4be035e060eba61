"""The same dbt models on PostgreSQL and on Apache Spark: one small shop loaded
into both engines and built on both (models and seeds; the data tests of the
PostgreSQL build run in the other dbt test files). Every mart, the ones the
prediction models read included, holds the same keys, the same number of rows
and the same money, to the cent, on both engines."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import pytest

from core import db
from core.errors import EcomError
from core.spark_session import check_spark_available

try:
    check_spark_available()
    NO_SPARK = ""
except EcomError as exc:
    NO_SPARK = str(exc)

pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.skipif(bool(NO_SPARK), reason=NO_SPARK),
]

# models and seeds: the marts' contents are what the engines must agree on
BUILD = ["build", "--exclude", "resource_type:test", "resource_type:unit_test"]
KEY_TESTS = {"unique", "unique_key", "unique_combination_of_columns"}
# each loader numbers its own load batches: the file name stands for the batch
SAME_ON_BOTH = {"batch_id": "file_name"}
# how long each engine took to load a file: a measurement, not data
TIMINGS = {"load_seconds"}
CENT = Decimal("0.01")
# every model of schema marts (a test checks the list against the manifest)
MARTS = [
    "dim_channels",
    "dim_customers",
    "dim_date",
    "dim_products",
    "dim_promotions",
    "dim_regions",
    "fct_order_items",
    "fct_orders",
    "rpt_basket_rules",
    "rpt_basket_rules_category",
    "rpt_category_seasonality",
    "rpt_cohort_retention",
    "rpt_customer_ltv",
    "rpt_customer_rfm",
    "rpt_inventory_status",
    "rpt_kpi_daily",
    "rpt_load_batches",
    "rpt_load_quality",
    "rpt_payments_outstanding",
    "rpt_sales_daily",
    "rpt_sales_monthly",
    "rpt_stock_history",
]


@pytest.fixture(scope="module")
def engines(module_db, tmp_path_factory) -> Iterator[dict]:
    """The shop built on both engines: the PostgreSQL database, the Spark session
    (dbt runs in this process, on the same session: one JVM, one metastore)
    and dbt's manifest of the PostgreSQL build."""
    from dbt.cli.main import dbtRunner

    from core.dbt_runner import DBT_PROJECT_DIR, run_dbt
    from core.spark_session import SPARK_DIR_VARIABLE, session
    from loader.generate import generate
    from loader.load import load_directory
    from loader.spark import load_directory_spark

    shop = tmp_path_factory.mktemp("two_engines_shop")
    generate(shop, scale=0.02, seed=11, dirty_rate=0.01)

    load_directory(module_db, shop)
    pg_target = tmp_path_factory.mktemp("two_engines_pg_target")
    built = run_dbt(BUILD, module_db, target_path=pg_target, capture=True)
    assert built.returncode == 0, built.stdout[-5000:]

    spark_dir = tmp_path_factory.mktemp("two_engines_spark")
    spark_target = tmp_path_factory.mktemp("two_engines_spark_target")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SPARK_DIR_VARIABLE, str(spark_dir))
        patch.setenv("DBT_TARGET", "spark")
        spark = session(spark_dir)
        load_directory_spark(shop, spark_dir, spark=spark)
        result = dbtRunner().invoke(
            [
                *BUILD,
                "--project-dir", str(DBT_PROJECT_DIR),
                "--profiles-dir", str(DBT_PROJECT_DIR),
                "--target-path", str(spark_target),
                "--log-path", str(spark_target / "logs"),
            ]
        )  # fmt: skip
        assert result.success, f"dbt build on Spark failed: {failures(result)}"
        yield {
            "env": module_db,
            "spark": spark,
            "manifest": json.loads((pg_target / "manifest.json").read_text()),
        }
        spark.stop()


def failures(result) -> str:
    """What went wrong in an in-process dbt run: its exception, or the failed
    nodes with their messages."""
    if result.exception is not None or result.result is None:
        return str(result.exception)
    return "; ".join(
        f"{node.node.name}: {node.message}"
        for node in result.result.results
        if str(node.status) in ("error", "fail")
    )


def marts(manifest: dict) -> dict[str, dict]:
    """The models of schema marts, by name."""
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "marts"
    }


def key_columns(manifest: dict, model: str) -> list[str]:
    """The columns of the model's first key test (unique, unique_key,
    unique_combination_of_columns), with the file name for a load batch's id."""
    unique_id = marts(manifest)[model]["unique_id"]
    for node in manifest["nodes"].values():
        meta = node.get("test_metadata") or {}
        if meta.get("name") not in KEY_TESTS or node.get("attached_node") != unique_id:
            continue
        kwargs = meta.get("kwargs", {})
        columns = (
            kwargs.get("columns")
            or kwargs.get("combination_of_columns")
            or [kwargs["column_name"]]
        )
        return [SAME_ON_BOTH.get(column, column) for column in columns]
    raise AssertionError(f"{model}: no key test")


def money_columns(node: dict) -> list[str]:
    """The contract's exact-decimal columns (money and its ratios)."""
    return [
        name
        for name, column in node["columns"].items()
        if (column.get("data_type") or "").startswith("numeric") and name not in TIMINGS
    ]


def pg_rows(env: dict[str, str], statement: str) -> list[tuple]:
    with db.connect(env) as conn:
        return conn.execute(statement).fetchall()


def as_text(node: dict, columns: list[str], engine: str) -> str:
    """Key columns as text on both engines: dates as YYYY-MM-DD, instants as
    microseconds since 1970."""
    shown = []
    for column in columns:
        data_type = node["columns"].get(column, {}).get("data_type") or ""
        if data_type.startswith("timestamp"):
            column = (
                f"unix_micros({column})"
                if engine == "spark"
                else f"cast(extract(epoch from {column}) * 1000000 as bigint)"
            )
        shown.append(f"cast({column} as {'string' if engine == 'spark' else 'text'})")
    return ", ".join(shown)


def test_both_engines_build_the_same_marts(engines):
    """Every mart built on PostgreSQL is built on Spark too."""
    names = set(marts(engines["manifest"]))
    tables = engines["spark"].sql("show tables in marts").collect()
    on_spark = {row.tableName for row in tables}
    assert names == set(MARTS)
    assert names <= on_spark, sorted(names - on_spark)


@pytest.mark.parametrize("mart", MARTS)
def test_mart_agrees_across_engines(engines, mart):
    """The same keys (so the same row count) and, per exact-decimal column, the
    same total to the cent."""
    manifest, spark = engines["manifest"], engines["spark"]
    node = marts(manifest)[mart]
    keys = key_columns(manifest, mart)
    money = money_columns(node)

    pg_keys = Counter(
        pg_rows(engines["env"], f"select {as_text(node, keys, 'pg')} from marts.{mart}")
    )
    spark_keys = Counter(
        tuple(row)
        for row in spark.sql(
            f"select {as_text(node, keys, 'spark')} from marts.{mart}"
        ).collect()
    )
    assert sum(pg_keys.values()) == sum(spark_keys.values()), "row counts differ"
    assert spark_keys == pg_keys

    if not money:
        return
    totals = ", ".join(f"sum({column})" for column in money)
    pg_totals = pg_rows(engines["env"], f"select {totals} from marts.{mart}")[0]
    spark_totals = spark.sql(f"select {totals} from marts.{mart}").collect()[0]
    for column, pg_total, spark_total in zip(
        money, pg_totals, spark_totals, strict=True
    ):
        assert (pg_total is None) == (spark_total is None), column
        if pg_total is not None:
            assert abs(Decimal(pg_total) - Decimal(spark_total)) < CENT, (
                f"{column}: {pg_total} on PostgreSQL, {spark_total} on Spark"
            )


def test_sales_are_not_empty(engines):
    """The comparison compares something: the shop has sales on both engines."""
    pg = pg_rows(
        engines["env"], "select count(*), sum(net_revenue) from marts.fct_orders"
    )
    spark = engines["spark"].sql(
        "select count(*), sum(net_revenue) from marts.fct_orders"
    )
    assert pg[0][0] > 100
    assert spark.collect()[0][0] == pg[0][0]
