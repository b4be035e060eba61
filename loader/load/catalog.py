"""The raw tables the loader fills, as PostgreSQL's catalog describes them.

`TABLES` is the load order; `read_table_spec` reads a table's columns, keys,
CHECKs and foreign keys: the source of every validation of the sifted path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

# Dependency order: parents before children.
TABLES = (
    "regions",
    "channels",
    "customers",
    "products",
    "promotions",
    "orders",
    "order_items",
)


@dataclass
class Column:
    name: str
    sql_type: str
    not_null: bool
    has_default: bool


@dataclass
class ForeignKey:
    name: str
    columns: list[str]
    ref_table: str
    ref_columns: list[str]


@dataclass
class TableSpec:
    """A raw table as the catalog describes it: the source of every validation."""

    name: str
    columns: list[Column]
    primary_key: list[str]
    unique_keys: list[list[str]] = field(default_factory=list)
    checks: list[tuple[str, str]] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.not_null and not c.has_default]


def read_table_spec(conn: psycopg.Connection, table: str) -> TableSpec:
    columns = [
        Column(*row)
        for row in conn.execute(
            """
            select a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   a.atthasdef
            from pg_attribute a
            where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped
            order by a.attnum
            """,
            [f"raw.{table}"],
        )
    ]
    spec = TableSpec(name=table, columns=columns, primary_key=[])
    constraints = conn.execute(
        """
        select c.conname, c.contype, pg_get_constraintdef(c.oid),
               array(select a.attname from unnest(c.conkey) with ordinality k(n, i)
                     join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n
                     order by k.i),
               c.confrelid::regclass::text,
               array(select a.attname from unnest(c.confkey) with ordinality k(n, i)
                     join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n
                     order by k.i)
        from pg_constraint c
        where c.conrelid = %s::regclass
        order by c.conname
        """,
        [f"raw.{table}"],
    ).fetchall()
    for name, kind, definition, cols, ref_table, ref_cols in constraints:
        if kind == "p":
            spec.primary_key = list(cols)
        elif kind == "u":
            spec.unique_keys.append(list(cols))
        elif kind == "c":
            spec.checks.append((name, definition.removeprefix("CHECK ")))
        elif kind == "f":
            ref = ref_table.split(".")[-1]
            spec.foreign_keys.append(ForeignKey(name, list(cols), ref, list(ref_cols)))
    return spec
