"""Benchmark: the dashboard pages' queries on the marts, against raw tables.

In one run, for each scale:
- generate, load and `dbt build` a fresh database (models, seeds and snapshots;
  tests are not needed for timing);
- run every page once under Streamlit's AppTest to record the SQL it sends
  (statement and parameters, duplicates removed: the app's cache answers those);
- time each page's statements, cache cleared, `--repeat` times: p50 / p95 of the
  whole page (what a user waits for on a cold cache);
- time the same headline figures computed straight from the raw tables (the
  query a dashboard would need without the marts), and report raw / marts;
- time a full page render under AppTest (queries + pandas + Plotly), cache cleared.

Two filter states per page: the default view (last 365 days, everything) and a
narrowed one (one channel and one category). Results go to docs/benchmarks.md,
section "Dashboard queries". Target: every page's p95 <= 300 ms at scale 10.

    python bench/app.py                 # scales 1 and 10
    python bench/app.py --scales 1 --repeat 5
    python bench/app.py --scales 0.02 --repeat 1 --views default --no-write --drop
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402
from core import accounts, db  # noqa: E402
from core.dbt_runner import run_dbt  # noqa: E402
from loader import generate as gen  # noqa: E402
from loader.load import load_directory  # noqa: E402
from streamlit_app import warehouse  # noqa: E402

PAGES = {
    "Overview": "views/overview.py",
    "Sales": "views/sales.py",
    "Products": "views/products.py",
    "Customers": "views/customers.py",
    "Retention": "views/retention.py",
    "Market basket": "views/basket.py",
    "Inventory": "views/inventory.py",
    "Data quality": "views/quality.py",
}
APP = ROOT / "streamlit_app" / "app.py"
TARGET_MS = 300
VIEWS = ("default", "channel + category")

# ---------------------------------------------------------------- raw equivalents
# The headline figures of each page computed from the operational tables only.

_RAW_LINES = """
with live_orders as (
    select
        order_id,
        customer_id,
        channel_id,
        ship_region_id,
        (ordered_at at time zone 'UTC')::date as order_date,
        status,
        payment_status
    from raw.orders
    where
        deleted_at is null
        and status in ('placed', 'shipped', 'delivered')
        and payment_status in ('paid', 'pending')
),

lines as (
    select
        o.order_id,
        o.customer_id,
        o.channel_id,
        o.ship_region_id,
        o.order_date,
        p.product_id,
        p.category,
        i.quantity as units,
        i.quantity * i.unit_price - i.discount_amount as net_revenue,
        i.quantity * (i.unit_price - p.unit_cost) - i.discount_amount as margin
    from live_orders as o
    inner join raw.order_items as i on o.order_id = i.order_id
    inner join raw.products as p on i.product_id = p.product_id
    where
        (cardinality(%(channel_ids)s::text[]) = 0
            or o.channel_id = any(%(channel_ids)s::text[]))
        and (cardinality(%(categories)s::text[]) = 0
            or p.category = any(%(categories)s::text[]))
)
"""

RAW_SQL = {
    "Overview": _RAW_LINES
    + """
select
    order_date between %(start)s and %(end)s as is_current,
    sum(net_revenue) as net_revenue,
    count(distinct order_id) as orders,
    count(distinct customer_id) as customers,
    sum(margin) as margin
from lines
where order_date between %(previous_start)s and %(end)s
group by 1
""",
    "Sales": _RAW_LINES
    + """
select
    date_trunc('month', order_date) as month,
    c.channel_name,
    r.region_name,
    category,
    sum(net_revenue) as net_revenue,
    sum(margin) as margin
from lines
inner join raw.channels as c on lines.channel_id = c.channel_id
inner join raw.regions as r on lines.ship_region_id = r.region_id
where order_date <= %(end)s
group by 1, 2, 3, 4
""",
    "Products": _RAW_LINES
    + """
select
    p.product_id,
    p.product_name,
    coalesce(sum(lines.net_revenue), 0) as net_revenue,
    coalesce(sum(lines.units), 0) as units
from raw.products as p
left join lines
    on p.product_id = lines.product_id
    and lines.order_date between %(start)s and %(end)s
group by p.product_id, p.product_name
order by net_revenue desc
""",
    "Customers": _RAW_LINES
    + """,
per_customer as (
    select
        customer_id,
        max(order_date) as last_order,
        count(distinct order_id) as frequency,
        sum(net_revenue) as monetary
    from lines
    group by customer_id
),

