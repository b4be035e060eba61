"""`generate`: the initial range, one CSV per raw table, its manifest and state.

Files are written in load order: the small dimensions, the customers (final as of
the end of the range), orders and items month by month, then the products, whose
stock follows the last 30 days of sales.
"""

from __future__ import annotations

import math
import numbers
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import EcomError
from loader.generate.calendar_curves import DAY, from_day_number, periods
from loader.generate.catalog import build_catalog
from loader.generate.contract import LOAD_ORDER
from loader.generate.csv_bytes import csv_rows, digits, money, text_pool, timestamp
from loader.generate.csv_writer import CsvFile
from loader.generate.customers import (
    CUSTOMER_CHUNK,
    SIM_KEYS,
    customer_rows,
    initial_customers,
)
from loader.generate.dirty import DIRTY_ID_BASE, MAX_DIRTY_RATE, Dirt
from loader.generate.facts import (
    concat_open_orders,
    item_rows,
    open_after,
    order_rows,
)
from loader.generate.randomness import derived_stream, random_streams
from loader.generate.saved_state import (
    STATE_VERSION,
    remove_previous,
    save_state,
    write_manifest,
)
from loader.generate.shop_model import CHANNELS, REGIONS
from loader.generate.shop_run import Progress, ShopRun
from loader.generate.stock import initial_stock, product_rows

FACT_CHUNK = 200_000  # order / item rows formatted per block


def _as_date(value: date, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, date):
        raise EcomError(f"{name} must be a date, got {value!r}")
    return value


def _check(seed: int, scale: float, start: date, end: date, dirty_rate: float) -> None:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise EcomError(f"seed must be a whole number >= 0, got {seed!r}")
    bad = isinstance(scale, bool) or not isinstance(scale, numbers.Real)
    if bad or not math.isfinite(scale) or scale <= 0:
        raise EcomError(f"scale must be a positive number, got {scale!r}")
    if scale > 1000:
        raise EcomError(f"scale {scale} is too large (at most 1000)")
    if end < start:
        raise EcomError(f"end date {end} is before start date {start}")
    if start.year < 1971 or end.year > 9000:
        raise EcomError(f"dates must lie between 1971 and 9000, got {start}..{end}")
    if (
        not isinstance(dirty_rate, numbers.Real)
        or not 0 <= dirty_rate <= MAX_DIRTY_RATE
    ):
        raise EcomError(
            f"dirty_rate must be between 0 and {MAX_DIRTY_RATE}, got {dirty_rate}"
        )


def generate(
    out_dir: Path,
    *,
    scale: float = 1.0,
    seed: int = 42,
    start: date = date(2023, 1, 1),
    end: date = date(2025, 12, 31),
    dirty_rate: float = 0.0,
    progress: Progress | None = None,
) -> dict:
    """Write one CSV per raw table, `_manifest.json` and the append state.

    Same arguments give byte-identical files. Returns the manifest.
    """
    start, end = _as_date(start, "start"), _as_date(end, "end")
    _check(seed, scale, start, end, dirty_rate)
    seed, scale, dirty_rate = int(seed), float(scale), float(dirty_rate)
    out_dir = _emptied_folder(Path(out_dir))
    report = progress or (lambda step, done, total: None)
    streams = random_streams(seed)
    cat = build_catalog(seed, scale, start, end)
    dirt = Dirt(dirty_rate, streams["dirty"], DIRTY_ID_BASE, set())
    run = ShopRun(cat, streams["simulation"], dirt)
    months = periods(cat.start_day, cat.t_end, scale)
    total_steps = 3 + len(months)  # progress: steps done before each one starts
    report("regions, channels, promotions", 0, total_steps)
    files = _write_dimensions(out_dir, run)
    report("customers", 1, total_steps)
    files["customers"], signup_rate = _write_customers(
        out_dir, run, streams["customers"]
    )
    recent = _write_orders(out_dir, run, files, months, report, total_steps)
    report("products", total_steps - 1, total_steps)
    files["products"] = _write_products(out_dir, run, recent)

    arguments = {
        "seed": seed,
        "scale": scale,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "last_day": end.isoformat(),
        "dirty_rate": dirty_rate,
    }
    manifest = _manifest(run, arguments, files)
    state_meta = {"version": STATE_VERSION, **arguments, "signup_rate": signup_rate}
    save_state(out_dir, state_meta | run.counters(), run.state_arrays())
    write_manifest(out_dir, manifest)
    report("done", total_steps, total_steps)
    return manifest


