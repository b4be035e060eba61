"""What the dbt tests read (doc block def_test_scope), on a real build.

- The contracted marts enforce their not-null columns and value ranges as
  database constraints: a row that breaks one cannot be written at all.
- On an incremental model the row-by-row tests and the line-by-line singular tests
  read the rows of the model's latest build: a broken row written by that build
  fails them, a row kept from an earlier build is not re-read, and
  `test_all_rows` makes every test read every row.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from conftest import _drop_database, build_warehouse, query

from core import db
from core.dbt_runner import run_dbt

pytestmark = pytest.mark.slow

CHANNEL_TEST = "fct_orders,test_name:relationships"
MISSING_CHANNEL = 9999


@pytest.fixture(scope="module")
def warehouse(pg_env, tmp_path_factory) -> Iterator[dict]:
    built = build_warehouse(pg_env, tmp_path_factory, "ecom_scope", scale=0.05, seed=3)
    yield built
    _drop_database(pg_env, built["env"]["PGDATABASE"])


def _execute(env: dict[str, str], statement: str, params=None) -> None:
    with db.connect(env) as conn:
        conn.execute(statement, params)


def _dbt_test(warehouse: dict, select: str, *extra: str):
    return run_dbt(
        ["test", "--select", select, *extra],
        warehouse["env"],
        target_path=warehouse["target_path"],
        capture=True,
    )


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        (
            "update marts.fct_orders set customer_order_number = 0"
            " where customer_order_number is not null",
            psycopg.errors.CheckViolation,
        ),
        (
            "update marts.fct_orders set net_revenue = null",
            psycopg.errors.NotNullViolation,
        ),
        (
            "update marts.rpt_sales_monthly set net_revenue = -1",
            psycopg.errors.CheckViolation,
        ),
        ("update marts.dim_date set month = 13", psycopg.errors.CheckViolation),
        (
            "update marts.fct_orders set days_since_previous_order = -1"
            " where days_since_previous_order is not null",
            psycopg.errors.CheckViolation,
        ),
        (
            "update marts.fct_orders set is_first_order = not is_first_order",
            psycopg.errors.CheckViolation,
        ),
        (
            "update marts.rpt_basket_rules set confidence = 1.5",
            psycopg.errors.CheckViolation,
        ),
    ],
)
def test_contracted_marts_refuse_rows_that_break_a_rule(warehouse, statement, error):
    with pytest.raises(error):
        _execute(warehouse["env"], statement)


def test_row_tests_read_the_latest_build_of_an_incremental_model(warehouse):
    env = warehouse["env"]
    oldest, newest = query(
        env, "select min(order_id), max(order_id) from marts.fct_orders"
    )[0]
    (channel,) = query(
        env, "select channel_id from marts.fct_orders where order_id = %s", (oldest,)
    )[0]
    # a broken row kept from an earlier build
    _execute(
        env,
        "update marts.fct_orders set channel_id = %s,"
        " refreshed_at = refreshed_at - interval '1 day' where order_id = %s",
        (MISSING_CHANNEL, oldest),
    )
    try:
        kept = _dbt_test(warehouse, CHANNEL_TEST)
        assert kept.returncode == 0, kept.stdout[-3000:]
        everything = _dbt_test(
            warehouse, CHANNEL_TEST, "--vars", "{test_all_rows: true}"
        )
        assert everything.returncode != 0
        assert "relationships_fct_orders_channel_id" in everything.stdout

        # the same break in a row of the latest build
        _execute(
            env,
            "update marts.fct_orders set channel_id = %s where order_id = %s",
            (MISSING_CHANNEL, newest),
        )
        latest = _dbt_test(warehouse, CHANNEL_TEST)
        assert latest.returncode != 0
        assert "relationships_fct_orders_channel_id" in latest.stdout
    finally:
        _execute(
            env,
            "update marts.fct_orders set channel_id = %s where order_id in (%s, %s)",
            (channel, oldest, newest),
        )
    assert _dbt_test(warehouse, CHANNEL_TEST).returncode == 0


def test_line_by_line_singular_tests_read_the_latest_build(warehouse):
    env = warehouse["env"]
    (newest,) = query(env, "select max(order_id) from marts.fct_orders")[0]
    _execute(
        env,
        "update marts.fct_orders set net_revenue = net_revenue + 1 where order_id = %s",
        (newest,),
    )
    try:
        broken = _dbt_test(warehouse, "assert_order_totals_match_lines")
        assert broken.returncode != 0
        assert "assert_order_totals_match_lines" in broken.stdout
    finally:
        _execute(
            env,
            "update marts.fct_orders set net_revenue = net_revenue - 1"
            " where order_id = %s",
            (newest,),
        )
    assert _dbt_test(warehouse, "assert_order_totals_match_lines").returncode == 0


KEY_TEST = "rpt_sales_monthly,test_name:unique_key"
MONTHLY = "marts.rpt_sales_monthly"
MONTHLY_KEY = "month_start_date, channel_id, region_id, category"


def test_key_tests_check_the_keys_of_the_latest_build(warehouse):
    env = warehouse["env"]
    # as after an incremental build that rewrote one row: the others are older
    (latest,) = query(env, f"select min(ctid)::text from {MONTHLY}")[0]
    _execute(
        env,
        f"update {MONTHLY} set refreshed_at = refreshed_at - interval '1 day'"
        f" where ctid <> '{latest}'::tid",
    )
    _execute(env, f"analyze {MONTHLY}")
    # a key held twice, by two rows kept from an earlier build
    (old,) = query(env, f"select max(ctid)::text from {MONTHLY}")[0]
    _execute(
        env,
        f"insert into {MONTHLY} select * from {MONTHLY} where ctid = '{old}'::tid",
    )
    (copy,) = query(env, f"select max(ctid)::text from {MONTHLY}")[0]
    try:
        kept = _dbt_test(warehouse, KEY_TEST)
        assert kept.returncode == 0, kept.stdout[-3000:]
        everything = _dbt_test(warehouse, KEY_TEST, "--vars", "{test_all_rows: true}")
        assert everything.returncode != 0
        assert "unique_key_rpt_sales_monthly" in everything.stdout

        # the copy written by the latest build
        _execute(
            env,
            f"update {MONTHLY} set refreshed_at = (select max(refreshed_at)"
            f" from {MONTHLY}) where ctid = '{copy}'::tid",
        )
        latest_build = _dbt_test(warehouse, KEY_TEST)
        assert latest_build.returncode != 0
        assert "unique_key_rpt_sales_monthly" in latest_build.stdout
    finally:
        # the copy is the last row version of the duplicated key
        _execute(
            env,
            f"delete from {MONTHLY} where ctid = (select max(ctid) from {MONTHLY}"
            f" where ({MONTHLY_KEY}) in (select {MONTHLY_KEY} from {MONTHLY}"
            f" group by {MONTHLY_KEY} having count(*) > 1))",
        )
        _execute(
            env,
            f"update {MONTHLY} set refreshed_at = (select max(refreshed_at)"
            f" from {MONTHLY})",
        )
    assert _dbt_test(warehouse, KEY_TEST).returncode == 0