scored as (
    select
        *,
        ntile(5) over (order by last_order) as r,
        ntile(5) over (order by frequency, monetary) as f,
        ntile(5) over (order by monetary, frequency) as m
    from per_customer
)

select r, f, count(*) as customers, sum(monetary) as net_revenue
from scored
group by r, f
""",
    "Retention": _RAW_LINES
    + """,
firsts as (
    select customer_id, date_trunc('month', min(order_date)) as cohort
    from lines
    group by customer_id
)

select
    firsts.cohort,
    (extract(year from age(date_trunc('month', lines.order_date), firsts.cohort)) * 12
        + extract(month from age(date_trunc('month', lines.order_date), firsts.cohort)))
        as months_since,
    count(distinct lines.customer_id) as active,
    sum(lines.net_revenue) as net_revenue
from lines
inner join firsts on lines.customer_id = firsts.customer_id
where firsts.cohort between date_trunc('month', %(start)s::date) and %(end)s
group by 1, 2
""",
    "Market basket": _RAW_LINES
    + """,
baskets as (
    select distinct order_id, product_id from lines
)

select a.product_id as antecedent, b.product_id as consequent, count(*) as pairs
from baskets as a
inner join baskets as b
    on a.order_id = b.order_id and a.product_id <> b.product_id
group by 1, 2
having count(*) >= 5
order by pairs desc
limit 500
""",
    "Inventory": _RAW_LINES
    + """,
recent as (
    select product_id, sum(units) as units_30d
    from lines
    where order_date > (select max(order_date) from lines) - 30
    group by product_id
)

select
    p.category,
    sum(p.stock_quantity * p.unit_cost) as stock_value,
    count(*) filter (where p.stock_quantity < p.reorder_point) as below_reorder,
    sum(coalesce(recent.units_30d, 0)) as units_30d
from raw.products as p
left join recent on p.product_id = recent.product_id
where p.is_active
group by p.category
""",
    "Data quality": """
select
    b.table_name,
    sum(b.rows_loaded) as rows_loaded,
    sum(b.rows_rejected) as rows_rejected,
    (select count(*) from raw.load_rejects) as rejects,
    (select max(ordered_at) from raw.orders) as data_as_of
