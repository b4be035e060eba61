"""A file's records in Spark: the loader's pre-scan (the same as the PostgreSQL
load's: line numbers, records of the wrong shape or encoding set aside with
their reason) writes a landing CSV, Spark's CSV reader reads it with an explicit
schema, and each field is typed with the reason PostgreSQL would give when it
does not parse (a missing required value, a value of the wrong type, a text too
long)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from loader.load.files import SourceFile
from loader.load.prescan import _landing_rows
from loader.spark.contract import PARSE_DECIMAL, SparkColumn, SparkTable

CORRUPT = "_corrupt"
NUMBER = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
INTEGER = r"^\s*[+-]?\d+\s*$"
# numeric values that parse in PostgreSQL but are not amounts
SPECIAL = {"nan": r"^\s*nan\s*$", "inf": r"^\s*\+?inf(inity)?\s*$"}
NEGATIVE_INFINITY = r"^\s*-inf(inity)?\s*$"
# digits shaped like a date: a value PostgreSQL reads as a date whose fields are
# out of range (month 13), not as text it cannot read at all
DATE_SHAPED = r"^\s*\d{4}-\d{1,2}-\d{1,2}([ T].*)?$"
BOOLEAN = r"^\s*(t|tr|tru|true|y|ye|yes|on|1|f|fa|fal|fals|false|n|no|of|off|0)\s*$"


def write_landing(
    source: SourceFile, landing: Path, on_bytes: Callable[[int], None] | None
) -> None:
    """The file's records as landing CSV rows: line number, shape problem,
    record (set only with a problem), the fields."""
    with landing.open("wb") as out:
        for block in _landing_rows(source, on_bytes):
            out.write(block)


def read_landing(spark, landing: Path, columns: list[str]):
    """The landing file as text columns (Spark's CSV reader: RFC 4180 quotes,
    fields over several lines; a row it cannot split lands in `_corrupt`)."""
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    fields = [
        StructField("_line", LongType()),
        StructField("_problem", StringType()),
        StructField("_record", StringType()),
        *(StructField(c, StringType()) for c in columns),
        StructField(CORRUPT, StringType()),
    ]
    return spark.read.csv(
        str(landing),
        schema=StructType(fields),
        header=False,
        multiLine=True,
        escape='"',
        mode="PERMISSIVE",
        columnNameOfCorruptRecord=CORRUPT,
        encoding="UTF-8",
    )


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _rlike(expression: str, pattern: str) -> str:
    return f"{expression} rlike {_literal(pattern)}"


def _quoted(column: str) -> str:
    """`"<value>"` as PostgreSQL quotes a value in its messages."""
    return f"""concat('"', {column}, '"')"""


def _parse(column: SparkColumn, raw: str) -> tuple[str, str | None]:
    """(typed value, problem) of a text field `raw` (not null)."""
    kind, pg_type = column.kind, column.pg_type
    syntax = f"concat({_literal(f'invalid input syntax for type {pg_type}: ')}, "
    syntax += _quoted(raw) + ")"
    if kind in ("id", "text", "char"):
        too_long = _literal(f"value too long for type {pg_type}")
        return (
            raw,
            f"case when char_length({raw}) > {column.length} then {too_long} end",
        )
    if kind == "integer":
        value = f"try_cast({raw} as int)"
        out_of_range = (
            f"concat('value ', {_quoted(raw)}, ' is out of range for type integer')"
        )
        problem = (
            f"case when {value} is null then case when {_rlike(raw, INTEGER)} "
            f"then {out_of_range} else {syntax} end end"
        )
        return value, problem
    if kind == "numeric":
        value = f"try_cast({raw} as {PARSE_DECIMAL})"
        special = "|".join((*SPECIAL.values(), NEGATIVE_INFINITY))
        problem = (
            f"case when {value} is null and not {_rlike(raw, NUMBER)} "
            f"and not {_rlike(f'lower({raw})', special)} then {syntax} end"
        )
        return value, problem
    if kind == "boolean":
        value = f"try_cast(trim({raw}) as boolean)"
        return (
            value,
            f"case when not {_rlike(f'lower({raw})', BOOLEAN)} then {syntax} end",
        )
    cast = "timestamp" if kind == "timestamp" else "date"
    value = f"try_cast(trim({raw}) as {cast})"
    out_of_range = f"concat('date/time field value out of range: ', {_quoted(raw)})"
    problem = (
        f"case when {value} is null then case when {_rlike(raw, DATE_SHAPED)} "
        f"then {out_of_range} else {syntax} end end"
    )
    return value, problem


def typed_expressions(table: SparkTable, columns: list[str]) -> list[str]:
    """Spark SQL over the landing columns: `_line`, `_record` (the original
    record, rebuilt from its fields when it had the right shape), every column
    of the table typed (an absent column or an empty field takes the default,
    else null), `<money>__special` (nan, inf, -inf) and `_problem`: the shape
    problem, or every field's problem, or null."""
    out = ["_line", f"coalesce(_record, {_rebuilt_record(columns)}) as _record"]
    problems = {}
    for column in table.columns:
        name = column.name
        if name not in columns:
            out.append(
                f"cast({column.default or 'null'} as {_work_type(column)}) as {name}"
            )
            if column.decimals:
                out.append(f"cast(null as string) as {name}__special")
            continue
        value, problem = _parse(column, name)
        fallback = column.default or "null"
        out.append(
            f"cast(case when {name} is null then {fallback} else {value} end "
            f"as {_work_type(column)}) as {name}"
        )
        if column.decimals:
            out.append(f"{_special(name)} as {name}__special")
        found = []
        if column.required:
            missing = _literal(f"{name}: missing value (required)")
            found.append(f"case when {name} is null then {missing} end")
        if problem:
            found.append(
                f"case when {name} is not null then "
                f"concat({_literal(name + ': ')}, {problem}) end"
            )
        problems[name] = found
    corrupt = f"case when {CORRUPT} is not null then 'malformed record' end"
    shape = f"coalesce(_problem, {corrupt})"
    # in the file's column order, as PostgreSQL names them
    in_order = [p for c in columns for p in problems.get(c, [])] or ["null"]
    field_problems = f"nullif(concat_ws('; ', {', '.join(in_order)}), '')"
    out.append(f"coalesce({shape}, {field_problems}) as _problem")
    return out


def _work_type(column: SparkColumn) -> str:
    return PARSE_DECIMAL if column.kind == "numeric" else column.spark_type


def _special(name: str) -> str:
    low = f"lower({name})"
    return (
        f"case when {_rlike(low, SPECIAL['nan'])} then 'nan' "
        f"when {_rlike(low, SPECIAL['inf'])} then 'inf' "
        f"when {_rlike(low, NEGATIVE_INFINITY)} then '-inf' "
        # a number too large for the work type: not an amount a table keeps
        f"when {_rlike(name, NUMBER)} and try_cast({name} as {PARSE_DECIMAL}) is null "
        "then 'inf' end"
    )


def _rebuilt_record(columns: list[str]) -> str:
    """A CSV record from the landing fields (for the reject log), quoted as
    RFC 4180 wants: the same rebuild as the PostgreSQL load's landing path."""
    parts = [
        f"case when {c} is null then '' when {c} rlike '[\",\\r\\n]' "
        f"then concat('\"', replace({c}, '\"', '\"\"'), '\"') else {c} end"
        for c in columns
    ]
    return f"concat_ws(',', {', '.join(parts)})"
