"""Orders and order items as columns: their lifecycle events, state and CSV rows.

An order carries the times of its lifecycle events (`ev`, NEVER when an event does
not happen); its status, payment status and updated_at at any moment are read from
them. Orders whose events are not all past are "open" and carried over to the
appended days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.enums import ORDER_STATUSES, PAYMENT_METHODS, PAYMENT_STATUSES
from loader.generate.calendar_curves import NEVER
from loader.generate.csv_bytes import (
    blank_where,
    const_pool,
    csv_rows,
    digits,
    money,
    timestamp,
)


@dataclass
class Facts:
    """Orders (with lifecycle event times) and their items for one period."""

    order_id: np.ndarray
    customer: np.ndarray  # customer index (id - 1)
    channel: np.ndarray
    region: np.ndarray
    promo: np.ndarray  # promotion index or -1
    ordered_s: np.ndarray
    method: np.ndarray
    shipping: np.ndarray
    tax: np.ndarray
    # (n, 7) event seconds: pay, ship, deliver, return, cancel, fail, delete
    ev: np.ndarray
    item_id: np.ndarray
    item_order: np.ndarray  # order row index
    item_product: np.ndarray
    item_qty: np.ndarray
    item_price: np.ndarray
    item_discount: np.ndarray

    @property
    def n_orders(self) -> int:
        return int(self.order_id.size)


EV_PAY, EV_SHIP, EV_DELIVER, EV_RETURN, EV_CANCEL, EV_FAIL, EV_DELETE = range(7)


def order_state(
    ordered_s: np.ndarray, ev: np.ndarray, until_s: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Status, payment status, updated_at and deleted_at (or -1) before `until_s`."""
    seen = ev < until_s
    status = np.zeros(ordered_s.size, np.int64)  # placed
    status[seen[:, EV_SHIP]] = 1
    status[seen[:, EV_DELIVER]] = 2
    status[seen[:, EV_CANCEL] | seen[:, EV_FAIL]] = 3
    status[seen[:, EV_RETURN]] = 4
    pay = np.ones(ordered_s.size, np.int64)  # pending
    pay[seen[:, EV_PAY]] = 0
    pay[seen[:, EV_FAIL] | (seen[:, EV_CANCEL] & ~seen[:, EV_PAY])] = 2
    pay[(seen[:, EV_CANCEL] & seen[:, EV_PAY]) | seen[:, EV_RETURN]] = 3
    updated = np.maximum(ordered_s, np.where(seen, ev, 0).max(axis=1))
    deleted = np.where(seen[:, EV_DELETE], ev[:, EV_DELETE], -1)
    return status, pay, updated, deleted


def order_rows(
    f: Facts, sel: np.ndarray | slice, until_s: int, customer_base: int = 1
) -> np.ndarray:
    """Row matrix of the orders `sel` as they stand just before `until_s`."""
    status, pay, updated, deleted = order_state(f.ordered_s[sel], f.ev[sel], until_s)
    promo = f.promo[sel]
    return csv_rows(
        [
            digits(f.order_id[sel]),
            digits(f.customer[sel] + customer_base),
            digits(f.channel[sel] + 1),
            digits(f.region[sel] + 1),
            blank_where(digits(np.maximum(promo, 0) + 1), promo < 0),
            timestamp(f.ordered_s[sel]),
            const_pool(ORDER_STATUSES)[status],
            const_pool(PAYMENT_STATUSES)[pay],
            const_pool(PAYMENT_METHODS)[f.method[sel]],
            money(f.shipping[sel]),
            money(f.tax[sel]),
            timestamp(updated),
            blank_where(timestamp(np.maximum(deleted, 0)), deleted < 0),
        ]
    )


def item_rows(f: Facts, sel: slice = slice(None)) -> np.ndarray:
    """Row matrix of the items `sel` (updated_at is their order's time)."""
    order = f.item_order[sel]
    return csv_rows(
        [
            digits(f.item_id[sel]),
            digits(f.order_id[order]),
            digits(f.item_product[sel] + 1),
            digits(f.item_qty[sel]),
            money(f.item_price[sel]),
            money(f.item_discount[sel]),
            timestamp(f.ordered_s[order]),
        ]
    )


# the order columns carried over while an order is open (its items are written)
OPEN_KEYS = (
    "order_id",
    "customer",
    "channel",
    "region",
    "promo",
    "ordered_s",
    "method",
    "shipping",
    "tax",
    "ev",
)


def open_after(f: Facts, until_s: int) -> dict[str, np.ndarray]:
    """Orders with lifecycle events still to come after `until_s`."""
    pending = ((f.ev >= until_s) & (f.ev < NEVER)).any(axis=1)
    return {k: getattr(f, k)[pending] for k in OPEN_KEYS}


def orders_only(*parts: dict[str, np.ndarray] | None) -> Facts:
    """A Facts of orders only (no items), from open-order dicts."""
    got = [p for p in parts if p is not None]
    cols = {k: np.concatenate([p[k] for p in got]) for k in OPEN_KEYS}
    empty = np.empty(0, np.int64)
    return Facts(
        **cols,
        item_id=empty,
        item_order=empty,
        item_product=empty,
        item_qty=empty,
        item_price=empty,
        item_discount=empty,
    )


def concat_open_orders(
    parts: list[dict[str, np.ndarray]],
) -> dict[str, np.ndarray]:
    """Open-order dicts joined into one (an empty one when there are none)."""
    if not parts:
        return {k: np.empty((0, 7) if k == "ev" else 0, np.int64) for k in OPEN_KEYS}
    return {k: np.concatenate([p[k] for p in parts]) for k in OPEN_KEYS}
