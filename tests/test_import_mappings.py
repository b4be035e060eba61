"""`ecom import` with the bundled mappings: each fixture export loads with no
rejects, and its monthly revenue, orders and customers in raw (and in the marts
after `dbt build`) equal the same figures computed with pandas from the file
itself, by the rules the mapping documents."""

from __future__ import annotations

import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from conftest import query

from core import db
from core.dbt_runner import run_dbt

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "imports"
SHOPIFY = FIXTURES / "shopify_orders_export.csv"
UCI = FIXTURES / "uci_online_retail_lines.csv"

# revenue, orders and customers of the orders that count as sales, per month of
# the order's time in UTC
RAW_MONTHLY = """
    select
        to_char(o.ordered_at at time zone 'UTC', 'YYYY-MM') as month,
        sum(i.quantity * i.unit_price - i.discount_amount) as revenue,
        count(distinct o.order_id) as orders,
        count(distinct o.customer_id) as customers
    from raw.order_items as i
    inner join raw.orders as o on i.order_id = o.order_id
    where
        o.status not in ('cancelled', 'returned')
        and o.payment_status not in ('failed', 'refunded')
    group by 1
    order by 1
"""
MARTS_MONTHLY = """
    select
        to_char(order_date, 'YYYY-MM') as month,
        sum(net_revenue) as revenue,
        count(distinct order_id) as orders,
        count(distinct customer_id) as customers
    from marts.fct_order_items
    where is_sale
    group by 1
    order by 1
"""
MARTS_REVENUE = """
    select to_char(month_start_date, 'YYYY-MM'), sum(net_revenue)
    from marts.rpt_sales_monthly
    group by 1
    order by 1
"""


