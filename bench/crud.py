"""Benchmark: what the editing pages ask of the database, at growing sizes.

In one run, for each scale: generate and load a fresh database (no dbt needed:
the editing pages read raw only), then time each operation of the editing layer
(core/editing) `--repeat` times (p50 / p95, milliseconds), as the app runs them
(a connection per operation). The reference is the cheapest operation, opening
one row by its key (`get_row`): each figure is also given as a multiple of it, so
the table reads the same on a faster or slower machine.

Results go to docs/benchmarks.md, section "Editing pages". There is no target;
the figures show how list, search and save times grow with the data.

    python bench/crud.py                 # scales 1 and 10
    python bench/crud.py --scales 1 --repeat 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402
from core import db, editing  # noqa: E402
from core.settings import LIBPQ_VARS  # noqa: E402
from loader import generate as gen  # noqa: E402
from loader.load import load_directory  # noqa: E402

USER = "bench"


def timed(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    """p50 and p95 of `call`, in milliseconds (one warm-up run first)."""
    call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def operations(env: dict[str, str]) -> dict[str, Callable[[], object]]:
    """The operations to time, with search words taken from the data."""
    with db.connect(env) as conn:
        customer = conn.execute(
            "select customer_id, first_name, last_name, email from raw.customers"
            " order by customer_id limit 1 offset 100"
        ).fetchone()
        product_id, price = conn.execute(
            "select product_id, list_price from raw.products where is_active"
            " order by product_id limit 1"
        ).fetchone()
        (order_id,) = conn.execute(
            "select order_id from raw.orders order by order_id desc limit 1"
        ).fetchone()
        channel_id, region_id = conn.execute(
            "select (select min(channel_id) from raw.channels),"
            " (select min(region_id) from raw.regions)"
        ).fetchone()
    customer_id, first, last, email = customer
    order = {
        "customer_id": customer_id,
        "channel_id": channel_id,
        "ship_region_id": region_id,
        "status": "placed",
        "payment_status": "pending",
        "payment_method": "card",
    }
    lines = [{"product_id": product_id, "quantity": 2, "unit_price": price}]
    version = {"updated_at": editing.get_row("customers", customer_id)["updated_at"]}

    def edit_customer() -> None:
        city = "Bench " + str(time.perf_counter_ns() % 1000)
        row = editing.update_row(
            "customers", customer_id, {"city": city}, version["updated_at"], USER
        )
        version["updated_at"] = row["updated_at"]

    return {
        "open a customer by id (reference)": lambda: editing.get_row(
            "customers", customer_id
        ),
        "customers: first page": lambda: editing.list_rows("customers"),
        "customers: search one word": lambda: editing.list_rows("customers", last),
        "customers: search two words": lambda: editing.list_rows(
            "customers", f"{first} {last}"
        ),
        "customers: search-as-you-type selector": lambda: editing.search_options(
            "customers", last
        ),
        "products: first page, low stock only": lambda: editing.list_rows(
            "products", filters={"low_stock": True}
        ),
        "orders: first page (newest first)": lambda: editing.list_rows("orders"),
        "orders: search by customer email": lambda: editing.list_rows("orders", email),
        "orders: page 20": lambda: editing.list_rows("orders", page=20),
        "orders: open with its lines": lambda: editing.get_order(order_id),
        "save a customer edit": edit_customer,
        "create an order with one line": lambda: editing.save_order(order, lines, USER),
    }


def run_scale(base_env: dict[str, str], scale: float, repeat: int) -> list[tuple]:
    name = "ecom_bench_crud_" + str(scale).replace(".", "_")
    env = db.create_database(base_env, name)
    saved = {name: os.environ.get(name) for name in LIBPQ_VARS}
    try:
        with tempfile.TemporaryDirectory() as folder:
            gen.generate(Path(folder), scale=scale, seed=42)
            load_directory(env, Path(folder))
        with db.connect(env) as conn:
            customers, orders = conn.execute(
                "select (select count(*) from raw.customers),"
                " (select count(*) from raw.orders)"
            ).fetchone()
        for name in LIBPQ_VARS:
            os.environ.pop(name, None)
        os.environ.update(env)  # editing connects with this process's settings
        rows = []
        reference = None
        for name, call in operations(env).items():
            p50, p95 = timed(call, repeat)
            reference = reference or p50
            rows.append((scale, customers, orders, name, p50, p95, p50 / reference))
            print(f"scale {scale}: {name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        return rows
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        db.drop_database(base_env, env["PGDATABASE"])


def report(rows: list[tuple], repeat: int) -> str:
    lines = [
        "Measured by `python bench/crud.py` on this machine (2 cores). For each scale,"
        " a fresh database is generated and loaded (seed 42), then each operation of "
        f"`core/editing` runs once to warm up and {repeat} times timed, as "
        "the editing pages run it (a new connection per operation). The reference "
        "is opening one customer by its key; *× reference* is each p50 divided by "
        "its p50 in the same run.",
        "",
        "| scale | customers | orders | operation | p50 ms | p95 ms | × reference |",
        "|---:|---:|---:|---|---:|---:|---:|",
    ]
    for scale, customers, orders, name, p50, p95, ratio in rows:
        lines.append(
            f"| {scale:g} | {customers:,} | {orders:,} | {name} | {p50:.1f} | "
            f"{p95:.1f} | {ratio:.1f} |"
        )
    lines += [
        "",
        "Lists, filters and sorting run in the database with a page of rows "
        "(`limit`/`offset`) and a count; nothing loads a whole table into the app. "
        "Opening a row and saving use the primary key and stay flat. A first page "
        "grows with the table through its count (and, for orders, the sort by "
        "date); searches are `ilike` over the text columns without a trigram index "
        "and grow linearly: about ten times the scale-10 figures at scale 100.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--no-write", action="store_true", help="Print only; leave docs alone."
    )
    args = parser.parse_args()
    base_env = db.connection_env()
    rows = []
    for scale in args.scales:
        rows += run_scale(base_env, scale, args.repeat)
    if not args.no_write:
        write_section("Editing pages", report(rows, args.repeat))
        print("written to docs/benchmarks.md")


if __name__ == "__main__":
    main()
