"""SQL checks of the sifted path, built from a table's own constraints: the
problems of a landing row's text fields (missing values, values that don't
parse) and of a typed row (CHECKs, keys repeated or taken, unknown parents)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from psycopg import sql

from loader.load.catalog import TableSpec, UniqueIndex
from loader.load.sql_parts import _quoted_list, _same_values


def _readable(expression: str) -> str:
    """`(((quantity)::numeric > (0)::numeric))` -> `quantity > 0`, for reasons."""
    text = re.sub(
        r"::[a-z]+( varying| precision| with time zone)?(\[\])?", "", expression
    )
    text = re.sub(r"(?<!\w)\((\w+)\)", r"\1", text)  # not a call's parentheses
    text = re.sub(r"TRIM\(BOTH FROM (\w+)\)", r"trim(\1)", text)
    while text.startswith("(") and text.endswith(")"):
        inner = text[1:-1]
        depth = 0
        for ch in inner:
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if depth < 0:
                return text
        text = inner
    return text


def _field_checks(spec: TableSpec, cols: list[str]) -> list[sql.Composable]:
    """Problems of the text fields of a `landing` row: missing required values,
    values that don't parse as the column's type (the same input functions as
    COPY and casts, asked without raising)."""
    types = {c.name: c.sql_type for c in spec.columns}
    not_null = set(spec.required)  # an empty field takes the default
    checks = []
    for c in cols:
        ident = sql.Identifier(c)
        if c in not_null:
            checks.append(_missing_check(c))
        checks.append(
            sql.SQL(
                "case when {c} is not null and not pg_input_is_valid({c}, {t}) "
                "then {label} || (pg_input_error_info({c}, {t})).message end"
            ).format(c=ident, t=sql.Literal(types[c]), label=sql.Literal(f"{c}: "))
        )
    return checks


def _missing_check(column: str) -> sql.Composable:
    return sql.SQL("case when {c} is null then {msg} end").format(
        c=sql.Identifier(column), msg=sql.Literal(f"{column}: missing value (required)")
    )


@dataclass
class _Checks:
    """Row checks of a batch in `typed t`: expressions that name a problem (or
    give null) and the left joins they read."""

    problems: list[sql.Composable] = field(default_factory=list)
    joins: list[sql.Composable] = field(default_factory=list)
    # values computed on each row before the joins (`expr as name`)
    columns: list[sql.Composable] = field(default_factory=list)


def _row_checks(
    spec: TableSpec, cols: list[str]
) -> tuple[list[sql.Composable], _Checks, _Checks]:
    """SQL for the row-level checks of a batch in `typed t`, in two groups.

    Returns (CHECK constraints on bare columns, checks of the file and its own
    table, foreign-key checks). The first group (CHECK constraints, keys repeated
    in the file or held by other rows of the table) can run while the parent
    tables are still loading; foreign keys need the parents committed. Parents
    and other holders of a key are found with left joins (hash joins over the
    whole batch), not with a lookup per row.
    """
    return (
        _constraint_checks(spec, cols),
        _key_checks(spec, cols),
        _parent_checks(spec, cols),
    )


def _constraint_checks(spec: TableSpec, cols: list[str]) -> list[sql.Composable]:
    """The CHECK constraints that name a column of the file."""
    constraint_checks: list[sql.Composable] = [sql.SQL("null")]
    for name, expression in spec.checks:
        if not any(re.search(rf"\b{re.escape(c)}\b", expression) for c in cols):
            continue
        constraint_checks.append(
            sql.SQL("case when not coalesce({e}, true) then {m} end").format(
                e=sql.SQL(expression),
                m=sql.Literal(f"violates {name}: {_readable(expression)}"),
            )
        )
    return constraint_checks


def _parent_checks(spec: TableSpec, cols: list[str]) -> _Checks:
    """The foreign keys whose columns are all in the file."""
    parents = _Checks()
    for n, fk in enumerate(spec.foreign_keys):
        if not set(fk.columns) <= set(cols):
            continue
        alias = sql.Identifier(f"p{n}")
        parents.joins.append(
            sql.SQL("left join {ref} {a} on {on}").format(
                ref=sql.Identifier("raw", fk.ref_table),
                a=alias,
                on=_same_values(alias, fk.columns, fk.ref_columns),
            )
        )
        label = ", ".join(fk.columns)
        parents.problems.append(
            sql.SQL(
                "case when t.{first} is not null and {a}.{ref_first} is null "
                "then {m} || {value} end"
            ).format(
                first=sql.Identifier(fk.columns[0]),
                a=alias,
                ref_first=sql.Identifier(fk.ref_columns[0]),
                m=sql.Literal(
                    f"unknown {label}: no {fk.ref_table} row with {label} = "
                ),
                value=sql.SQL(" || ',' || ").join(
                    sql.SQL("t.{}::text").format(sql.Identifier(c)) for c in fk.columns
                ),
            )
        )
    return parents


def _key_checks(spec: TableSpec, cols: list[str]) -> _Checks:
    """The checks of the file and its own table: the CHECK constraints (already
    evaluated as `t._checks`), keys repeated in the file, unique keys held by
    other rows of the table, the same for unique indexes on expressions."""
    table = sql.Identifier("raw", spec.name)
    own = _Checks(problems=[sql.SQL("t._checks")])
    for c in spec.primary_key:
        if c in cols:
            own.problems.append(_reserved_id_check(c))
    keys = [spec.primary_key, *spec.unique_keys]
    for i, key in enumerate(keys):
        if not key or not set(key) <= set(cols):
            continue
        label = ", ".join(key)
        # keys seen more than once in the file (a hash aggregate, no sort)
        alias = sql.Identifier(f"d{i}")
        own.joins.append(
            sql.SQL(
                "left join (select {k}, min(_line) as first_line from typed "
                "where problem is null group by {k} having count(*) > 1) {a} on {on}"
            ).format(k=_quoted_list(key), a=alias, on=_same_values(alias, key, key))
        )
        own.problems.append(
            sql.SQL(
                "case when t._line <> {a}.first_line then {m} || {a}.first_line::text "
                "|| ')' end"
            ).format(
                a=alias, m=sql.Literal(f"duplicate {label} in file (first on line ")
            )
        )
        if i > 0 and spec.primary_key:
            # a unique key held by another row already in the table
            alias = sql.Identifier(f"u{i}")
            own.joins.append(
                sql.SQL("left join {table} {a} on {on}").format(
                    table=table, a=alias, on=_same_values(alias, key, key)
                )
            )
            other_row = sql.SQL(" or ").join(
                sql.SQL("{a}.{c} <> t.{c}").format(a=alias, c=sql.Identifier(c))
                for c in spec.primary_key
            )
            own.problems.append(
                sql.SQL("case when {other} then {m} end").format(
                    other=other_row,
                    m=sql.Literal(f"{label} already used by another {spec.name} row"),
                )
            )
    for i, index in enumerate(spec.unique_indexes):
        if set(index.columns) <= set(cols) and spec.primary_key:
            _unique_index_checks(own, spec, index, f"x{i}")
    return own


# Rows created in the app take ids `app-<n>`: a file may not bring such ids, so
# the two can never collide (and a load never overwrites an app-created row).
APP_ID_PREFIX = "app-"


def _reserved_id_check(column: str) -> sql.Composable:
    return sql.SQL("case when starts_with(lower(t.{c}), {p}) then {m} end").format(
        c=sql.Identifier(column),
        p=sql.Literal(APP_ID_PREFIX),
        m=sql.Literal(
            f"{column}: ids starting with '{APP_ID_PREFIX}' are kept for rows "
            "created in the app"
        ),
    )


def _unique_index_checks(
    own: _Checks, spec: TableSpec, index: UniqueIndex, prefix: str
) -> None:
    """A unique index on expressions (such as lower(email)): its values repeated
    in the file, or held by another row of the table. The values of each row
    are computed once, as `t.<prefix>_<n>` (null where a partial index does not
    cover the row, so it matches nothing)."""
    names = [f"{prefix}_{n}" for n in range(len(index.expressions))]
    covered = sql.SQL(index.where or "true")
    for name, expression in zip(names, index.expressions, strict=True):
        own.columns.append(
            sql.SQL("case when {w} then {e} end as {n}").format(
                w=covered, e=sql.SQL(expression), n=sql.Identifier(name)
            )
        )
    values = sql.SQL(", ").join(
        sql.SQL("{} as {}").format(sql.SQL(e), sql.Identifier(n))
        for e, n in zip(index.expressions, names, strict=True)
    )
    label = ", ".join(_readable(e) for e in index.expressions)
    repeated, holder = sql.Identifier(f"{prefix}_d"), sql.Identifier(f"{prefix}_u")
    # values seen more than once in the file: the first occurrence wins
    own.joins.append(
        sql.SQL(
            "left join (select {values}, min(_line) as first_line from typed "
            "where problem is null and {w} group by {keys} having count(*) > 1) "
            "{a} on {on}"
        ).format(
            values=values,
            w=covered,
            keys=sql.SQL(", ").join(sql.Literal(n + 1) for n in range(len(names))),
            a=repeated,
            on=_same_values(repeated, names, names),
        )
    )
    own.problems.append(
        sql.SQL(
            "case when t._line <> {a}.first_line then {m} || {a}.first_line::text "
            "|| ')' end"
        ).format(
            a=repeated,
            m=sql.Literal(
                f"violates {index.name}: duplicate {label} in file (first on line "
            ),
        )
    )
    # values held by another row of the table (another key)
    own.joins.append(
        sql.SQL(
            "left join (select {pk}, {values} from {table} where {w}) {a} on {on}"
        ).format(
            pk=_quoted_list(spec.primary_key),
            values=values,
            table=sql.Identifier("raw", spec.name),
            w=covered,
            a=holder,
            on=_same_values(holder, names, names),
        )
    )
    own.problems.append(
        sql.SQL("case when {other} then {m} end").format(
            other=sql.SQL(" or ").join(
                sql.SQL("{a}.{c} <> t.{c}").format(a=holder, c=sql.Identifier(c))
                for c in spec.primary_key
            ),
            m=sql.Literal(
                f"violates {index.name}: {label} already used by another "
                f"{spec.name} row"
            ),
        )
    )