from raw.load_batches as b
group by b.table_name
""",
}


# ------------------------------------------------------------------------ set-up


def database_name(scale: float) -> str:
    return f"ecom_bench_app_s{scale:g}".replace(".", "_")


def work_folder(scale: float) -> Path:
    """Where the generated data and the dbt target of a scale are kept."""
    return Path(tempfile.gettempdir()) / f"ecom-bench-app-s{scale:g}"


def build_database(base: dict[str, str], scale: float, reuse: bool) -> dict[str, Any]:
    """A database with generated data at `scale`, loaded and built by dbt."""
    name = database_name(scale)
    env = base | {"PGDATABASE": name}
    work = work_folder(scale)
    target = work / "target"
    with db.connect(base | {"PGDATABASE": "postgres"}, autocommit=True) as conn:
        exists = conn.execute(
            "select 1 from pg_database where datname = %s", [name]
        ).fetchone()
        if exists and reuse and (target / "run_results.json").exists():
            print(f"scale {scale:g}: reusing database {name}", flush=True)
            settle(env)
            return {"env": env, "target": target}
    db.create_database(base, name)
    data_dir = work / "data"
    started = time.perf_counter()
    if not (data_dir / "_manifest.json").exists():
        gen.generate(data_dir, scale=scale, seed=42, dirty_rate=0.002)
    load_directory(env, data_dir)
    print(
        f"scale {scale:g}: generated + loaded in {time.perf_counter() - started:.0f} s"
    )
    started = time.perf_counter()
    args = ["build", "--exclude", "resource_type:test", "resource_type:unit_test"]
    result = run_dbt(args, env, target_path=target, capture=True)
    if result.returncode != 0:
        raise SystemExit(f"dbt build failed at scale {scale:g}:\n{result.stdout}")
    print(f"scale {scale:g}: dbt build in {time.perf_counter() - started:.0f} s")
    settle(env)
    return {"env": env, "target": target}


def drop_built(base: dict[str, str], scale: float) -> None:
    """Drop the database build_database makes and delete its generated data."""
    db.drop_database(base, database_name(scale))
    shutil.rmtree(work_folder(scale), ignore_errors=True)
    print(f"dropped database {database_name(scale)}", flush=True)


def settle(env: dict[str, str]) -> None:
    """Vacuum and analyze the fresh tables now, so autovacuum does not do it while
    the pages are being timed (and the planner has statistics)."""
    with db.connect(env, autocommit=True) as conn:
        conn.execute("vacuum analyze")


BENCH_USER = accounts.User("bench_viewer", "viewer")


def use_database(env: dict[str, str], target: Path) -> None:
    """Point this process (and so the app under AppTest) at the database, with
    a viewer account for the pages to be signed in as."""
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(env)
    os.environ[warehouse.DBT_TARGET_VARIABLE] = str(target)
    with db.connect(env) as conn:
        accounts.add_user(
            conn, BENCH_USER.username, accounts.new_password(), "viewer", replace=True
        )


# --------------------------------------------------------------------- measuring


def app_test(query_params: dict[str, Any]):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=300)
    at.session_state["user"] = BENCH_USER  # signed in: the pages need a viewer
    at.query_params.update(query_params)
    return at.run()


def record(page: str, query_params: dict[str, Any]) -> list[tuple[str, dict]]:
    """The distinct statements one cold render of the page sends."""
    at = app_test(query_params)  # the default page first, as a visitor would
    warehouse.clear_cache()
    warehouse._recorder = []
    try:
        at.switch_page(PAGES[page]).run()
        if at.exception:
            raise SystemExit(f"{page} failed: {at.exception[0].value}")
        recorded = list(warehouse._recorder)
    finally:
        warehouse._recorder = None
    unique: dict[str, tuple[str, dict]] = {}
    for statement, params in recorded:
        unique.setdefault(statement + repr(sorted(params.items())), (statement, params))
    return list(unique.values())


def time_statements(statements: list[tuple[str, dict]], repeat: int) -> list[float]:
    timings = []
    warehouse.run_uncached("select 1")  # warm the connection pool, as a running app has
    for _ in range(repeat):
        started = time.perf_counter()
        for statement, params in statements:
            warehouse.run_uncached(statement, params)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def time_page(page: str, query_params: dict[str, Any], repeat: int):
    """(data wait ms, render ms) per cold-cache run of the page, as the app runs it.

    Data wait is the wall time the page spent waiting for the database, with the
    page's independent queries running at the same time (warehouse.gather).
    """
    at = app_test(query_params)
    waits, renders = [], []
    for _ in range(repeat):
        warehouse.clear_cache()
        warehouse.wait_clock.seconds = 0.0
        at.switch_page(PAGES[page])
        started = time.perf_counter()
        at.run()
        renders.append((time.perf_counter() - started) * 1000)
        waits.append(warehouse.wait_clock.seconds * 1000)
        if at.exception:
            raise SystemExit(f"{page} failed: {at.exception[0].value}")
    return waits, renders


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1]


def views(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The two filter states: default, and one channel + one category."""
    bounds = warehouse.run_uncached(
        "select max(order_date) as last_day from marts.fct_orders"
    ).iloc[0]
    channel = warehouse.run_uncached(
        "select channel_id, channel_name from marts.dim_channels order by channel_id"
    ).iloc[0]
    category = warehouse.run_uncached(
        "select min(category) as category from marts.dim_products"
    ).iloc[0]
    end = bounds["last_day"]
    start = end - timedelta(days=364)
    dates = {"from": start.isoformat(), "to": end.isoformat()}
    raw_base = {
        "start": start,
        "end": end,
        "previous_start": start - timedelta(days=365),
        "channel_ids": [],
        "categories": [],
    }
    return {
        "default": {"url": dates, "raw": raw_base},
        "channel + category": {
            "url": dates
            | {"channel": channel["channel_name"], "category": category["category"]},
            "raw": raw_base
            | {
                "channel_ids": [str(channel["channel_id"])],
                "categories": [category["category"]],
            },
        },
    }


def time_pages_once(env: dict[str, str], target: Path) -> dict[str, dict]:
    """Each page rendered once, cold cache, default view: {page: {"wait": ms,
    "render": ms}} (what bench/scale.py records per scale)."""
    use_database(env, target)
    url = views(env)["default"]["url"]
    timings = {}
    for page in PAGES:
        waits, renders = time_page(page, url, 1)
        timings[page] = {"wait": waits[0], "render": renders[0]}
    warehouse._pool.close_all()
    return timings