def _emptied_folder(out_dir: Path) -> Path:
    """The output folder, created, without the files of an earlier generation."""
    if out_dir.exists() and not out_dir.is_dir():
        raise EcomError(f"{out_dir} exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_previous(out_dir)
    return out_dir


def _write_dimensions(out_dir: Path, run: ShopRun) -> dict[str, CsvFile]:
    """The regions, channels and promotions files (small, written at once)."""
    cat = run.cat
    dim_s = (cat.start_day - 400) * DAY + 9 * 3600
    n_promo = len(cat.promo_code)
    columns = {
        "regions": [
            digits(np.arange(1, len(REGIONS) + 1)),
            text_pool([r.name for r in REGIONS]),
            timestamp(np.full(len(REGIONS), dim_s)),
        ],
        "channels": [
            digits(np.arange(1, len(CHANNELS) + 1)),
            text_pool([c[0] for c in CHANNELS]),
            text_pool([c[1] for c in CHANNELS]),
            timestamp(np.full(len(CHANNELS), dim_s)),
        ],
        "promotions": [
            digits(np.arange(1, n_promo + 1)),
            text_pool(cat.promo_code),
            text_pool(cat.promo_desc),
            money(cat.promo_pct_h),
            timestamp(cat.promo_first * DAY),
            timestamp(cat.promo_last * DAY + DAY - 1),
            timestamp(cat.promo_updated_s),
        ],
    }
    files: dict[str, CsvFile] = {}
    for table, cols in columns.items():
        files[table] = CsvFile(out_dir, f"{table}.csv", table, run.dirt)
        files[table].write(csv_rows(cols))
        files[table].close()
    return files


def _write_customers(
    out_dir: Path, run: ShopRun, rng: np.random.Generator
) -> tuple[CsvFile, float]:
    """The customers file and the sign-up rate per unit of sign-up density.

    The file is final as of the end of the range (sign-ups and closures); the run
    keeps the customers' simulation columns.
    """
    cat = run.cat
    cust, signup_rate = initial_customers(cat, rng)
    n_cust = cust["persona"].size
    ids = np.arange(1, n_cust + 1, dtype=np.int64)
    f = CsvFile(out_dir, "customers.csv", "customers", run.dirt)
    text_rng = derived_stream(cat.seed, 7)
    for a in range(0, n_cust, CUSTOMER_CHUNK):
        part = slice(a, a + CUSTOMER_CHUNK)
        f.write(customer_rows(cat, cust, ids, part, cat.t_end * DAY, text_rng))
    f.close(force=True)
    run.cust = {k: cust[k] for k in SIM_KEYS}  # the text attributes are written
    return f, signup_rate


def _write_orders(
    out_dir: Path,
    run: ShopRun,
    files: dict[str, CsvFile],
    months: list[tuple[int, int]],
    report: Progress,
    total_steps: int,
) -> np.ndarray:
    """The orders and items files, period by period.

    Returns the units each product sold in the last 30 days of the range; the run
    keeps the orders whose lifecycle goes on after it.
    """
    cat = run.cat
    t_end_s = cat.t_end * DAY
    orders_f = files["orders"] = CsvFile(out_dir, "orders.csv", "orders", run.dirt)
    items_f = files["order_items"] = CsvFile(
        out_dir, "order_items.csv", "order_items", run.dirt
    )
    recent = np.zeros(cat.n_products, np.int64)  # units sold in the last 30 days
    open_parts: list[dict[str, np.ndarray]] = []
    for i, (t0, t1) in enumerate(months):
        report(f"orders {from_day_number(t0):%Y-%m}", 2 + i, total_steps)
        facts = run.purchases(t0, t1)
        if facts is None:
            continue
        for a in range(0, facts.n_orders, FACT_CHUNK):
            orders_f.write(order_rows(facts, slice(a, a + FACT_CHUNK), t_end_s))
        for a in range(0, facts.item_id.size, FACT_CHUNK):
            items_f.write(item_rows(facts, slice(a, a + FACT_CHUNK)))
        late = facts.ordered_s[facts.item_order] >= t_end_s - 30 * DAY
        recent += np.bincount(
            facts.item_product[late],
            weights=facts.item_qty[late],
            minlength=cat.n_products,
        ).astype(np.int64)
        open_parts.append(open_after(facts, t_end_s))
    orders_f.close(force=True)
    items_f.close(force=True)
    run.open_orders = concat_open_orders(open_parts)
    return recent


def _write_products(out_dir: Path, run: ShopRun, recent: np.ndarray) -> CsvFile:
    """The products file: stock and reorder points follow the recent sales."""
    cat = run.cat
    stock, reorder, updated = initial_stock(
        cat, recent, derived_stream(cat.seed, 11), cat.t_end * DAY
    )
    f = CsvFile(out_dir, "products.csv", "products", run.dirt)
    idx = np.arange(cat.n_products)
    f.write(
        product_rows(cat, idx, stock, reorder, np.full(idx.size, cat.end_day), updated)
    )
    f.close(force=True)
    run.stock, run.reorder, run.product_updated_s = stock, reorder, updated
    return f


def _manifest(
    run: ShopRun, arguments: dict[str, Any], files: dict[str, CsvFile]
) -> dict[str, Any]:
    """The manifest of a fresh generation (`append_days` extends it)."""
    cat = run.cat
    return {
        "generator": "loader.generate",
        **arguments,
        "row_counts": {t: files[t].rows for t in LOAD_ORDER},
        "files": [f"{t}.csv" for t in LOAD_ORDER],
        "file_row_counts": {f"{t}.csv": files[t].rows for t in LOAD_ORDER},
        "file_injected_counts": {f"{t}.csv": files[t].injected for t in LOAD_ORDER},
        "appended_days": [],
        "planted_pairs": [
            {"product_id_a": int(a) + 1, "product_id_b": int(b) + 1}
            for a, b in zip(cat.pair_a, cat.pair_b, strict=True)
        ],
        "injected": run.dirt.injected,
    }
