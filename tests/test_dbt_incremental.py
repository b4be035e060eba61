"""Incremental facts against a real PostgreSQL.

Edits made in raw the way the app and the loader make them (an order's status
changed, an order soft-deleted, a product's cost changed, then a day appended by
the generator and loaded) reach fct_orders, fct_order_items and dim_customers after
the next `dbt build`, past margin keeps the cost valid at order time, and the
incrementally built facts equal a `--full-refresh` build of the same data.

The app stamps its edits with the wall clock while the generator's appended day
carries simulated timestamps (older than the edits): the facts must not skip those
rows although they fall before the look-back window.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from conftest import query

from loader import db
from loader.dbt_runner import run_dbt
from loader.generate import append_days, generate
from loader.load import load_directory

pytestmark = pytest.mark.slow

FACTS = ("fct_orders", "fct_order_items")


def _dbt(env: dict[str, str], target: Path, *args: str) -> str:
    result = run_dbt(list(args), env, target_path=target, capture=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    summary = re.search(r"PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)", output)
    assert summary, output[-3000:]
    assert summary.group(2, 3, 4) == ("0", "0", "0"), output[-6000:]
    return output


def _execute(env: dict[str, str], *statements: tuple[str, tuple]) -> None:
    with db.connect(env, autocommit=True) as conn:
        for statement, params in statements:
            conn.execute(statement, params)


def _one(env: dict[str, str], statement: str, params=None):
    rows = query(env, statement, params)
    assert len(rows) == 1, rows
    return rows[0]


def _live_counts(env: dict[str, str]) -> tuple[int, int]:
    return _one(
        env,
        """
        select
            (select count(*) from raw.orders where deleted_at is null),
            (select count(*)
             from raw.order_items as i
             inner join raw.orders as o on i.order_id = o.order_id
             where o.deleted_at is null)
        """,
    )


def _fact_counts(env: dict[str, str]) -> tuple[int, int]:
    return _one(
        env,
        "select (select count(*) from marts.fct_orders),"
        " (select count(*) from marts.fct_order_items)",
    )


def _customer(env: dict[str, str], customer_id: int) -> tuple:
    return _one(
        env,
        "select lifetime_orders, lifetime_revenue, first_order_at"
        " from marts.dim_customers where customer_id = %s",
        (customer_id,),
    )


def _append_file_rows(data_dir: Path, table: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted(data_dir.glob(f"{table}__append_*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


def test_raw_edits_reach_the_incremental_facts(fresh_db, tmp_path):
    env = fresh_db
    data_dir = tmp_path / "data"
    target = tmp_path / "target"
    generate(data_dir, scale=0.1, seed=23)
    load_directory(env, data_dir)
    _dbt(env, target, "build")
    assert _fact_counts(env) == _live_counts(env)

    # -- pick the rows to edit ------------------------------------------------------
    # a customer with at least two sales: their first sale gets soft-deleted
    deleted_customer, deleted_order, deleted_revenue, second_order, second_at = _one(
        env,
        """
        select f.customer_id, f.order_id, f.net_revenue, s.order_id, s.ordered_at
        from marts.fct_orders as f
        inner join marts.fct_orders as s
            on f.customer_id = s.customer_id and s.customer_order_number = 2
        where f.customer_order_number = 1
        order by f.customer_id
        limit 1
        """,
    )
    # another customer's delivered and paid sale gets returned
    returned_customer, returned_order, returned_revenue = _one(
        env,
        """
        select customer_id, order_id, net_revenue
        from marts.fct_orders
        where status = 'delivered' and payment_status = 'paid'
            and customer_id != %s and net_revenue > 0
        order by order_id
        limit 1
        """,
        (deleted_customer,),
    )
    # a product that sold: its cost doubles in the app
    product_id, old_cost, past_cost_amount = _one(
        env,
        """
        select p.product_id, p.unit_cost, sum(i.cost_amount)
        from marts.dim_products as p
        inner join marts.fct_order_items as i on p.product_id = i.product_id
        where i.order_id != %s
        group by p.product_id, p.unit_cost
        order by count(*) desc, p.product_id
        limit 1
        """,
        (deleted_order,),
    )
    deleted_before = _customer(env, deleted_customer)
    returned_before = _customer(env, returned_customer)
    revenue_before = _one(
        env, "select sum(net_revenue) from marts.fct_orders where is_sale"
    )[0]

    # -- edit raw as the app does (wall-clock timestamps) and build ---------------
    _execute(
        env,
        (
            "update raw.orders set status = 'returned', payment_status = 'refunded',"
            " updated_at = now() where order_id = %s",
            (returned_order,),
        ),
        (
            "update raw.orders set deleted_at = now(), updated_at = now()"
            " where order_id = %s",
            (deleted_order,),
        ),
        (
            "update raw.products set unit_cost = unit_cost * 2, updated_at = now()"
            " where product_id = %s",
            (product_id,),
        ),
    )
    _dbt(env, target, "build")
    assert _fact_counts(env) == _live_counts(env)

    # the status change re-flows to the order and its lines
    assert _one(
        env,
        "select status, payment_status, is_sale from marts.fct_orders"
        " where order_id = %s",
        (returned_order,),
    ) == ("returned", "refunded", False)
    assert query(
        env,
        "select distinct is_sale from marts.fct_order_items where order_id = %s",
        (returned_order,),
    ) == [(False,)]
    # the soft-deleted order and its lines are gone, the customer renumbered
    assert (
        query(
            env,
            "select 1 from marts.fct_orders where order_id = %s"
            " union all select 1 from marts.fct_order_items where order_id = %s",
            (deleted_order, deleted_order),
        )
        == []
    )
    assert _one(
        env,
        "select customer_order_number, is_first_order, days_since_previous_order"
        " from marts.fct_orders where order_id = %s",
        (second_order,),
    ) == (1, True, None)
    # dim_customers follows both edits
    lifetime_orders, lifetime_revenue, first_order_at = _customer(env, deleted_customer)
    assert lifetime_orders == deleted_before[0] - 1
    assert lifetime_revenue == deleted_before[1] - deleted_revenue
    assert first_order_at == second_at
    assert _customer(env, returned_customer)[:2] == (
        returned_before[0] - 1,
        returned_before[1] - returned_revenue,
    )
    revenue_after = _one(
        env, "select sum(net_revenue) from marts.fct_orders where is_sale"
    )[0]
    assert revenue_after == revenue_before - deleted_revenue - returned_revenue
    # a cost change never rewrites past margin; the dimension shows the new cost
    assert _one(
        env,
        "select unit_cost from marts.dim_products where product_id = %s",
        (product_id,),
    ) == (old_cost * 2,)
    assert _one(
        env,
        "select sum(cost_amount) from marts.fct_order_items where product_id = %s",
        (product_id,),
    ) == (past_cost_amount,)
    assert _one(
        env,
        "select count(*) from snapshots.snap_products where product_id = %s",
        (product_id,),
    ) == (2,)

    # -- append a generated day (simulated timestamps, older than the edits) -------
    append_days(data_dir, 1)
    load_directory(env, data_dir)
    appended_orders = _append_file_rows(data_dir, "orders")
    assert appended_orders, "the appended day holds no order"
    _dbt(env, target, "build")
    assert _fact_counts(env) == _live_counts(env)
    loaded = {
        order_id: (status, payment_status)
        for order_id, status, payment_status in query(
            env,
            "select order_id, status, payment_status from marts.fct_orders"
            " where order_id = any(%s)",
            ([int(row["order_id"]) for row in appended_orders],),
        )
    }
    for row in appended_orders:
        if row["deleted_at"]:
            assert int(row["order_id"]) not in loaded
        else:
            assert loaded[int(row["order_id"])] == (
                row["status"],
                row["payment_status"],
            ), row
    appended_lines = _append_file_rows(data_dir, "order_items")
    if appended_lines:
        ids = [int(row["order_item_id"]) for row in appended_lines]
        live = _one(
            env,
            "select count(*) from raw.order_items as i"
            " inner join raw.orders as o on i.order_id = o.order_id"
            " where i.order_item_id = any(%s) and o.deleted_at is null",
            (ids,),
        )[0]
        assert _one(
            env,
            "select count(*) from marts.fct_order_items where order_item_id = any(%s)",
            (ids,),
        ) == (live,)
    # dim_customers sees every customer, new ones included
    assert _one(env, "select count(*) from marts.dim_customers") == _one(
        env, "select count(*) from raw.customers"
    )

    # -- the incremental facts equal a full refresh ----------------------------
    _execute(
        env,
        ("create schema incremental_copy", ()),
        *(
            (f"create table incremental_copy.{fact} as table marts.{fact}", ())
            for fact in FACTS
        ),
    )
    _dbt(env, target, "run", "--full-refresh", "--select", *FACTS)
    for fact in FACTS:
        full, incremental, only_full, only_incremental = _one(
            env,
            f"""
            select
                (select count(*) from marts.{fact}),
                (select count(*) from incremental_copy.{fact}),
                (select count(*) from (
                    table marts.{fact} except table incremental_copy.{fact}
                ) as only_in_full_refresh),
                (select count(*) from (
                    table incremental_copy.{fact} except table marts.{fact}
                ) as only_in_incremental)
            """,
        )
        assert full == incremental > 0, fact
        assert (only_full, only_incremental) == (0, 0), fact
