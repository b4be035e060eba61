"""Time in the simulation: day numbers, the civil calendar and the behaviour curves.

Days are counted from 1970-01-01 (day 0) and times in seconds since the epoch, UTC.
The curves (month, weekday, Black Friday, Christmas, hour of day) come from
`shop_model`; this module turns them into numpy multipliers and draws.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np

from loader.generate.shop_model import (
    BLACK_FRIDAY_BOOST,
    CHRISTMAS_DIP,
    HOUR_WEIGHTS,
    MONTH_FACTOR,
    WEEKDAY_FACTOR,
)

DAY = 86_400
NEVER = np.int64(2**62)  # "event does not happen" in lifecycle arrays (seconds)

_HOUR_CDF = np.cumsum(HOUR_WEIGHTS) / np.sum(HOUR_WEIGHTS)


def day_number(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def from_day_number(n: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int(n))


def civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day of days since 1970-01-01 (H. Hinnant's algorithm)."""
    z = np.asarray(days, dtype=np.int64) + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    y = yoe + era * 400 + (m <= 2)
    return y, m, d


def black_fridays(years: Iterable[int]) -> list[int]:
    """Day numbers of Black Friday (the day after the 4th Thursday of November)."""
    out = []
    for y in years:
        first = date(y, 11, 1)
        thursday = first + timedelta(days=(3 - first.weekday()) % 7 + 21)
        out.append(day_number(thursday) + 1)
    return out


def season(days: np.ndarray) -> np.ndarray:
    """Shop-wide demand multiplier per day: month, weekday, Black Friday, Xmas."""
    days = np.asarray(days, dtype=np.int64)
    y, m, d = civil(days)
    f = np.asarray(MONTH_FACTOR)[m - 1] * np.asarray(WEEKDAY_FACTOR)[(days + 3) % 7]
    bf = np.asarray(black_fridays(range(int(y.min()), int(y.max()) + 1)))
    offset = days[:, None] - bf[None, :]
    boost = np.ones(days.size)
    for delta, mult in BLACK_FRIDAY_BOOST:
        boost[(offset == delta).any(axis=1)] = mult
    for day_of_month, mult in CHRISTMAS_DIP:
        boost[(m == 12) & (d == day_of_month)] = mult
    return f * boost


def time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds into the day for `n` events, following the hour-of-day profile."""
    hour = np.searchsorted(_HOUR_CDF, rng.random(n), side="right")
    return np.minimum(hour, 23) * 3600 + rng.integers(0, 3600, n)


def periods(first_day: int, end_excl: int, scale: float) -> list[tuple[int, int]]:
    """(t0, t1) day ranges of the simulation chunks covering [first_day, end_excl).

    Calendar months; at large scales each month is cut into a few parts so that a
    chunk holds at most a few hundred thousand order lines.
    """
    parts = min(8, max(1, math.ceil(scale / 20)))
    out = []
    t0 = first_day
    while t0 < end_excl:
        y, m, _ = civil(np.asarray([t0]))
        ny, nm = (int(y[0]) + 1, 1) if int(m[0]) == 12 else (int(y[0]), int(m[0]) + 1)
        t1 = min(day_number(date(ny, nm, 1)), end_excl)
        k = min(parts, t1 - t0)
        cuts = [t0 + (t1 - t0) * i // k for i in range(k + 1)]
        out.extend(itertools.pairwise(cuts))
        t0 = t1
    return out
