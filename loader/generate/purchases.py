"""When customers buy: a thinned point process per customer, day range by day range.

The simulation state of each customer (first and last order time, still buying,
account closed) lives in the customer columns named by `customers.SIM_KEYS` and is
updated in place, so consecutive ranges continue one another.
"""

from __future__ import annotations

import numpy as np

from loader.generate.calendar_curves import DAY, season, time_of_day
from loader.generate.catalog import Catalog
from loader.generate.customers import PERSONA


def simulate(
    cat: Catalog,
    cust: dict[str, np.ndarray],
    t0: int,
    t1: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Purchase events of days [t0, t1): (customer index, seconds), time-sorted.

    First orders happen at their drawn time; repeat orders follow a thinned Poisson
    process whose intensity is the persona's rate x season x weekday x promotion lift
    x a decay in the time since the customer's last order. After each order the
    customer stops buying for good with the persona's churn probability.
    """
    persona_all = cust["persona"]
    first_t, last_t, alive, deact_t = (
        cust["first_t"],
        cust["last_t"],
        cust["alive"],
        cust["deact_t"],
    )
    days = np.arange(t0, t1)
    promo_on = cat.promo_for_days(days) >= 0
    weight = season(days)[None, :] * (
        1.0 + PERSONA["promo_lift"][:, None] * promo_on[None, :]
    )
    wmax = weight.max(axis=1)
    peak = PERSONA["orders_per_month"] / 30.44 * wmax  # candidate rate per persona
    floor, tau, churn = PERSONA["decay_floor"], PERSONA["decay_days"], PERSONA["churn"]
    out_c: list[np.ndarray] = []
    out_s: list[np.ndarray] = []
    end_s = t1 * DAY

    first = np.nonzero((first_t >= t0) & (first_t < t1))[0]
    if first.size:
        s = np.floor(first_t[first] * DAY).astype(np.int64)
        out_c.append(first)
        out_s.append(s)
        last_t[first] = s / DAY
        alive[first] &= rng.random(first.size) >= churn[persona_all[first]]

    c = np.nonzero(alive & (first_t < t1) & (deact_t > t0))[0]
    p = persona_all[c]
    t = np.maximum(float(t0), last_t[c]) + rng.exponential(1.0, c.size) / peak[p]
    limit = np.minimum(float(t1), deact_t[c])
    while True:
        keep = t < limit
        c, p, t, limit = c[keep], p[keep], t[keep], limit[keep]
        if c.size == 0:
            break
        lt = last_t[c]
        decay = floor[p] + (1.0 - floor[p]) * np.exp(-(t - lt) / tau[p])
        w = weight[p, (t - t0).astype(np.int64)] / wmax[p]
        acc = np.nonzero(rng.random(c.size) < w * decay)[0]
        stop = np.zeros(c.size, bool)
        if acc.size:
            ca = c[acc]
            s = np.floor(t[acc]).astype(np.int64) * DAY + time_of_day(rng, acc.size)
            prev = np.floor(lt[acc] * DAY).astype(np.int64)
            s = np.where(s > prev, s, prev + rng.integers(60, 1800, acc.size))
            ok = s < end_s
            out_c.append(ca[ok])
            out_s.append(s[ok])
            last_t[ca[ok]] = s[ok] / DAY
            dead = rng.random(acc.size) < churn[p[acc]]
            alive[ca[dead]] = False
            stop[acc[dead]] = True
        c, p, t, limit = c[~stop], p[~stop], t[~stop], limit[~stop]
        t = t + rng.exponential(1.0, c.size) / peak[p]
    if not out_c:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    cc = np.concatenate(out_c)
    ss = np.concatenate(out_s)
    order = np.lexsort((cc, ss))
    return cc[order], ss[order]
