"""Incremental facts and marts against a real PostgreSQL.

Edits made in raw the way the app and the loader make them (an order's status
changed, an order soft-deleted, a product's cost changed, then a day appended by
the generator and loaded) reach fct_orders, fct_order_items and dim_customers after
the next `dbt build`, past margin keeps the cost valid at order time, and, after a
further round of harder edits (an order moved to another day and customer, lines
removed, a line's product changed, a channel and a region renamed), every table
dbt builds incrementally (the facts, the day- and month-grained report marts, the
market-basket models) and every other mart equals a `--full-refresh` build of the
same data.

The app stamps its edits with the wall clock while the generator's appended day
carries simulated timestamps (older than the edits): the facts must not skip those
rows although they fall before the look-back window.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import query

from core import db
from core.dbt_runner import run_dbt
from loader.generate import append_days, generate
from loader.load import load_directory

pytestmark = pytest.mark.slow

# the incremental models, each compared with a full refresh (any other table in
# these schemas too)
INCREMENTAL = (
    "marts.fct_orders",
    "marts.fct_order_items",
    "marts.rpt_sales_daily",
    "marts.rpt_sales_monthly",
    "marts.rpt_kpi_daily",
    "intermediate.int_order_dates_changed",
    "intermediate.int_customer_months_summarised",
    "intermediate.int_basket_items_grouped",
    "intermediate.int_basket_product_pair_days_counted",
    "intermediate.int_basket_product_pairs_counted",
    "intermediate.int_basket_category_pair_days_counted",
)
# bookkeeping columns that record when a row was written, not what it says
RUN_STAMPS = {"refreshed_at", "changed_at", "last_refreshed_at", "source_synced_at"}


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


def _customer(env: dict[str, str], customer_id: str) -> tuple:
    return _one(
        env,
        "select lifetime_orders, lifetime_net_revenue, first_order_at"
        " from marts.dim_customers where customer_id = %s",
        (customer_id,),
    )


def _append_file_rows(data_dir: Path, table: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted(data_dir.glob(f"{table}__append_*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


@dataclass(frozen=True)
class EditedRows:
    """The rows the app-like edits touch, and what the marts said before them."""

    deleted_customer: str
    deleted_order: str
    deleted_revenue: Decimal
    second_order: str
    second_at: datetime
    returned_customer: str
    returned_order: str
    returned_revenue: Decimal
    product_id: str
    old_cost: Decimal
    past_cost_amount: Decimal
    deleted_before: tuple
    returned_before: tuple
    revenue_before: Decimal


def _build(env: dict[str, str], target: Path) -> None:
    """`dbt build`; the facts then hold exactly the live rows of raw."""
    _dbt(env, target, "build")
    assert _fact_counts(env) == _live_counts(env)


def _sale_revenue(env: dict[str, str]) -> Decimal:
    return _one(env, "select sum(net_revenue) from marts.fct_orders where is_sale")[0]


def _pick_rows_to_edit(env: dict[str, str]) -> EditedRows:
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
    return EditedRows(
        deleted_customer=deleted_customer,
        deleted_order=deleted_order,
        deleted_revenue=deleted_revenue,
        second_order=second_order,
        second_at=second_at,
        returned_customer=returned_customer,
        returned_order=returned_order,
        returned_revenue=returned_revenue,
        product_id=product_id,
        old_cost=old_cost,
        past_cost_amount=past_cost_amount,
        deleted_before=_customer(env, deleted_customer),
        returned_before=_customer(env, returned_customer),
        revenue_before=_sale_revenue(env),
    )


def _edit_as_the_app_does(env: dict[str, str], rows: EditedRows) -> None:
    """A return, a soft delete and a cost change, stamped with the wall clock."""
    _execute(
        env,
        (
            "update raw.orders set status = 'returned', payment_status = 'refunded',"
            " updated_at = now() where order_id = %s",
            (rows.returned_order,),
        ),
        (
            "update raw.orders set deleted_at = now(), updated_at = now()"
            " where order_id = %s",
            (rows.deleted_order,),
        ),
        (
            "update raw.products set unit_cost = unit_cost * 2, updated_at = now()"
            " where product_id = %s",
            (rows.product_id,),
        ),
    )


def _check_status_change_and_soft_delete(env: dict[str, str], rows: EditedRows) -> None:
    # the status change re-flows to the order and its lines
    assert _one(
        env,
        "select status, payment_status, is_sale from marts.fct_orders"
        " where order_id = %s",
        (rows.returned_order,),
    ) == ("returned", "refunded", False)
    assert query(
        env,
        "select distinct is_sale from marts.fct_order_items where order_id = %s",
        (rows.returned_order,),
    ) == [(False,)]
    # the soft-deleted order and its lines are gone, the customer renumbered
    assert (
        query(
            env,
            "select 1 from marts.fct_orders where order_id = %s"
            " union all select 1 from marts.fct_order_items where order_id = %s",
            (rows.deleted_order, rows.deleted_order),
        )
        == []
    )
    assert _one(
        env,
        "select customer_order_number, is_first_order, days_since_previous_order"
        " from marts.fct_orders where order_id = %s",
        (rows.second_order,),
    ) == (1, True, None)
    # dim_customers follows both edits
    lifetime_orders, lifetime_net_revenue, first_order_at = _customer(
        env, rows.deleted_customer
    )
    assert lifetime_orders == rows.deleted_before[0] - 1
    assert lifetime_net_revenue == rows.deleted_before[1] - rows.deleted_revenue
    assert first_order_at == rows.second_at
    assert _customer(env, rows.returned_customer)[:2] == (
        rows.returned_before[0] - 1,
        rows.returned_before[1] - rows.returned_revenue,
    )
    assert _sale_revenue(env) == (
        rows.revenue_before - rows.deleted_revenue - rows.returned_revenue
    )


def _check_cost_change(env: dict[str, str], rows: EditedRows) -> None:
    """A cost change never rewrites past margin; the dimension shows the new cost."""
    assert _one(
        env,
        "select unit_cost from marts.dim_products where product_id = %s",
        (rows.product_id,),
    ) == (rows.old_cost * 2,)
    assert _one(
        env,
        "select sum(cost_amount) from marts.fct_order_items where product_id = %s",
        (rows.product_id,),
    ) == (rows.past_cost_amount,)
    assert _one(
        env,
        "select count(*) from snapshots.snap_products where product_id = %s",
        (rows.product_id,),
    ) == (2,)


def _append_a_generated_day(env: dict[str, str], data_dir: Path, target: Path) -> None:
    """Append and load a generated day (simulated timestamps, older than the
    app's edits) and build: every appended row reaches the facts."""
    append_days(data_dir, 1)
    load_directory(env, data_dir)
    appended_orders = _append_file_rows(data_dir, "orders")
    assert appended_orders, "the appended day holds no order"
    _build(env, target)
    loaded = {
        order_id: (status, payment_status)
        for order_id, status, payment_status in query(
            env,
            "select order_id, status, payment_status from marts.fct_orders"
            " where order_id = any(%s)",
            ([row["order_id"] for row in appended_orders],),
        )
    }
    for row in appended_orders:
        if row["deleted_at"]:
            assert row["order_id"] not in loaded
        else:
            assert loaded[row["order_id"]] == (
                row["status"],
                row["payment_status"],
            ), row
    appended_lines = _append_file_rows(data_dir, "order_items")
    if appended_lines:
        ids = [row["order_item_id"] for row in appended_lines]
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


def _make_harder_edits(env: dict[str, str]) -> str:
    """An order moved to another day and customer, lines removed, a line's product
    changed, an order made anonymous, another's channel and region made unknown, a
    channel and a region renamed. Returns the moved order."""
    moved_order, moved_customer = _one(
        env,
        """
        select order_id, customer_id from raw.orders
        where deleted_at is null and status = 'delivered' and payment_status = 'paid'
        order by order_id desc
        limit 1
        """,
    )
    other_customer = _one(
        env,
        "select min(customer_id) from raw.customers where customer_id != %s",
        (moved_customer,),
    )[0]
    multi_line_order, single_line_order, product_change_line = _one(
        env,
        """
        select
            (select order_id from raw.order_items group by order_id
             having count(*) > 1 order by order_id limit 1),
            (select order_id from raw.order_items group by order_id
             having count(*) = 1 order by order_id limit 1),
            (select max(order_item_id) from raw.order_items)
        """,
    )
    _execute(
        env,
        # moved 40 days back, to another customer, stamped with an old timestamp
        (
            "update raw.orders set ordered_at = ordered_at - interval '40 days',"
            " customer_id = %s, updated_at = updated_at - interval '1 day'"
            " where order_id = %s",
            (other_customer, moved_order),
        ),
        # one line of an order removed, and every line of another
        (
            "delete from raw.order_items where order_item_id ="
            " (select max(order_item_id) from raw.order_items where order_id = %s)",
            (multi_line_order,),
        ),
        (
            "delete from raw.order_items where order_id = %s",
            (single_line_order,),
        ),
        # a line's product changed
        (
            "update raw.order_items set product_id = (select min(product_id)"
            " from raw.products), updated_at = now() where order_item_id = %s",
            (product_change_line,),
        ),
        # an order made anonymous, another's channel and region made unknown
        (
            "update raw.orders set customer_id = null, updated_at = now()"
            " where order_id = (select min(order_id) from raw.orders)",
            (),
        ),
        (
            "update raw.orders set channel_id = null, ship_region_id = null,"
            " updated_at = now() where order_id ="
            " (select min(order_id) from raw.orders where customer_id is not null)",
            (),
        ),
        *_rename_first_channel_and_region(),
    )
    return moved_order


def _rename_first_channel_and_region() -> tuple[tuple[str, tuple], ...]:
    return (
        (
            "update raw.channels set channel_name = channel_name || ' (renamed)',"
            " updated_at = now() where channel_id ="
            " (select min(channel_id) from raw.channels)",
            (),
        ),
        (
            "update raw.regions set region_name = region_name || ' (renamed)',"
            " updated_at = now() where region_id ="
            " (select min(region_id) from raw.regions)",
            (),
        ),
    )


def _check_moved_order(env: dict[str, str], moved_order: str) -> None:
    assert _one(
        env,
        "select customer_id, order_date from marts.fct_orders where order_id = %s",
        (moved_order,),
    ) == _one(
        env,
        "select customer_id, (ordered_at at time zone 'UTC')::date from raw.orders"
        " where order_id = %s",
        (moved_order,),
    )


def _built_tables(env: dict[str, str]) -> list[str]:
    """Every table dbt built in marts and intermediate (schema.table)."""
    tables = query(
        env,
        """
        select table_schema || '.' || table_name
        from information_schema.tables
        where table_schema in ('marts', 'intermediate') and table_type = 'BASE TABLE'
        order by 1
        """,
    )
    return [name for (name,) in tables]


def _assert_same_rows(env: dict[str, str], name: str, copy: str) -> None:
    """The table `name` and its copy hold the same rows, run stamps aside."""
    schema, table = name.split(".")
    columns = [
        column
        for (column,) in query(
            env,
            "select column_name from information_schema.columns"
            " where table_schema = %s and table_name = %s"
            " order by ordinal_position",
            (schema, table),
        )
        if column not in RUN_STAMPS
    ]
    listed = ", ".join(f'"{column}"' for column in columns)
    # a pair gone from a recomputed day is kept there with a count of 0, and
    # so is a day whose orders are all gone in the change log
    where = {
        "int_basket_product_pair_days_counted": " where pair_count != 0",
        "int_order_dates_changed": " where orders_placed != 0",
    }.get(table, "")
    full, incremental, only_full, only_incremental = _one(
        env,
        f"""
        select
            (select count(*) from {name}{where}),
            (select count(*) from {copy}{where}),
            (select count(*) from (
                select {listed} from {name}{where}
                except all
                select {listed} from {copy}{where}
            ) as only_in_full_refresh),
            (select count(*) from (
                select {listed} from {copy}{where}
                except all
                select {listed} from {name}{where}
            ) as only_in_incremental)
        """,
    )
    assert full == incremental, name
    assert (only_full, only_incremental) == (0, 0), name


def _assert_equal_to_a_full_refresh(env: dict[str, str], target: Path) -> None:
    """Every incremental model (and every other table) equals a full refresh."""
    tables = _built_tables(env)
    assert set(INCREMENTAL) <= set(tables)
    _execute(
        env,
        ("create schema incremental_copy", ()),
        *(
            (
                f"create table incremental_copy.{name.replace('.', '__')}"
                f" as table {name}",
                (),
            )
            for name in tables
        ),
    )
    _dbt(env, target, "run", "--full-refresh")
    for name in tables:
        _assert_same_rows(env, name, f"incremental_copy.{name.replace('.', '__')}")
    for name in INCREMENTAL:
        assert _one(env, f"select count(*) > 0 from {name}") == (True,), name


def test_raw_edits_reach_the_incremental_facts(fresh_db, tmp_path):
    env = fresh_db
    data_dir = tmp_path / "data"
    target = tmp_path / "target"
    generate(data_dir, scale=0.1, seed=23)
    load_directory(env, data_dir)
    _build(env, target)

    # edits made as the app makes them (wall-clock timestamps), then a build
    rows = _pick_rows_to_edit(env)
    _edit_as_the_app_does(env, rows)
    _build(env, target)
    _check_status_change_and_soft_delete(env, rows)
    _check_cost_change(env, rows)

    # a generated day appended (simulated timestamps, older than the edits)
    _append_a_generated_day(env, data_dir, target)

    # harder edits: moves, removed lines, renamed dimensions
    moved_order = _make_harder_edits(env)
    _build(env, target)
    _check_moved_order(env, moved_order)

    _assert_equal_to_a_full_refresh(env, target)