def ecom(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=db.child_env(env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def monthly(lines: pd.DataFrame) -> list[tuple]:
    """(month, revenue, orders, customers) of the sale lines, exact decimals."""
    grouped = lines.groupby("month")
    return [
        (
            month,
            sum(group["net"], Decimal(0)),
            group["order_id"].nunique(),
            group["customer_id"].dropna().nunique(),
        )
        for month, group in grouped
    ]


def shopify_expected() -> list[tuple]:
    lines = pd.read_csv(SHOPIFY, dtype=str, keep_default_na=False)
    # the order's fields are on its first line only
    first = lines.groupby("Name", sort=False).first()
    order_of = lines["Name"]
    financial = order_of.map(first["Financial Status"])
    fulfillment = order_of.map(first["Fulfillment Status"])
    sale = ~financial.isin(["refunded", "voided", "expired"]) & (
        fulfillment != "restocked"
    )
    sold = lines[sale]
    return monthly(
        pd.DataFrame(
            {
                "month": pd.to_datetime(sold["Created at"], utc=True).dt.strftime(
                    "%Y-%m"
                ),
                "net": [
                    Decimal(q) * Decimal(p) - Decimal(d)
                    for q, p, d in zip(
                        sold["Lineitem quantity"],
                        sold["Lineitem price"],
                        sold["Lineitem discount"],
                        strict=True,
                    )
                ],
                "order_id": sold["Name"],
                "customer_id": sold["Name"].map(first["Email"]).replace("", None),
            }
        )
    )


def uci_expected() -> list[tuple]:
    lines = pd.read_csv(UCI, dtype=str, keep_default_na=False)
    # 'C' invoices and negative quantities are cancellations: no revenue
    sold = lines[
        ~lines["Invoice"].str.startswith("C") & (lines["Quantity"].astype(int) > 0)
    ]
    local = pd.to_datetime(sold["InvoiceDate"], format="%m/%d/%Y %H:%M")
    return monthly(
        pd.DataFrame(
            {
                "month": local.dt.tz_localize("Europe/London")
                .dt.tz_convert("UTC")
                .dt.strftime("%Y-%m"),
                "net": [
                    Decimal(q) * Decimal(p)
                    for q, p in zip(sold["Quantity"], sold["Price"], strict=True)
                ],
                "order_id": sold["Invoice"],
                "customer_id": [
                    str(int(float(c))) if c else None for c in sold["Customer ID"]
                ],
            }
        )
    )


CASES = {
    "shopify": (SHOPIFY, shopify_expected),
    "uci_online_retail": (UCI, uci_expected),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def imported(request, pg_env):
    """A database holding one fixture export, imported through its mapping."""
    name = request.param
    path, expected = CASES[name]
    env = db.create_database(pg_env, f"ecom_import_{name}_{uuid.uuid4().hex[:8]}")
    try:
        result = ecom(env, "import", str(path), "--mapping", name)
        assert result.returncode == 0, result.stderr
        yield {
            "name": name,
            "env": env,
            "path": path,
            "expected": expected(),
            "output": result,
        }
    finally:
        db.drop_database(pg_env, env["PGDATABASE"])


def test_the_fixture_imports_without_rejects(imported):
    lines = len(pd.read_csv(imported["path"], dtype=str))
    assert f"{lines} lines read, 0 rejected before loading" in " ".join(
        imported["output"].stdout.split()
    )
    assert query(imported["env"], "select count(*) from raw.load_rejects") == [(0,)]
    assert query(imported["env"], "select count(*) from raw.order_items") == [(lines,)]
    assert query(
        imported["env"],
        "select file_name, load_method, rows_read, rows_loaded, rows_rejected "
        "from raw.load_batches where table_name = 'export_lines'",
    ) == [(imported["path"].name, "import", lines, lines, 0)]


def test_monthly_figures_in_raw_equal_the_files(imported):
    assert query(imported["env"], RAW_MONTHLY) == imported["expected"]


def test_line_ids_are_the_order_id_and_the_lines_position(imported):
    lines = pd.read_csv(imported["path"], dtype=str, keep_default_na=False)
    order_column = lines.columns[0]  # Name / Invoice
    position = lines.groupby(order_column).cumcount() + 1
    expected = sorted(
        zip(
            lines[order_column] + "-" + position.astype(str),
            lines[order_column],
            strict=True,
        )
    )
    stored = query(
        imported["env"], "select order_item_id, order_id from raw.order_items"
    )
    assert sorted(stored) == expected


def test_importing_the_same_export_again_changes_nothing(imported):
    before = query(imported["env"], "select * from raw.order_items order by 1")
    again = ecom(
        imported["env"], "import", str(imported["path"]), "--mapping", imported["name"]
    )
    assert again.returncode == 0, again.stderr
    assert query(imported["env"], "select * from raw.order_items order by 1") == before
    exports = "select count(*) from raw.load_batches where table_name = 'export_lines'"
    assert query(imported["env"], exports) == [(1,)]


def test_order_amounts_come_from_the_first_line_or_default_to_zero(imported):
    lines = pd.read_csv(imported["path"], dtype=str, keep_default_na=False)
    if imported["name"] == "shopify":
        first = lines.groupby("Name", sort=False).first()
        expected = [
            (name, Decimal(row["Shipping"]), Decimal(row["Taxes"]))
            for name, row in first.iterrows()
        ]
    else:  # the export has no order amounts: the contract's default
        expected = [(i, Decimal(0), Decimal(0)) for i in lines["Invoice"].unique()]
    stored = query(
        imported["env"], "select order_id, shipping_amount, tax_amount from raw.orders"
    )
    assert sorted(stored) == sorted(expected)


@pytest.mark.slow
def test_monthly_figures_in_the_marts_equal_the_files(imported, tmp_path):
    build = run_dbt(["build"], imported["env"], target_path=tmp_path, capture=True)
    assert build.returncode == 0, build.stdout[-5000:]
    expected = imported["expected"]
    assert query(imported["env"], MARTS_MONTHLY) == expected
    assert query(imported["env"], MARTS_REVENUE) == [(m, r) for m, r, _, _ in expected]
