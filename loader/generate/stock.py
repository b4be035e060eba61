"""Product stock: levels at the end of the range, daily movements, product rows.

Stock levels and reorder points follow the recent sales; a product's row is
written again (with a newer updated_at) whenever its stock or price moves.
"""

from __future__ import annotations

import numpy as np

from loader.generate.calendar_curves import DAY
from loader.generate.catalog import Catalog
from loader.generate.csv_bytes import BOOL_TEXT, csv_rows, digits, money, timestamp
from loader.generate.shop_model import LOW_STOCK_SHARE, RESTOCK_DAILY


def product_rows(
    cat: Catalog,
    idx: np.ndarray,
    stock: np.ndarray,
    reorder: np.ndarray,
    price_day: np.ndarray,
    updated_s: np.ndarray,
) -> np.ndarray:
    """Row matrix of the products `idx` as of `updated_s`.

    A discontinued product keeps the price of its last day on sale.
    """
    active = cat.discontinued_s[idx] > updated_s
    day = np.where(active, price_day, cat.discontinued_s[idx] // DAY)
    return csv_rows(
        [
            digits(idx + 1),
            cat.product_text[idx],
            money(cat.unit_cost[idx]),
            money(cat.price(idx, day)),
            digits(stock),
            digits(reorder),
            BOOL_TEXT[active.astype(np.int64)],
            timestamp(cat.created_s[idx]),
            timestamp(updated_s),
        ]
    )


def initial_stock(
    cat: Catalog, recent: np.ndarray, rng: np.random.Generator, t_end_s: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stock, reorder point and updated_at of every product at the end of the range.

    Reorder points cover the lead time at the last 30 days' sales pace; a share of
    the products ends below it.
    """
    n = cat.n_products
    active = cat.discontinued_s >= t_end_s
    daily = recent / 30.0
    lead = rng.uniform(5, 14, n)
    reorder = np.ceil(daily * lead).astype(np.int64) + rng.integers(5, 20, n)
    low = rng.random(n) < LOW_STOCK_SHARE
    stock = np.where(
        low,
        (rng.random(n) * 0.95 * reorder).astype(np.int64) * (rng.random(n) > 0.2),
        (reorder * rng.uniform(1.3, 6.0, n)).astype(np.int64) + rng.integers(0, 50, n),
    )
    stock = np.where(active, stock, rng.integers(0, 10, n))
    reorder = np.where(active, reorder, 0)
    updated = np.where(
        active,
        np.maximum(t_end_s - rng.integers(600, 3 * DAY, n), cat.created_s + 60),
        cat.discontinued_s,
    )
    return stock.astype(np.int64), reorder.astype(np.int64), updated.astype(np.int64)


def stock_moves(
    cat: Catalog,
    rng: np.random.Generator,
    stock: np.ndarray,
    reorder: np.ndarray,
    sold: np.ndarray,
    day: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Stock after a day's sales and restocking; the products whose row changed.

    A product's row changes when it sold, was restocked or its price moved (at a
    quarter start); discontinued products stay as they are.
    """
    active = cat.discontinued_s >= (day + 1) * DAY
    stock = np.maximum(stock - sold, 0)
    restock = active & (stock < reorder) & (rng.random(cat.n_products) < RESTOCK_DAILY)
    stock = stock + np.where(
        restock,
        (reorder * rng.uniform(2.0, 5.0, cat.n_products)).astype(np.int64),
        0,
    )
    repriced = active & (
        cat.quarter(np.asarray([day]))[0] != cat.quarter(np.asarray([day - 1]))[0]
    )
    moved = active & ((sold > 0) | restock | repriced)
    return stock, np.nonzero(moved)[0]