def measure_scale(
    scale: float, built: dict[str, Any], repeat: int, only: list[str] | None = None
) -> list[dict]:
    use_database(built["env"], built["target"])
    rows = []
    # fewer runs of the sequential and raw references, but never more than asked
    few = min(3, repeat)
    for view, spec in views(built["env"]).items():
        if only and view not in only:
            continue
        for page in PAGES:
            statements = record(page, spec["url"])
            waits, renders = time_page(page, spec["url"], repeat)
            sequential = time_statements(statements, max(few, repeat // 2))
            raw = time_statements([(RAW_SQL[page], spec["raw"])], max(few, repeat // 5))
            row = {
                "scale": scale,
                "view": view,
                "page": page,
                "queries": len(statements),
                "p50": statistics.median(waits),
                "p95": percentile(waits, 95),
                "sequential_p50": statistics.median(sequential),
                "raw_p50": statistics.median(raw),
                "render_p50": statistics.median(renders),
            }
            rows.append(row)
            print(
                f"scale {scale:g} {view:<18} {page:<14} {row['queries']:>2} queries  "
                f"p50 {row['p50']:7.1f} ms  p95 {row['p95']:7.1f} ms  "
                f"sequential {row['sequential_p50']:7.1f} ms  "
                f"raw {row['raw_p50']:8.1f} ms  render {row['render_p50']:7.1f} ms",
                flush=True,
            )
    warehouse._pool.close_all()
    return rows


def markdown(rows: list[dict], repeat: int, load: tuple[float, float]) -> str:
    lines = [
        "`python bench/app.py` generates, loads and builds one database per scale "
        "(seed 42), opens every dashboard page under Streamlit's AppTest and "
        f"renders it {repeat} times with the cache cleared before each run.",
        "",
        "- **p50 / p95**: wall time the page waits for the database, as the app "
        "runs its queries (a page's independent queries run at the same time, "
        "each on its own pooled connection). This is the figure the target applies "
        f"to: p95 ≤ {TARGET_MS} ms per page at scale 10.",
        "- **sequential**: the same distinct statements run one after the other.",
        "- **raw**: the page's headline figures computed straight from the `raw` "
        "tables in one query (what the page would cost without the marts); "
        "**raw / marts** = raw p50 / p50.",
        "- **render**: the whole page run (queries, pandas, Plotly figures).",
        "- Views: *default* = last 365 days, everything; *channel + category* = one "
        "channel and one category (the item-level path).",
        "",
        "| scale | view | page | queries | p50 ms | p95 ms | sequential ms "
        "| raw ms | raw / marts | render ms | p95 ≤ 300 ms |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for r in rows:
        ratio = r["raw_p50"] / r["p50"] if r["p50"] else float("nan")
        ok = "yes" if r["p95"] <= TARGET_MS else "**no**"
        lines.append(
            f"| {r['scale']:g} | {r['view']} | {r['page']} | {r['queries']} "
            f"| {r['p50']:.1f} | {r['p95']:.1f} | {r['sequential_p50']:.1f} "
            f"| {r['raw_p50']:.1f} | {ratio:.1f}× | {r['render_p50']:.0f} | {ok} |"
        )
    lines += [
        "",
        f"Machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} before and "
        f"{load[1]:.1f} after the run (other work on the machine inflates the "
        "figures); PostgreSQL named by the libpq variables (the embedded server by "
        "default) with default settings.",
    ]
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--reuse", action="store_true", help="Reuse databases built by an earlier run."
    )
    parser.add_argument(
        "--no-write", action="store_true", help="Print only; leave docs alone."
    )
    parser.add_argument(
        "--views",
        nargs="+",
        choices=VIEWS,
        default=list(VIEWS),
        help="Filter states to measure (default: both).",
    )
    parser.add_argument(
        "--drop",
        action="store_true",
        help="Drop the databases and delete the generated data when done.",
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    base = db.connection_env()
    load_before = os.getloadavg()[0]
    rows = []
    for scale in args.scales:
        try:
            built = build_database(base, scale, args.reuse)
            rows += measure_scale(scale, built, args.repeat, args.views)
        finally:
            if args.drop:  # also when the build or a page failed
                drop_built(base, scale)
    if not args.no_write:
        load = (load_before, os.getloadavg()[0])
        write_section("Dashboard queries", markdown(rows, args.repeat, load))
        print("wrote docs/benchmarks.md (Dashboard queries)")


if __name__ == "__main__":
    main()
