"""The row checks of the Spark load, in the PostgreSQL load's order and words:
CHECK constraints, reserved ids, keys repeated in the file or held by another
row, unknown parents. Each gives a reason or null; a row's reasons are joined
with '; ' (see loader/load/checks.py for the PostgreSQL side)."""

from __future__ import annotations

import re

from loader.load.checks import APP_ID_PREFIX
from loader.spark.contract import SparkTable
from loader.spark.landing import _literal


def _names_a_column(text: str, columns: list[str]) -> bool:
    return any(re.search(rf"\b{re.escape(c)}\b", text) for c in columns)


def constraint_checks(table: SparkTable, columns: list[str]) -> str:
    """The CHECK constraints that name a column of the file, as one reason."""
    parts = [
        f"case when not coalesce({c.expression}, true) then "
        f"{_literal(f'violates {c.name}: {c.readable}')} end"
        for c in table.checks
        if _names_a_column(c.readable, columns)
    ]
    return f"concat_ws('; ', {', '.join(parts) or 'null'})"


def _reserved_id(column: str) -> str:
    reason = (
        f"{column}: ids starting with '{APP_ID_PREFIX}' are kept for rows "
        "created in the app"
    )
    return (
        f"case when startswith(lower({column}), '{APP_ID_PREFIX}') then "
        f"{_literal(reason)} end"
    )


def row_problems(typed, table: SparkTable, columns: list[str], stored):
    """`typed` with `_row_problem`: the reasons of its rows that parsed.
    `stored` holds the table's rows loaded before this file in the run (or
    None): a unique value they hold is taken."""
    from pyspark.sql import functions as F

    good = typed.where("_problem is null")
    df = typed.withColumn("_checks", F.expr(constraint_checks(table, columns)))
    reasons = ["nullif(_checks, '')"]
    if table.primary_key in columns:
        reasons.append(_reserved_id(table.primary_key))
    # the key, the unique columns, the unique indexes on expressions
    keys = [(k, k, "") for k in [table.primary_key, *table.unique_keys]]
    keys += [
        (expression, readable, f"violates {name}: ")
        for name, expression, readable, _ in table.unique_indexes
    ]
    for n, (expression, label, prefix) in enumerate(keys):
        if not _names_a_column(expression, columns):
            continue
        first = (
            good.where(f"{expression} is not null")
            .groupBy(F.expr(expression).alias("_k"))
            .agg(F.min("_line").alias(f"_first{n}"), F.count("*").alias("_n"))
            .where("_n > 1")
            .drop("_n")
        )
        df = df.withColumn("_k", F.expr(expression)).join(first, "_k", "left")
        reasons.append(
            f"case when _line <> _first{n} then concat("
            f"{_literal(f'{prefix}duplicate {label} in file (first on line ')}, "
            f"_first{n}, ')') end"
        )
        if stored is not None and n > 0:
            holders = (
                stored.select(
                    F.expr(expression).alias("_k"),
                    F.col(table.primary_key).alias(f"_holder{n}"),
                )
                .where("_k is not null")
                .dropDuplicates(["_k"])
            )
            df = df.join(holders, "_k", "left")
            taken = f"{prefix}{label} already used by another {table.name} row"
            reasons.append(
                f"case when _holder{n} <> {table.primary_key} "
                f"then {_literal(taken)} end"
            )
        df = df.drop("_k")
    joined = f"nullif(concat_ws('; ', {', '.join(reasons)}), '')"
    return df.withColumn(
        "_row_problem", F.expr(f"case when _problem is null then {joined} end")
    )


def parent_problems(df, table: SparkTable, columns: list[str], parents: dict):
    """`df` with `_parent_problem`: its foreign-key values that no parent row
    has. `parents` maps a parent table to its rows (this run's, or those
    stored before)."""
    from pyspark.sql import functions as F

    reasons = []
    for n, fk in enumerate(table.foreign_keys):
        if fk.column not in columns:
            continue
        found = f"_parent{n}"
        keys = (
            parents[fk.parent].select(F.col(fk.parent_column).alias(found)).distinct()
        )
        df = df.join(keys, df[fk.column] == keys[found], "left")
        reason = f"unknown {fk.column}: no {fk.parent} row with {fk.column} = "
        reasons.append(
            f"case when {fk.column} is not null and {found} is null then "
            f"concat({_literal(reason)}, {fk.column}) end"
        )
    joined = f"nullif(concat_ws('; ', {', '.join(reasons) or 'null'}), '')"
    return df.withColumn(
        "_parent_problem", F.expr(f"case when _problem is null then {joined} end")
    )
