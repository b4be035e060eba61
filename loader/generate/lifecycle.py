"""The lifecycle of an order: payment, shipping, delivery and what can go wrong.

Event times are drawn once, when the order is placed; the files show each order as
it stands at a given moment (see `facts.order_state`).
"""

from __future__ import annotations

import numpy as np

from loader.generate.calendar_curves import DAY, NEVER
from loader.generate.catalog import Catalog
from loader.generate.facts import (
    EV_CANCEL,
    EV_DELETE,
    EV_DELIVER,
    EV_FAIL,
    EV_PAY,
    EV_RETURN,
    EV_SHIP,
)
from loader.generate.shop_model import (
    CANCEL_RATE,
    FAILED_PAYMENT_RATE,
    RETURN_RATE,
    SOFT_DELETE_RATE,
)


def lifecycle(
    cat: Catalog,
    rng: np.random.Generator,
    s: np.ndarray,
    region: np.ndarray,
    method: np.ndarray,
    offline: np.ndarray,
) -> np.ndarray:
    """Event times (seconds, NEVER if it does not happen) of each order."""
    n = s.size
    u = rng.random(n)
    fail = ~offline & (u < FAILED_PAYMENT_RATE)
    cancel = ~offline & ~fail & (u < FAILED_PAYMENT_RATE + CANCEL_RATE)
    ret = ~fail & ~cancel & (rng.random(n) < RETURN_RATE)
    delete = rng.random(n) < SOFT_DELETE_RATE
    h = 3600.0
    pay = s + np.select(
        [method == 2, method == 3],
        [rng.uniform(12 * h, 4 * DAY, n), np.zeros(n)],
        rng.uniform(5, 180, n),
    ).astype(np.int64)
    ship = s + rng.uniform(4 * h, 2.5 * DAY, n).astype(np.int64)
    ship = np.where(
        method == 2, np.maximum(ship, pay + rng.integers(3600, 8 * 3600, n)), ship
    )
    dmin, dmax = cat.region_days[region, 0], cat.region_days[region, 1]
    deliver = ship + (rng.uniform(dmin, dmax, n) * DAY).astype(np.int64)
    ship = np.where(offline, s, ship)
    deliver = np.where(offline, s, deliver)
    pay = np.where(method == 3, deliver, pay)  # cash on delivery
    ev = np.full((n, 7), NEVER, np.int64)
    ev[:, EV_PAY] = np.where(fail, NEVER, pay)
    ev[:, EV_SHIP] = np.where(fail | cancel, NEVER, ship)
    ev[:, EV_DELIVER] = np.where(fail | cancel, NEVER, deliver)
    ev[:, EV_RETURN] = np.where(
        ret, deliver + (rng.uniform(3, 25, n) * DAY).astype(np.int64), NEVER
    )
    cancel_at = s + (rng.uniform(0.1, 0.9, n) * (ship - s)).astype(np.int64) + 60
    ev[:, EV_CANCEL] = np.where(cancel, cancel_at, NEVER)
    ev[cancel & (pay >= cancel_at), EV_PAY] = NEVER  # unpaid when cancelled
    ev[:, EV_FAIL] = np.where(fail, s + rng.integers(60, 1800, n), NEVER)
    del_at = s + rng.integers(3600, 3 * DAY, n)
    ev[:, EV_DELETE] = np.where(delete, del_at, NEVER)
    # nothing happens to a soft-deleted order after its deletion
    frozen = delete[:, None] & (ev > del_at[:, None])
    frozen[:, EV_DELETE] = False
    ev[frozen] = NEVER
    return ev
