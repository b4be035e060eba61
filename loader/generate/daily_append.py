"""`append_days`: continue a generation day by day from its saved state.

Each day writes `<table>__append_<YYYYMMDD>.csv` for the tables with new or changed
rows; the state is saved again at the end, so appending `a` then `b` days gives the
same files as appending `a + b` days at once.
"""

from __future__ import annotations

import numbers
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import EcomError
from loader.generate.calendar_curves import (
    DAY,
    NEVER,
    day_number,
    from_day_number,
    time_of_day,
)
from loader.generate.csv_writer import DayFiles
from loader.generate.customers import (
    SIM_KEYS,
    customer_rows,
    new_customers,
    signup_density,
)
from loader.generate.facts import (
    OPEN_KEYS,
    Facts,
    item_rows,
    open_after,
    order_rows,
    orders_only,
)
from loader.generate.saved_state import read_previous, save_state, write_manifest
from loader.generate.shop_run import Progress, ShopRun
from loader.generate.stock import product_rows, stock_moves


def append_days(out_dir: Path, days: int, *, progress: Progress | None = None) -> dict:
    """Continue the simulation for `days` more days; returns the updated manifest.

    Each day writes `<table>__append_<YYYYMMDD>.csv` for the tables with new or
    changed rows: new customers, new orders and items, orders whose status or
    payment changed (full row, newer updated_at), products whose stock or price
    changed (full row, newer updated_at).
    """
    out_dir = Path(out_dir)
    if isinstance(days, bool) or not isinstance(days, numbers.Integral) or days < 1:
        raise EcomError(f"days must be a positive whole number, got {days!r}")
    days = int(days)
    if days > 3660:
        raise EcomError(f"days must be at most 3660, got {days}")
    meta, arrays, manifest = read_previous(out_dir)
    report = progress or (lambda step, done, total: None)
    run = ShopRun.resume(meta, arrays)
    last_day = day_number(date.fromisoformat(meta["last_day"]))

    for i in range(days):
        day = last_day + 1 + i
        report(f"day {from_day_number(day)}", i, days)
        _append_day(out_dir, run, day, meta["signup_rate"], manifest)

    manifest["injected"] = manifest.get("injected", []) + run.dirt.injected
    meta.update(last_day=manifest["last_day"], **run.counters())
    meta.pop("arrays", None)
    save_state(out_dir, meta, run.state_arrays())
    write_manifest(out_dir, manifest)
    report("done", days, days)
    return manifest


def _append_day(
    out_dir: Path,
    run: ShopRun,
    day: int,
    signup_rate: float,
    manifest: dict[str, Any],
) -> None:
    """Simulate one day, write its files and list them in the manifest."""
    out = DayFiles(out_dir, day, run.dirt)
    _new_customers(run, day, signup_rate, out)
    facts = run.purchases(day, day + 1)
    _order_changes(run, facts, day, out)
    _stock_changes(run, facts, day, out)
    out.close(manifest)
    manifest["appended_days"].append(from_day_number(day).isoformat())
    manifest["last_day"] = from_day_number(day).isoformat()


def _new_customers(run: ShopRun, day: int, signup_rate: float, out: DayFiles) -> None:
    """The day's sign-ups: written, and added to the simulation."""
    cat, rng, cust = run.cat, run.rng, run.cust
    n_new = int(rng.poisson(signup_rate * signup_density(cat, np.asarray([day]))[0]))
    signup = np.sort(day * DAY + time_of_day(rng, n_new))
    if n_new:
        new = new_customers(cat, rng, signup)
        first_id = cust["persona"].size + 1
        ids = np.arange(first_id, first_id + n_new, dtype=np.int64)
        out.write(
            "customers",
            customer_rows(cat, new, ids, slice(None), (day + 1) * DAY, rng),
        )
        for k in SIM_KEYS:
            cust[k] = np.concatenate([cust[k], new[k]])


def _order_changes(run: ShopRun, facts: Facts | None, day: int, out: DayFiles) -> None:
    """The day's new orders and items, and the open orders with an event today.

    Orders are written as they stand at the end of the day; the run keeps the
    orders that still have events to come.
    """
    t0_s, t1_s = day * DAY, (day + 1) * DAY
    open_o = run.open_orders
    changed = ((open_o["ev"] >= t0_s) & (open_o["ev"] < t1_s)).any(axis=1)
    merged = orders_only(
        {k: v[changed] for k, v in open_o.items()},
        None if facts is None else {k: getattr(facts, k) for k in OPEN_KEYS},
    )
    if merged.n_orders:
        out.write("orders", order_rows(merged, slice(None), t1_s))
    if facts is not None:
        out.write("order_items", item_rows(facts))
    keep = {k: v[~changed] for k, v in open_o.items()}
    still = open_after(merged, t1_s)
    open_o = {k: np.concatenate([keep[k], still[k]]) for k in OPEN_KEYS}
    later = ((open_o["ev"] >= t1_s) & (open_o["ev"] < NEVER)).any(axis=1)
    run.open_orders = {k: v[later] for k, v in open_o.items()}


def _stock_changes(run: ShopRun, facts: Facts | None, day: int, out: DayFiles) -> None:
    """Stock movements and price changes: the rows of the products that moved."""
    cat, rng = run.cat, run.rng
    sold = np.zeros(cat.n_products, np.int64)
    if facts is not None:
        sold = np.bincount(
            facts.item_product, weights=facts.item_qty, minlength=cat.n_products
        ).astype(np.int64)
    run.stock, idx = stock_moves(cat, rng, run.stock, run.reorder, sold, day)
    if idx.size:
        upd_s = (day + 1) * DAY - 1 - rng.integers(0, 3600, idx.size)
        run.product_updated_s[idx] = upd_s
        out.write(
            "products",
            product_rows(
                cat,
                idx,
                run.stock[idx],
                run.reorder[idx],
                np.full(idx.size, day),
                upd_s,
            ),
        )
