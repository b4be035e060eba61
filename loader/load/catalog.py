"""The raw tables the loader fills, as PostgreSQL's catalog describes them.

`TABLES` is the load order; `read_table_spec` reads a table's columns, keys,
CHECKs, foreign keys and unique indexes on expressions (such as lower(email)):
the source of every validation of the sifted path.
"""

from __future__ import annotations

import re
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
    default_sql: str | None = None  # the default's expression, e.g. now()
    collation: str | None = None  # when not the type's default, e.g. "C"

    @property
    def declared_type(self) -> str:
        """The type with its collation: for columns of the loader's work tables
        that are compared with this one (ids are `collate "C"`)."""
        if self.collation:
            return f"{self.sql_type} collate {self.collation}"
        return self.sql_type


@dataclass
class ForeignKey:
    name: str
    columns: list[str]
    ref_table: str
    ref_columns: list[str]


@dataclass
class UniqueIndex:
    """A unique index on expressions of the columns, e.g. `lower(email)`: no two
    rows may have the same values of `expressions`."""

    name: str
    expressions: list[str]  # SQL over the table's bare column names
    columns: list[str]  # the columns they and `where` read
    where: str | None = None  # a partial index: the rows it covers


SYNC_STAMP = "synced_at"


@dataclass
class TableSpec:
    """A raw table as the catalog describes it: the source of every validation."""

    name: str
    columns: list[Column]
    primary_key: list[str]
    unique_keys: list[list[str]] = field(default_factory=list)
    checks: list[tuple[str, str]] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    unique_indexes: list[UniqueIndex] = field(default_factory=list)
    # the table has `synced_at`: the warehouse's write stamp, never a file's
    # column; an update must set it (the loader's updates skip the triggers)
    stamped: bool = False

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.not_null and not c.has_default]

    @property
    def money(self) -> list[str]:
        """The money columns: those kept to 4 decimals (see the DDL). Each
        load records their totals (read = loaded + rejected)."""
        names = {name for name, _ in self.checks}
        return [c.name for c in self.columns if f"{c.name}_at_most_4_decimals" in names]


def read_table_spec(conn: psycopg.Connection, table: str) -> TableSpec:
    columns = [
        Column(*row)
        for row in conn.execute(
            """
            select a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   a.atthasdef, pg_get_expr(d.adbin, d.adrelid),
                   case when a.attcollation <> t.typcollation
                       then quote_ident(c.collname) end
            from pg_attribute a
            join pg_type t on t.oid = a.atttypid
            left join pg_collation c on c.oid = a.attcollation
            left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
            where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped
            order by a.attnum
            """,
            [f"raw.{table}"],
        )
    ]
    stamped = any(c.name == SYNC_STAMP for c in columns)
    columns = [c for c in columns if c.name != SYNC_STAMP]
    spec = TableSpec(name=table, columns=columns, primary_key=[], stamped=stamped)
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
            # a constraint added NOT VALID (to a table with older rows) still
            # holds for every row written
            expression = definition.removeprefix("CHECK ").removesuffix(" NOT VALID")
            spec.checks.append((name, expression))
        elif kind == "f":
            ref = ref_table.split(".")[-1]
            spec.foreign_keys.append(ForeignKey(name, list(cols), ref, list(ref_cols)))
    spec.unique_indexes = _unique_indexes(conn, table, spec.column_names)
    return spec


def _unique_indexes(
    conn: psycopg.Connection, table: str, column_names: list[str]
) -> list[UniqueIndex]:
    """The unique indexes that are not constraints (keys on expressions, such
    as lower(email))."""
    found = []
    for name, expressions, where in conn.execute(
        """
        select c.relname,
               array(select pg_get_indexdef(i.indexrelid, k, true)
                     from generate_series(1, i.indnkeyatts) k order by k),
               pg_get_expr(i.indpred, i.indrelid, true)
        from pg_index i
        join pg_class c on c.oid = i.indexrelid
        where i.indrelid = %s::regclass and i.indisunique
          and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)
        order by c.relname
        """,
        [f"raw.{table}"],
    ):
        text = " ".join([*expressions, where or ""])
        columns = [c for c in column_names if re.search(rf"\b{re.escape(c)}\b", text)]
        found.append(UniqueIndex(name, list(expressions), columns, where))
    return found
