"""Each enumeration has one definition, its seed: the raw CHECK constraints, the
generator, the app's choice lists and dbt's tests all read it."""

from __future__ import annotations

import csv
import json

import psycopg
import pytest

from core import db, editing, enums
from core.schema import apply_schema
from loader.generate import generate

# raw column -> the seed that defines its values
RAW_COLUMNS = {
    ("channels", "channel_type"): "channel_types",
    ("customers", "segment"): "customer_segments",
    ("orders", "status"): "order_statuses",
    ("orders", "payment_status"): "payment_statuses",
    ("orders", "payment_method"): "payment_methods",
}


def _seed_values(seed: str) -> set[str]:
    with (enums.SEEDS_DIR / f"{seed}.csv").open(encoding="utf-8") as file:
        return {row[enums.ENUM_SEEDS[seed]] for row in csv.DictReader(file)}


def test_check_constraints_allow_exactly_the_seed_values(fresh_db):
    with db.connect(fresh_db, autocommit=True) as conn:
        apply_schema(conn)
        for (table, column), seed in RAW_COLUMNS.items():
            allowed = _seed_values(seed)
            for value in allowed:
                assert _passes_check(conn, table, column, value), (table, value)
            assert not _passes_check(conn, table, column, "no_such_value")


def test_generated_values_come_from_the_seeds(tmp_path):
    generate(tmp_path, scale=0.01, seed=3)
    for (table, column), seed in RAW_COLUMNS.items():
        with (tmp_path / f"{table}.csv").open(encoding="utf-8") as file:
            seen = {row[column] for row in csv.DictReader(file)}
        assert seen and seen <= _seed_values(seed), (table, column, seen)


@pytest.mark.parametrize(
    ("entity", "field", "seed"),
    [
        ("channels", "channel_type", "channel_types"),
        ("customers", "segment", "customer_segments"),
        ("orders", "status", "order_statuses"),
        ("orders", "payment_status", "payment_statuses"),
        ("orders", "payment_method", "payment_methods"),
    ],
)
def test_app_choices_are_the_seed_values(entity, field, seed):
    ent = editing.entity(entity)
    (f,) = [f for f in ent.fields if f.name == field]
    assert list(f.choices) == list(enums.values(seed))


def test_dbt_tests_every_enumerated_column_against_its_seed(built_warehouse):
    manifest = json.loads(
        (built_warehouse["target_path"] / "manifest.json").read_text()
    )
    checked = set()
    for node in manifest["nodes"].values():
        meta = node.get("test_metadata") or {}
        if node["resource_type"] != "test" or meta.get("name") != "relationships":
            continue
        to = meta["kwargs"]["to"]
        for seed in enums.ENUM_SEEDS:
            if f"ref('{seed}')" in to:
                model = node["attached_node"].split(".")[-1]
                checked.add((model, meta["kwargs"]["column_name"], seed))
    for model, column, seed in [
        ("stg_shop__customers", "segment", "customer_segments"),
        ("stg_shop__channels", "channel_type", "channel_types"),
        ("fct_orders", "status", "order_statuses"),
        ("fct_orders", "payment_status", "payment_statuses"),
        ("fct_orders", "payment_method", "payment_methods"),
    ]:
        assert (model, column, seed) in checked


def _passes_check(conn: psycopg.Connection, table: str, column: str, value: str):
    """Whether `value` satisfies every CHECK constraint on raw.<table>.<column>."""
    checks = conn.execute(
        """
        select pg_get_expr(c.conbin, c.conrelid)
        from pg_constraint as c
        join pg_attribute as a
            on a.attrelid = c.conrelid and a.attnum = any(c.conkey)
        where c.conrelid = %s::regclass and c.contype = 'c' and a.attname = %s
        """,
        [f"raw.{table}", column],
    ).fetchall()
    assert checks
    for (expression,) in checks:
        query = f"select {expression} from (select %s::varchar as {column}) as t"
        if not conn.execute(query, [value]).fetchone()[0]:
            return False
    return True
