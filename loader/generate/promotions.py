"""The promotion calendar: yearly campaigns and flash sales, with their codes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np

from loader.generate.calendar_curves import (
    DAY,
    black_fridays,
    day_number,
    from_day_number,
)


def draw_promotions(rng: np.random.Generator, start: date, end: date) -> dict[str, Any]:
    """The catalogue's promotions; the keys are `Catalog` field names."""
    promos = _campaigns(rng, start, end)
    t_end_s = (day_number(end) + 1) * DAY
    return {
        "promo_code": [p[0] for p in promos],
        "promo_desc": [p[1] for p in promos],
        "promo_pct_h": np.asarray([p[2] for p in promos], dtype=np.int64),
        "promo_first": np.asarray([p[3] for p in promos], dtype=np.int64),
        "promo_last": np.asarray([p[4] for p in promos], dtype=np.int64),
        # edited three weeks before the start, never after the range's end
        "promo_updated_s": np.minimum(
            np.asarray([p[3] for p in promos], dtype=np.int64) * DAY
            - 21 * DAY
            + rng.integers(8 * 3600, 18 * 3600, len(promos)),
            t_end_s - DAY // 2,
        ),
    }


def _campaigns(
    rng: np.random.Generator, start: date, end: date
) -> list[tuple[str, str, int, int, int]]:
    """Yearly campaigns and flash sales: (code, description, pct*100, first, last)."""
    horizon = end + timedelta(days=120)  # campaigns already scheduled after the end
    out = []
    for year in range(start.year, horizon.year + 1):
        yy = year % 100
        bf = from_day_number(black_fridays([year])[0])
        campaigns = [
            ("NEWYEAR", "New Year Sale", date(year, 1, 2), 10, (10, 20)),
            ("LOVE", "Valentine's Week", date(year, 2, 7), 8, (10, 15)),
            ("SPRING", "Spring Sale", date(year, 3, 20), 10, (10, 20)),
            ("SUMMER", "Summer Sale", date(year, 7, 1), 14, (15, 30)),
            ("SCHOOL", "Back to School", date(year, 8, 20), 12, (10, 15)),
            ("SINGLES", "Singles' Day", date(year, 11, 11), 1, (11, 11)),
            ("BLACKFRIDAY", "Black Friday", bf, 4, (20, 35)),
            ("XMAS", "Christmas Gifts", date(year, 12, 5), 12, (10, 15)),
        ]
        for month in sorted(rng.choice(np.arange(2, 11), 2, replace=False).tolist()):
            first = date(year, month, int(rng.integers(1, 25)))
            tag = "".join(chr(65 + int(x)) for x in rng.integers(0, 26, 3))
            campaigns.append((f"FLASH{tag}", "Flash Sale", first, 2, (15, 25)))
        campaigns.sort(key=lambda c: c[2])
        for code, name, first, length, (lo, hi) in campaigns:
            last = first + timedelta(days=length - 1)
            if last < start or first > horizon:
                continue
            pct = int(rng.integers(lo, hi + 1))
            if name == "Flash Sale":
                text = f"{name}: {pct}% off, 48 hours only"
            elif name == "Black Friday":
                text = f"{name} {year}: {pct}% off everything, all weekend"
            else:
                text = f"{name} {year} - {pct}% off sitewide"
            out.append(
                (
                    f"{code}{yy:02d}",
                    text,
                    pct * 100,
                    day_number(first),
                    day_number(last),
                )
            )
    return out
