"""Load the data contract's CSV files into a local Spark warehouse (`ecom load
--target spark`): the same files, reject rules and reasons as the PostgreSQL
load, into parquet tables `raw.<table>` of the Hive metastore.

Modules: `contract` (the raw tables restated for Spark: types, defaults, keys,
CHECKs with PostgreSQL's names and texts), `landing` (the pre-scan's landing
file read by Spark's CSV reader, fields typed with their problems), `checks`
(row checks: constraints, keys, parents), `bookkeeping` (load_batches,
load_rejects), `directory` (the whole load). The session and its settings are
core.spark_session's.
"""

from loader.spark.contract import SPARK_TABLES, SparkTable
from loader.spark.directory import load_directory_spark

__all__ = ["SPARK_TABLES", "SparkTable", "load_directory_spark"]
