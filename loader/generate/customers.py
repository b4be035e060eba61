"""Customers: sign-ups along the growth curve, personas, profiles and their rows.

A customer is a set of numpy columns (a dict of arrays, one entry per customer);
text attributes are indices into the seeded name pools until they are written.
"""

from __future__ import annotations

import numpy as np

from core.enums import SEGMENTS
from loader.generate.calendar_curves import DAY, season, time_of_day
from loader.generate.catalog import Catalog
from loader.generate.csv_bytes import (
    BOOL_TEXT,
    blank_where,
    const_pool,
    csv_rows,
    date_bytes,
    digits,
    hcat,
    timestamp,
)
from loader.generate.randomness import (
    Pools,
    ascii_pools,
    name_pool_bytes,
    name_pools,
)
from loader.generate.shop_model import (
    CHANNELS,
    CLOSED_ACCOUNT_SHARE,
    CUSTOMERS_PER_SCALE,
    EMAIL_DOMAINS,
    MOBILE_GROWTH,
    PERSONAS,
    PRE_EXISTING_SHARE,
    PROFILE_EDIT_SHARE,
    PROMO_SIGNUP_LIFT,
    REGIONS,
    SIGNUP_GROWTH,
)

# the persona table as numpy arrays, indexed by persona number
PERSONA = {
    k: np.asarray(getattr(PERSONAS, k), dtype=float)
    for k in (
        "share", "first_order", "orders_per_month", "churn", "decay_days",
        "decay_floor", "promo_lift", "promo_use", "basket_lines", "extra_units",
        "price_tilt", "alive_before_start",
    )
}  # fmt: skip
NO_DATE = -(2**31)  # a missing birth date in the int32 day arrays
CUSTOMER_CHUNK = 100_000  # customers drawn and formatted per block
# what the purchase simulation needs of a customer (the rest is written at once)
SIM_KEYS = (
    "persona",
    "region",
    "country",
    "channel",
    "first_t",
    "last_t",
    "alive",
    "deact_t",
)


def signup_density(cat: Catalog, days: np.ndarray) -> np.ndarray:
    """Relative number of sign-ups per day: growth x season x promotions."""
    days = np.asarray(days, dtype=np.int64)
    growth = 1.0 + SIGNUP_GROWTH * (days - cat.start_day) / 365.25
    promo = cat.promo_for_days(days) >= 0
    return (
        np.maximum(growth, 0.2)
        * season(days)
        * np.where(promo, 1.0 + PROMO_SIGNUP_LIFT, 1.0)
    )


def new_customers(
    cat: Catalog, rng: np.random.Generator, signup_s: np.ndarray
) -> dict[str, np.ndarray]:
    """Attributes of customers who sign up at the given times (sorted)."""
    n = signup_s.size
    pools = name_pools(cat.seed)
    share = PERSONA["share"]
    persona = rng.choice(4, n, p=share / share.sum()).astype(np.int8)
    seg_u = rng.random(n)
    seg_cdf = np.cumsum(np.asarray(PERSONAS.segment_mix), axis=1)[persona]
    segment = (seg_u[:, None] > seg_cdf).sum(axis=1).clip(0, 2).astype(np.int8)
    region, country = _home(cat, rng, n)
    channel = _acquisition_channel(cat, rng, signup_s)
    # first order: most buy right at sign-up, others after a while, some never
    buys = rng.random(n) < PERSONA["first_order"][persona]
    lag = np.where(
        rng.random(n) < 0.6,
        rng.uniform(120, 5400, n) / DAY,
        rng.exponential(4.0, n) + 0.05,
    )
    first_t = np.where(buys, signup_s / DAY + lag, np.inf)
    return {
        "persona": persona,
        "segment": segment,
        "region": region.astype(np.int8),
        "country": country.astype(np.int16),
        "channel": channel.astype(np.int8),
        "signup_s": signup_s.astype(np.int64),
        "first_t": first_t,
        "last_t": np.full(n, -np.inf),
        "alive": np.ones(n, bool),
        "deact_t": np.full(n, np.inf),
        **_profile(rng, pools, country, signup_s),
    }


