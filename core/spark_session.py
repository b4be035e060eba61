"""Where the Spark warehouse lives and the one Spark configuration that the
loader (`ecom load --target spark`) and dbt (the profile's `spark` target,
`method: session`) share.

The warehouse is a folder: `ECOM_SPARK_DIR`, or `spark/` beside the embedded
PostgreSQL's data folder (see core.settings.default_pgdata). In it:
`warehouse/` (the tables, parquet), `metastore_db/` (the Hive metastore, an
embedded Derby database) and `derby.log`. dbt-spark's session method builds its
session as `SparkSession.builder.enableHiveSupport()` plus one `.config(k, v)`
per entry of the profile's `server_side_parameters`: those entries must be
exactly `spark_conf()`, or dbt and the loader see two different catalogs.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

from core.errors import EcomError
from core.settings import default_pgdata

SPARK_DIR_VARIABLE = "ECOM_SPARK_DIR"
MASTER = "local[*]"
# A laptop's cores, not a cluster's: Spark's default of 200 shuffle partitions
# makes every small join pay for 200 tasks.
SHUFFLE_PARTITIONS = 4
NO_SPARK = "Spark is not installed: pip install -e '.[spark]'"
NO_JAVA = "no Java runtime: apt-get install default-jre-headless"


def default_spark_dir() -> Path:
    """`ECOM_SPARK_DIR`, or `spark/` next to the embedded server's data folder."""
    override = os.environ.get(SPARK_DIR_VARIABLE)
    if override:
        return Path(override).expanduser().resolve()
    return default_pgdata().parent / "spark"


def spark_conf(spark_dir: Path) -> dict[str, str]:
    """The session's settings: the single source for the loader and dbt."""
    spark_dir = Path(spark_dir).resolve()
    metastore = spark_dir / "metastore_db"
    return {
        "spark.master": MASTER,
        "spark.app.name": "ecom",
        "spark.sql.warehouse.dir": str(spark_dir / "warehouse"),
        "spark.sql.catalogImplementation": "hive",
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={metastore};create=true"
        ),
        # Derby writes derby.log into its system home (else the current folder)
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={spark_dir}",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(SHUFFLE_PARTITIONS),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        # parquet tables of the Hive metastore are read and written by Spark's
        # own parquet code (exact decimals, no Hive SerDe)
        "spark.sql.hive.convertMetastoreParquet": "true",
    }


def check_spark_available() -> None:
    """One line naming what is missing: pyspark, or a Java runtime."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise EcomError(NO_SPARK) from None
    java_home = os.environ.get("JAVA_HOME")
    java = Path(java_home) / "bin" / "java" if java_home else None
    if not (java and java.exists()) and shutil.which("java") is None:
        raise EcomError(NO_JAVA)


def session(spark_dir: Path | None = None):
    """A SparkSession on the warehouse folder, built as dbt-spark builds it
    (Hive support plus `spark_conf`). Spark keeps one session per process:
    a second call returns the first session."""
    check_spark_available()
    from pyspark.sql import SparkSession

    spark_dir = Path(spark_dir or default_spark_dir())
    spark_dir.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in spark_conf(spark_dir).items():
        builder = builder.config(key, value)
    with warnings.catch_warnings():
        # pyspark's notice about the pandas version: the loader uses no pandas
        warnings.filterwarnings("ignore", "PySpark does not yet fully support")
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