def _home(
    cat: Catalog, rng: np.random.Generator, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Region and country (within the region) of `n` customers."""
    region_share = np.asarray([r.share for r in REGIONS])
    region = rng.choice(len(REGIONS), n, p=region_share / region_share.sum())
    u = rng.random(n)
    country = np.zeros(n, np.int64)
    for r in range(len(REGIONS)):
        cs = np.nonzero(cat.country_region == r)[0]
        cdf = np.cumsum(cat.country_share[cs]) / cat.country_share[cs].sum()
        sel = region == r
        country[sel] = cs[
            np.minimum(np.searchsorted(cdf, u[sel], side="right"), cs.size - 1)
        ]
    return region, country


def _acquisition_channel(
    cat: Catalog, rng: np.random.Generator, signup_s: np.ndarray
) -> np.ndarray:
    """The channel each customer came through (the mobile app gains share)."""
    n = signup_s.size
    years = (signup_s / DAY - cat.start_day) / 365.25
    mix = np.asarray([c[2] for c in CHANNELS])
    mobile = np.clip(1.0 + MOBILE_GROWTH * years, 0.5, 3.0)
    w = np.repeat(mix[None, :], n, axis=0)
    w[:, 1] *= mobile
    cdf = np.cumsum(w, axis=1) / w.sum(axis=1, keepdims=True)
    return (rng.random(n)[:, None] > cdf).sum(axis=1).clip(0, len(CHANNELS) - 1)


def _profile(
    rng: np.random.Generator, pools: Pools, country: np.ndarray, signup_s: np.ndarray
) -> dict[str, np.ndarray]:
    """Names, city, e-mail shape, phone and birth date (text as pool indices)."""
    n = signup_s.size
    return {
        "first_name": (
            pools.first_off[country] + (rng.random(n) * pools.first_cnt[country])
        ).astype(np.int32),
        "last_name": (
            pools.last_off[country] + (rng.random(n) * pools.last_cnt[country])
        ).astype(np.int32),
        "city": np.where(
            rng.random(n) < 0.03,
            -1,
            pools.city_off[country] + (rng.random(n) * pools.city_cnt[country]),
        ).astype(np.int32),
        "email_style": rng.integers(0, 4, n).astype(np.int8),
        "email_domain": rng.choice(
            len(EMAIL_DOMAINS),
            n,
            p=np.asarray([d[1] for d in EMAIL_DOMAINS])
            / sum(d[1] for d in EMAIL_DOMAINS),
        ).astype(np.int8),
        "phone": np.where(
            rng.random(n) < 0.12, -1, rng.integers(200_000_000, 999_999_999, n)
        ).astype(np.int32),
        "birth_day": np.where(
            rng.random(n) < 0.08,
            NO_DATE,
            (signup_s // DAY)
            - (np.clip(rng.normal(39, 12, n), 18, 85) * 365.25).astype(np.int64),
        ).astype(np.int32),
    }


def initial_customers(
    cat: Catalog, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], float]:
    """All customers of the initial range, sorted by sign-up; also the sign-up rate."""
    # The shop's size is set by the scale: CUSTOMERS_PER_SCALE x scale customers over
    # a three-year range (30 % of them already there at the start). Shorter or
    # longer ranges get proportionally fewer or more sign-ups.
    size = CUSTOMERS_PER_SCALE * cat.scale
    n_pre = max(1, round(size * PRE_EXISTING_SHARE))
    reference = signup_density(cat, np.arange(cat.start_day, cat.start_day + 1096))
    base_rate = size * (1 - PRE_EXISTING_SHARE) / reference.sum()  # per density unit
    days = np.arange(cat.start_day, cat.end_day + 1)
    density = signup_density(cat, days)
    n_in = max(1, round(base_rate * density.sum()))
    total = n_pre + n_in
    in_days = rng.choice(days, n_in, p=density / density.sum())
    pre_days = rng.integers(cat.start_day - 3 * 365, cat.start_day - 1, n_pre)
    signup = np.sort(
        np.concatenate([pre_days, in_days]) * DAY + time_of_day(rng, total)
    )
    blocks = [
        new_customers(cat, rng, signup[a : a + CUSTOMER_CHUNK])
        for a in range(0, total, CUSTOMER_CHUNK)
    ]
    c = {k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]}
    del blocks
    pre = signup < cat.start_day * DAY
    # customers from before the range: they bought before, some are still engaged
    p = c["persona"][pre]
    start_t = float(cat.start_day)
    lo = np.maximum(signup[pre] / DAY + 0.01, start_t - 365)
    c["first_t"][pre] = signup[pre] / DAY + 0.01
    c["last_t"][pre] = lo + rng.random(p.size) * (start_t - lo)
    c["alive"][pre] = rng.random(p.size) < PERSONA["alive_before_start"][p]
    # a few accounts are closed before the end of the range
    closes = rng.random(total) < CLOSED_ACCOUNT_SHARE
    begin = np.where(np.isfinite(c["first_t"]), c["first_t"], signup / DAY) + 1.0
    end_t = float(cat.t_end)
    at = begin + rng.random(total) * (end_t - begin)
    c["deact_t"] = np.where(closes & (at < end_t), at, np.inf)
    return c, float(base_rate)


def customer_rows(
    cat: Catalog,
    c: dict[str, np.ndarray],
    ids: np.ndarray,
    sel: slice | np.ndarray,
    as_of_s: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Row matrix of customers[sel] as of a moment (is_active, updated_at)."""
    first_pool, last_pool, city_pool = name_pool_bytes(cat.seed)
    first_ascii, last_ascii, initial = ascii_pools(cat.seed)
    g = {k: v[sel] for k, v in c.items()}
    cid = ids[sel]
    n = cid.size
    style = g["email_style"]
    first_part = np.where(
        (style == 2)[:, None], initial[g["first_name"]], first_ascii[g["first_name"]]
    )
    sep = const_pool((".", "_", "", "."))[style]
    domain = const_pool(tuple("@" + d for d, _ in EMAIL_DOMAINS))[g["email_domain"]]
    email = hcat(first_part, sep, last_ascii[g["last_name"]], digits(cid), domain)
    calling = const_pool(tuple(f"+{x} " for x in cat.country_calling))[g["country"]]
    phone = blank_where(
        hcat(calling, digits(np.maximum(g["phone"], 0), 9)), g["phone"] < 0
    )
    no_birth = g["birth_day"] == NO_DATE
    birth = blank_where(date_bytes(np.where(no_birth, 0, g["birth_day"])), no_birth)
    city = blank_where(city_pool[np.maximum(g["city"], 0)], g["city"] < 0)
    closed = g["deact_t"] * DAY < as_of_s
    deact_s = np.where(closed, np.floor(g["deact_t"] * DAY), 0).astype(np.int64)
    # some profiles were edited after sign-up (address, phone, consent...)
    edited = rng.random(n) < PROFILE_EDIT_SHARE
    span = np.maximum(as_of_s - g["signup_s"], 1)
    edit_s = g["signup_s"] + (rng.random(n) * span).astype(np.int64)
    updated = np.where(closed, deact_s, np.where(edited, edit_s, g["signup_s"]))
    return csv_rows(
        [
            digits(cid),
            first_pool[g["first_name"]],
            last_pool[g["last_name"]],
            email,
            phone,
            birth,
            city,
            const_pool(tuple(cat.country_codes))[g["country"]],
            digits(g["region"].astype(np.int64) + 1),
            const_pool(SEGMENTS)[g["segment"]],
            digits(g["channel"].astype(np.int64) + 1),
            timestamp(g["signup_s"]),
            BOOL_TEXT[(~closed).astype(np.int64)],
            timestamp(updated),
        ]
    )
