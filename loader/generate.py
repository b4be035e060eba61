"""Synthetic e-commerce data: a seeded, vectorised simulation written as CSV files.

The shop is simulated, not sampled row by row:

* customers sign up along a growth curve (with season, weekday and promotion bumps)
  and carry a persona (one-timer, bargain hunter, regular, VIP) that sets how often
  they buy, how big their baskets are, how they react to promotions and how likely
  they are to stop buying after each order;
* purchases are a point process per customer, simulated by thinning: candidate
  times at the persona's peak rate, accepted with the probability
  season x weekday x promotion lift x decay(time since the last order);
* baskets draw products from persona- and month-specific popularity tables, with a
  few planted product pairs that are bought together far more often than chance;
* every order has a lifecycle (payment, shipping, delivery, cancellation, failed
  payment, return, soft delete) whose state is read at the end of the generated
  range; `append_days` continues the same simulation day by day from saved state.

Facts are produced month by month (day by day when appending) and formatted into
CSV text with numpy byte matrices, so memory stays flat and no Python loop runs per
row. See docs/generator.md for the behaviour curves and the dirty-row kinds.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import numbers
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from faker import Faker

from core.enums import (
    CHANNEL_TYPES,
    ORDER_STATUSES,
    PAYMENT_METHODS,
    PAYMENT_STATUSES,
    SEGMENTS,
)
from core.errors import EcomError
from loader.shop_model import (
    ADJECTIVES,
    BLACK_FRIDAY_BOOST,
    BRAND_SUFFIXES,
    CANCEL_RATE,
    CATEGORIES,
    CHANNELS,
    CHRISTMAS_DIP,
    CLOSED_ACCOUNT_SHARE,
    CUSTOMERS_PER_SCALE,
    DISCONTINUED_SHARE,
    EMAIL_DOMAINS,
    EXPRESS_CENTS,
    EXPRESS_RATE,
    FAILED_PAYMENT_RATE,
    FREE_SHIPPING_CENTS,
    HOUR_WEIGHTS,
    LAUNCHED_SHARE,
    LOW_STOCK_SHARE,
    LOYAL_CHANNEL,
    MOBILE_GROWTH,
    MONTH_FACTOR,
    PAIR_PROBABILITY,
    PAYMENT_MIX,
    PERSONAS,
    PLANTED_PAIRS,
    PRE_EXISTING_SHARE,
    PRODUCTS_PER_SCALE,
    PROFILE_EDIT_SHARE,
    PROMO_SIGNUP_LIFT,
    REGIONS,
    RESTOCK_DAILY,
    RETURN_RATE,
    SIGNUP_GROWTH,
    SOFT_DELETE_RATE,
    WEEKDAY_FACTOR,
)

Progress = Callable[[str, int, int], None]

# --------------------------------------------------------------------------- contract

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "regions": ("region_id", "region_name", "updated_at"),
    "channels": ("channel_id", "channel_name", "channel_type", "updated_at"),
    "promotions": (
        "promotion_id",
        "promo_code",
        "description",
        "discount_pct",
        "starts_at",
        "ends_at",
        "updated_at",
    ),
    "customers": (
        "customer_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "birth_date",
        "city",
        "country_code",
        "region_id",
        "segment",
        "acquisition_channel_id",
        "signup_at",
        "is_active",
        "updated_at",
    ),
    "products": (
        "product_id",
        "sku",
        "product_name",
        "category",
        "subcategory",
        "brand",
        "unit_cost",
        "list_price",
        "stock_quantity",
        "reorder_point",
        "is_active",
        "created_at",
        "updated_at",
    ),
    "orders": (
        "order_id",
        "customer_id",
        "channel_id",
        "ship_region_id",
        "promotion_id",
        "ordered_at",
        "status",
        "payment_status",
        "payment_method",
        "shipping_amount",
        "tax_amount",
        "updated_at",
        "deleted_at",
    ),
    "order_items": (
        "order_item_id",
        "order_id",
        "product_id",
        "quantity",
        "unit_price",
        "discount_amount",
        "updated_at",
    ),
}
LOAD_ORDER: tuple[str, ...] = tuple(TABLE_COLUMNS)
MANIFEST_NAME = "_manifest.json"
STATE_NAME = "_state.json"
STATE_ARRAYS_NAME = "_state.npy"
STATE_VERSION = 1

DIRTY_KINDS: tuple[str, ...] = (
    "wrong_column_count",
    "bad_number",
    "bad_timestamp",
    "negative_quantity",
    "discount_above_line",
    "unknown_foreign_key",
    "duplicate_key",
    "malformed_email",
    "overlong_text",
    "invalid_utf8",
)
# Ids of injected rows live far above any clean id, so no clean row can collide
# with them and removing the injected lines leaves exactly the clean output.
DIRTY_ID_BASE = 800_000_000_000
UNKNOWN_ID_BASE = 900_000_000_000

DAY = 86_400
NO_DATE = -(2**31)  # a missing birth date in the int32 day arrays
CUSTOMER_CHUNK = 100_000  # customers drawn and formatted per block
FACT_CHUNK = 200_000  # order / item rows formatted per block
NEVER = np.int64(2**62)  # "event does not happen" in lifecycle arrays (seconds)
MAX_DIRTY_RATE = 0.5

# --------------------------------------------------------------------------- the shop

_P = {
    k: np.asarray(getattr(PERSONAS, k), dtype=float)
    for k in (
        "share", "first_order", "orders_per_month", "churn", "decay_days",
        "decay_floor", "promo_lift", "promo_use", "basket_lines", "extra_units",
        "price_tilt", "alive_before_start",
    )
}  # fmt: skip
_HOUR_CDF = np.cumsum(HOUR_WEIGHTS) / np.sum(HOUR_WEIGHTS)
_COUNTRIES = tuple(c for region in REGIONS for c in region.countries)


# --------------------------------------------------------------------------- CSV bytes
# Rows are built as uint8 matrices: every field is a fixed-width block, padded with
# NUL bytes that are removed from the final buffer in one pass (UTF-8 text never
# contains NUL). That keeps the formatting vectorised end to end.


_T2 = np.frombuffer("".join(f"{i:02d}" for i in range(100)).encode(), np.uint8)
_T2 = _T2.reshape(100, 2)  # "00".."99"


def _digits(values: np.ndarray, width: int | None = None) -> np.ndarray:
    """Non-negative integers as right-aligned ASCII digits (leading NULs)."""
    v = np.asarray(values, dtype=np.int64)
    if width is None:
        width = len(str(int(v.max()))) if v.size else 1
    out = np.empty((v.size, width), np.uint8)
    rem = v.copy()
    for j in range(width - 1, -1, -1):
        rem, digit = np.divmod(rem, 10)
        out[:, j] = digit
    out += 48
    if width > 1:
        limits = 10 ** np.arange(width - 1, 0, -1, dtype=np.int64)
        out[:, : width - 1][v[:, None] < limits[None, :]] = 0
    return out


def _money(cents: np.ndarray) -> np.ndarray:
    """Non-negative cents as `123.45`."""
    c = np.asarray(cents, dtype=np.int64)
    whole, frac = np.divmod(c, 100)
    whole = _digits(whole)
    out = np.empty((c.size, whole.shape[1] + 3), np.uint8)
    out[:, : whole.shape[1]] = whole
    out[:, -3] = ord(".")
    out[:, -2:] = _T2[frac]
    return out


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def _date_table(days: np.ndarray) -> np.ndarray:
    """Distinct days as `YYYY-MM-DD` rows."""
    y, m, d = _civil(days)
    out = np.empty((y.size, 10), np.uint8)
    out[:, 0:4] = _digits(y, 4)
    out[:, 4] = out[:, 7] = ord("-")
    out[:, 5:7] = _T2[m]
    out[:, 8:10] = _T2[d]
    return out


def _date_bytes(days: np.ndarray) -> np.ndarray:
    """Days since the epoch as `YYYY-MM-DD` (a lookup over the days' span)."""
    days = np.asarray(days, dtype=np.int64)
    if days.size == 0:
        return np.empty((0, 10), np.uint8)
    lo, hi = int(days.min()), int(days.max())
    if hi - lo > 4 * days.size:
        return _date_table(days)
    return _date_table(np.arange(lo, hi + 1))[days - lo]


_CLOCK = np.empty((DAY, 10), np.uint8)  # "THH:MM:SSZ" for every second of a day
_sod = np.arange(DAY)
_CLOCK[:, 0] = ord("T")
_CLOCK[:, 1:3] = _T2[_sod // 3600]
_CLOCK[:, 3] = _CLOCK[:, 6] = ord(":")
_CLOCK[:, 4:6] = _T2[_sod // 60 % 60]
_CLOCK[:, 7:9] = _T2[_sod % 60]
_CLOCK[:, 9] = ord("Z")
del _sod


def _timestamp(seconds: np.ndarray) -> np.ndarray:
    """Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`."""
    days, sod = np.divmod(np.asarray(seconds, dtype=np.int64), DAY)
    out = np.empty((days.size, 20), np.uint8)
    out[:, :10] = _date_bytes(days)
    out[:, 10:] = _CLOCK[sod]
    return out


def _csv_field(value: str | bytes) -> bytes:
    """One field, RFC 4180 quoted only when needed."""
    raw = value.encode("utf-8") if isinstance(value, str) else value
    if any(ch in raw for ch in b',"\r\n'):
        return b'"' + raw.replace(b'"', b'""') + b'"'
    return raw


def _pool(values: Iterable[str]) -> np.ndarray:
    """Strings as a NUL-padded matrix of their quoted UTF-8 bytes."""
    encoded = [_csv_field(v) for v in values]
    width = max([len(e) for e in encoded] + [1])
    return np.frombuffer(
        b"".join(e.ljust(width, b"\0") for e in encoded), np.uint8
    ).reshape(len(encoded), width)


@lru_cache(maxsize=64)
def _cpool(values: tuple[str, ...]) -> np.ndarray:
    """`_pool` of a constant tuple, built once."""
    return _pool(values)


def _hcat(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate(parts, axis=1)


def _null(col: np.ndarray, mask: np.ndarray) -> np.ndarray:
    col[mask] = 0
    return col


def _rows(cols: list[np.ndarray]) -> np.ndarray:
    """Join field matrices with commas and a newline into one row matrix."""
    n = cols[0].shape[0]
    width = sum(c.shape[1] for c in cols) + len(cols)
    out = np.empty((n, width), np.uint8)
    pos = 0
    for i, c in enumerate(cols):
        out[:, pos : pos + c.shape[1]] = c
        pos += c.shape[1]
        out[:, pos] = 10 if i == len(cols) - 1 else 44
        pos += 1
    return out


def _text(mat: np.ndarray) -> bytes:
    return mat.tobytes().replace(b"\0", b"")


_BOOL = _pool(["false", "true"])


# --------------------------------------------------------------------------- calendar


def _day_number(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _from_day_number(n: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int(n))


def _black_fridays(years: Iterable[int]) -> list[int]:
    """Day numbers of Black Friday (the day after the 4th Thursday of November)."""
    out = []
    for y in years:
        first = date(y, 11, 1)
        thursday = first + timedelta(days=(3 - first.weekday()) % 7 + 21)
        out.append(_day_number(thursday) + 1)
    return out


def _season(days: np.ndarray) -> np.ndarray:
    """Shop-wide demand multiplier per day: month, weekday, Black Friday, Xmas."""
    days = np.asarray(days, dtype=np.int64)
    y, m, d = _civil(days)
    f = np.asarray(MONTH_FACTOR)[m - 1] * np.asarray(WEEKDAY_FACTOR)[(days + 3) % 7]
    bf = np.asarray(_black_fridays(range(int(y.min()), int(y.max()) + 1)))
    offset = days[:, None] - bf[None, :]
    boost = np.ones(days.size)
    for delta, mult in BLACK_FRIDAY_BOOST:
        boost[(offset == delta).any(axis=1)] = mult
    for day_of_month, mult in CHRISTMAS_DIP:
        boost[(m == 12) & (d == day_of_month)] = mult
    return f * boost


# --------------------------------------------------------------------------- catalogue


def _ascii(name: str) -> str:
    """Lowercase ASCII letters of a name, for e-mail addresses."""
    special = {"ł": "l", "ø": "o", "æ": "ae", "ß": "ss", "đ": "d", "þ": "th"}
    text = "".join(special.get(ch, ch) for ch in name.lower())
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text if "a" <= ch <= "z") or "user"


@dataclass(frozen=True)
class Pools:
    """Faker-made name pools per country (concatenated, with offsets)."""

    first: list[str]
    last: list[str]
    city: list[str]
    first_off: np.ndarray
    first_cnt: np.ndarray
    last_off: np.ndarray
    last_cnt: np.ndarray
    city_off: np.ndarray
    city_cnt: np.ndarray
    brands: list[str]
    colors: list[str]


def _city_maker(fake: Faker) -> Callable[[], str]:
    """`fake.city`, made independent of string hashing.

    Some locales (it_IT) keep their city list in set order, which changes with
    PYTHONHASHSEED; draw from the sorted list with the seeded instance instead.
    """
    owner = next((p for p in fake.get_providers() if hasattr(p, "city")), None)
    cities = getattr(owner, "cities", None)
    if isinstance(cities, list | tuple) and cities:
        ordered = sorted(set(cities))
        return lambda: fake.random.choice(ordered)
    return fake.city


@lru_cache(maxsize=4)
def _pools(seed: int) -> Pools:
    """Seeded Faker pools; rows later draw indices into them with numpy."""
    first: list[str] = []
    last: list[str] = []
    city: list[str] = []
    offs: dict[str, list[int]] = {"f": [], "l": [], "c": []}
    providers = ["faker.providers.person", "faker.providers.address"]
    for number, country in enumerate(_COUNTRIES):
        fake = Faker(country.locale, providers=providers)
        fake.seed_instance(seed * 1_000 + number)
        for key, target, make, size in (
            ("f", first, fake.first_name, 60),
            ("l", last, fake.last_name, 60),
            ("c", city, _city_maker(fake), 25),
        ):
            values = sorted({make()[:100] for _ in range(size)})
            offs[key].append(len(target))
            target.extend(values)
    fake = Faker("en_US", providers=["faker.providers.person", "faker.providers.color"])
    fake.seed_instance(seed)
    brands = sorted({fake.last_name() for _ in range(160)})
    colors = sorted({fake.color_name() for _ in range(60)})

    def cnt(off: list[int], total: int) -> np.ndarray:
        return np.diff(np.asarray([*off, total]))

    return Pools(
        first=first,
        last=last,
        city=city,
        first_off=np.asarray(offs["f"]),
        first_cnt=cnt(offs["f"], len(first)),
        last_off=np.asarray(offs["l"]),
        last_cnt=cnt(offs["l"], len(last)),
        city_off=np.asarray(offs["c"]),
        city_cnt=cnt(offs["c"], len(city)),
        brands=brands,
        colors=colors,
    )


@dataclass
class Catalog:
    """Everything static of one generation: calendar, places, products, promos."""

    seed: int
    scale: float
    start_day: int
    end_day: int  # last generated day of the initial range (inclusive)
    # places
    country_codes: list[str]
    country_region: np.ndarray
    country_share: np.ndarray  # share within its region
    country_vat_bp: np.ndarray  # tax rate in basis points
    country_calling: list[str]
    region_fee: np.ndarray
    region_days: np.ndarray  # (n_regions, 2) delivery days min/max
    # products
    n_products: int
    category: np.ndarray
    subcategory: list[str]
    sku: list[str]
    product_name: list[str]
    brand: list[str]
    base_price: np.ndarray  # cents at the start of the range
    drift: np.ndarray  # yearly price increase
    unit_cost: np.ndarray  # cents
    created_s: np.ndarray
    discontinued_s: np.ndarray  # NEVER when still sold
    popularity: np.ndarray
    pair_a: np.ndarray
    pair_b: np.ndarray
    pair_of: np.ndarray  # per product: index of the pair it is A of, or -1
    # promotions
    promo_code: list[str]
    promo_desc: list[str]
    promo_pct_h: np.ndarray  # discount percent in hundredths (15% -> 1500)
    promo_first: np.ndarray  # first day (day number)
    promo_last: np.ndarray  # last day, inclusive
    promo_updated_s: np.ndarray
    # cached byte pools for the products file
    product_text: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))

    @property
    def t_end(self) -> int:
        """First day after the initial range (exclusive end), day number."""
        return self.end_day + 1

    def quarter(self, days: np.ndarray) -> np.ndarray:
        y, m, _ = _civil(days)
        y0, m0, _ = _civil(np.asarray([self.start_day]))
        return (y - y0[0]) * 4 + (m - 1) // 3 - (m0[0] - 1) // 3

    def price(self, products: np.ndarray, days: np.ndarray) -> np.ndarray:
        """List price in cents at the given days (changes at quarter starts)."""
        q = np.maximum(self.quarter(days), 0)
        raw = self.base_price[products] * (1.0 + self.drift[products]) ** (q / 4.0)
        return _charm(raw)

    def promo_for_days(self, days: np.ndarray) -> np.ndarray:
        """The best promotion (highest discount) active on each day, or -1."""
        days = np.asarray(days, dtype=np.int64)
        if days.size == 0:
            return np.empty(0, np.int64)
        lo, hi = int(days.min()), int(days.max())
        span = np.arange(lo, hi + 1)
        best = np.full(span.size, -1, np.int64)
        best_pct = np.zeros(span.size, np.int64)
        live = (self.promo_last >= lo) & (self.promo_first <= hi)
        for i in np.nonzero(live)[0].tolist():
            on = (span >= self.promo_first[i]) & (span <= self.promo_last[i])
            better = on & (self.promo_pct_h[i] > best_pct)
            best[better] = i
            best_pct[better] = self.promo_pct_h[i]
        return best[days - lo]


def _charm(cents: np.ndarray) -> np.ndarray:
    """Round a price to a `.99` ending (or whole cents below 5.00)."""
    c = np.asarray(cents, dtype=float)
    charm = np.floor(c / 100.0) * 100 + 99
    return np.where(c < 500, np.round(c), charm).astype(np.int64)


def _n_products(scale: float) -> int:
    return max(80, round(PRODUCTS_PER_SCALE * scale**0.4))


def _streams(seed: int) -> dict[str, np.random.Generator]:
    names = ("catalog", "customers", "simulation", "dirty")
    seqs = np.random.SeedSequence(seed).spawn(len(names))
    return {
        n: np.random.Generator(np.random.PCG64(s))
        for n, s in zip(names, seqs, strict=True)
    }


@lru_cache(maxsize=4)
def _catalog(seed: int, scale: float, start: date, end: date) -> Catalog:
    rng = _streams(seed)["catalog"]
    pools = _pools(seed)
    start_day, end_day = _day_number(start), _day_number(end)
    t_end_s = (end_day + 1) * DAY

    codes, region_of, share, vat, calling = [], [], [], [], []
    for r, region in enumerate(REGIONS):
        for country in region.countries:
            codes.append(country.code)
            region_of.append(r)
            share.append(country.share)
            vat.append(round(country.tax_rate * 10_000))
            calling.append(country.calling_code)

    # products: categories, subcategories, names, prices, costs, lifecycle
    n = _n_products(scale)
    cat_share = np.asarray([c.catalog_share for c in CATEGORIES])
    counts = np.maximum(
        np.floor(cat_share / cat_share.sum() * n).astype(int),
        [len(c.subcategories) for c in CATEGORIES],
    )
    counts[np.argmax(counts)] += n - counts.sum()
    category = np.repeat(np.arange(len(CATEGORIES)), counts)
    n = category.size
    subcategory: list[str] = []
    names: list[str] = []
    brands: list[str] = []
    base = np.empty(n)
    margin = np.empty(n)
    brand_pool = pools.brands
    for ci, cat in enumerate(CATEGORIES):
        idx = np.nonzero(category == ci)[0]
        subs = list(cat.subcategories)
        sub_idx = np.concatenate(
            [np.arange(len(subs)), rng.integers(0, len(subs), idx.size - len(subs))]
        )
        cat_brands = [
            brand_pool[int(b)] + BRAND_SUFFIXES[int(s)]
            for b, s in zip(
                rng.choice(len(brand_pool), 8, replace=False),
                rng.integers(0, len(BRAND_SUFFIXES), 8),
                strict=True,
            )
        ]
        lo, hi = cat.price_range
        price = np.exp(rng.normal(math.log(cat.median_price), 0.6, idx.size))
        base[idx] = np.clip(price, lo, hi) * 100
        margin[idx] = rng.uniform(*cat.margin_range, idx.size)
        for s in sub_idx.tolist():
            sub = subs[s]
            noun = cat.subcategories[sub][
                int(rng.integers(len(cat.subcategories[sub])))
            ]
            brand = cat_brands[int(rng.integers(0, 8))]
            name = f"{brand} {ADJECTIVES[int(rng.integers(len(ADJECTIVES)))]} {noun}"
            if cat.name in ("fashion", "home", "sports") and rng.random() < 0.5:
                name += f", {pools.colors[int(rng.integers(len(pools.colors)))]}"
            if cat.name in ("electronics", "sports") and rng.random() < 0.7:
                name += f" {chr(65 + int(rng.integers(26)))}{int(rng.integers(2, 99))}"
            subcategory.append(sub)
            names.append(name[:200])
            brands.append(brand)
    base = _charm(base).astype(float)
    drift = np.where(rng.random(n) < 0.25, 0.0, rng.uniform(0.0, 0.06, n))
    unit_cost = np.round(base * (1 - margin)).astype(np.int64)
    sku = [
        f"{CATEGORIES[c].name[:3].upper()}-{i + 1:06d}"
        for i, c in enumerate(category.tolist())
    ]
    # 85 % were in the catalogue before the range, 15 % launch during it (available
    # from the month after launch); 6 % are discontinued before the end.
    span = end_day + 1 - start_day
    created_day = np.where(
        rng.random(n) >= LAUNCHED_SHARE,
        start_day - rng.integers(30, 730, n),
        start_day + rng.integers(0, max(span - 30, 1), n),
    )
    created_s = created_day * DAY + rng.integers(0, 6 * 3600, n)
    disc = rng.random(n) < DISCONTINUED_SHARE
    disc_day = (
        created_day
        + 120
        + (rng.random(n) * (end_day - created_day - 120)).astype(np.int64)
    )
    disc = disc & (disc_day > start_day + 30) & (disc_day < end_day)
    discontinued_s = np.where(disc, disc_day * DAY + rng.integers(0, DAY, n), NEVER)
    # log-normal popularity (capped: a hit product, but none that takes over)
    popularity = (
        np.exp(np.clip(rng.normal(0.0, 1.0, n), -3.0, 2.8))
        * np.asarray([c.demand for c in CATEGORIES])[category]
    )

    # planted pairs: a popular A and a cheaper companion B, both always on sale
    always = (created_s < start_day * DAY) & ~disc
    sub_arr = np.asarray(subcategory)
    used: set[int] = set()
    pair_a, pair_b = [], []
    for cat_a, sub_a, cat_b, sub_b in PLANTED_PAIRS:
        ca = [c.name for c in CATEGORIES].index(cat_a)
        cb = [c.name for c in CATEGORIES].index(cat_b)
        a_pick = _top_product(always, category, sub_arr, ca, sub_a, popularity, used)
        if a_pick < 0:
            continue
        used.add(a_pick)
        # B: a cheaper companion of middling popularity, so the pairing stands out
        b_pick = _top_product(
            always & (base < base[a_pick]),
            category,
            sub_arr,
            cb,
            sub_b,
            popularity,
            used,
            rank=0.5,
        )
        if b_pick < 0:
            b_pick = _top_product(
                always, category, sub_arr, cb, sub_b, popularity, used, rank=0.5
            )
        if b_pick < 0:
            continue
        used.add(b_pick)
        pair_a.append(a_pick)
        pair_b.append(b_pick)
    pair_of = np.full(n, -1, np.int64)
    pair_of[np.asarray(pair_a, dtype=np.int64)] = np.arange(len(pair_a))

    promos = _promotions(rng, start, end)
    cat_obj = Catalog(
        seed=seed,
        scale=scale,
        start_day=start_day,
        end_day=end_day,
        country_codes=codes,
        country_region=np.asarray(region_of),
        country_share=np.asarray(share),
        country_vat_bp=np.asarray(vat, dtype=np.int64),
        country_calling=calling,
        region_fee=np.asarray([r.shipping_cents for r in REGIONS], dtype=np.int64),
        region_days=np.asarray([r.delivery_days for r in REGIONS], dtype=float),
        n_products=n,
        category=category,
        subcategory=subcategory,
        sku=sku,
        product_name=names,
        brand=brands,
        base_price=base,
        drift=drift,
        unit_cost=unit_cost,
        created_s=created_s.astype(np.int64),
        discontinued_s=discontinued_s.astype(np.int64),
        popularity=popularity,
        pair_a=np.asarray(pair_a, dtype=np.int64),
        pair_b=np.asarray(pair_b, dtype=np.int64),
        pair_of=pair_of,
        promo_code=[p[0] for p in promos],
        promo_desc=[p[1] for p in promos],
        promo_pct_h=np.asarray([p[2] for p in promos], dtype=np.int64),
        promo_first=np.asarray([p[3] for p in promos], dtype=np.int64),
        promo_last=np.asarray([p[4] for p in promos], dtype=np.int64),
        promo_updated_s=np.minimum(
            np.asarray([p[3] for p in promos], dtype=np.int64) * DAY
            - 21 * DAY
            + rng.integers(8 * 3600, 18 * 3600, len(promos)),
            t_end_s - DAY // 2,
        ),
    )
    comma = np.full((n, 1), ord(","), np.uint8)
    cat_obj.product_text = _hcat(
        _pool(sku),
        comma,
        _pool(names),
        comma,
        _pool([CATEGORIES[c].name for c in category.tolist()]),
        comma,
        _pool(subcategory),
        comma,
        _pool(brands),
    )
    return cat_obj


def _top_product(
    mask: np.ndarray,
    category: np.ndarray,
    sub_arr: np.ndarray,
    cat: int,
    sub: str,
    popularity: np.ndarray,
    used: set[int],
    rank: float = 1.0,
) -> int:
    """A product of a subcategory (else of the category) by popularity, or -1.

    `rank` 1.0 picks the most popular candidate, 0.5 the median one.
    """
    for cand in (mask & (category == cat) & (sub_arr == sub), mask & (category == cat)):
        idx = [i for i in np.nonzero(cand)[0].tolist() if i not in used]
        if idx:
            idx.sort(key=lambda i: (popularity[i], -i))
            return int(idx[round(rank * (len(idx) - 1))])
    return -1


def _promotions(
    rng: np.random.Generator, start: date, end: date
) -> list[tuple[str, str, int, int, int]]:
    """Yearly campaigns and flash sales: (code, description, pct*100, first, last)."""
    horizon = end + timedelta(days=120)  # campaigns already scheduled after the end
    out = []
    for year in range(start.year, horizon.year + 1):
        yy = year % 100
        bf = _from_day_number(_black_fridays([year])[0])
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
                    _day_number(first),
                    _day_number(last),
                )
            )
    return out


# --------------------------------------------------------------------------- customers


def _signup_density(cat: Catalog, days: np.ndarray) -> np.ndarray:
    """Relative number of sign-ups per day: growth x season x promotions."""
    days = np.asarray(days, dtype=np.int64)
    growth = 1.0 + SIGNUP_GROWTH * (days - cat.start_day) / 365.25
    promo = cat.promo_for_days(days) >= 0
    return (
        np.maximum(growth, 0.2)
        * _season(days)
        * np.where(promo, 1.0 + PROMO_SIGNUP_LIFT, 1.0)
    )


def _time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    hour = np.searchsorted(_HOUR_CDF, rng.random(n), side="right")
    return np.minimum(hour, 23) * 3600 + rng.integers(0, 3600, n)


def _new_customers(
    cat: Catalog, rng: np.random.Generator, signup_s: np.ndarray
) -> dict[str, np.ndarray]:
    """Attributes of customers who sign up at the given times (sorted)."""
    n = signup_s.size
    pools = _pools(cat.seed)
    persona = rng.choice(4, n, p=_P["share"] / _P["share"].sum()).astype(np.int8)
    seg_u = rng.random(n)
    seg_cdf = np.cumsum(np.asarray(PERSONAS.segment_mix), axis=1)[persona]
    segment = (seg_u[:, None] > seg_cdf).sum(axis=1).clip(0, 2).astype(np.int8)
    region_share = np.asarray([r.share for r in REGIONS])
    region = rng.choice(len(REGIONS), n, p=region_share / region_share.sum())
    # country within the region
    u = rng.random(n)
    country = np.zeros(n, np.int64)
    for r in range(len(REGIONS)):
        cs = np.nonzero(cat.country_region == r)[0]
        cdf = np.cumsum(cat.country_share[cs]) / cat.country_share[cs].sum()
        sel = region == r
        country[sel] = cs[
            np.minimum(np.searchsorted(cdf, u[sel], side="right"), cs.size - 1)
        ]
    years = (signup_s / DAY - cat.start_day) / 365.25
    mix = np.asarray([c[2] for c in CHANNELS])
    # the mobile app gains share over time
    mobile = np.clip(1.0 + MOBILE_GROWTH * years, 0.5, 3.0)
    w = np.repeat(mix[None, :], n, axis=0)
    w[:, 1] *= mobile
    cdf = np.cumsum(w, axis=1) / w.sum(axis=1, keepdims=True)
    channel = (rng.random(n)[:, None] > cdf).sum(axis=1).clip(0, len(CHANNELS) - 1)
    # first order: most buy right at sign-up, others after a while, some never
    buys = rng.random(n) < _P["first_order"][persona]
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
        # text attributes, as pool indices
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


def _initial_customers(
    cat: Catalog, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], float]:
    """All customers of the initial range, sorted by sign-up; also the sign-up rate."""
    # The shop's size is set by the scale: CUSTOMERS_PER_SCALE x scale customers over
    # a three-year range (30 % of them already there at the start). Shorter or
    # longer ranges get proportionally fewer or more sign-ups.
    size = CUSTOMERS_PER_SCALE * cat.scale
    n_pre = max(1, round(size * PRE_EXISTING_SHARE))
    reference = _signup_density(cat, np.arange(cat.start_day, cat.start_day + 1096))
    base_rate = size * (1 - PRE_EXISTING_SHARE) / reference.sum()  # per density unit
    days = np.arange(cat.start_day, cat.end_day + 1)
    density = _signup_density(cat, days)
    n_in = max(1, round(base_rate * density.sum()))
    total = n_pre + n_in
    in_days = rng.choice(days, n_in, p=density / density.sum())
    pre_days = rng.integers(cat.start_day - 3 * 365, cat.start_day - 1, n_pre)
    signup = np.sort(
        np.concatenate([pre_days, in_days]) * DAY + _time_of_day(rng, total)
    )
    blocks = [
        _new_customers(cat, rng, signup[a : a + CUSTOMER_CHUNK])
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
    c["alive"][pre] = rng.random(p.size) < _P["alive_before_start"][p]
    # a few accounts are closed before the end of the range
    closes = rng.random(total) < CLOSED_ACCOUNT_SHARE
    begin = np.where(np.isfinite(c["first_t"]), c["first_t"], signup / DAY) + 1.0
    end_t = float(cat.t_end)
    at = begin + rng.random(total) * (end_t - begin)
    c["deact_t"] = np.where(closes & (at < end_t), at, np.inf)
    return c, float(base_rate)


def _customer_rows(
    cat: Catalog,
    c: dict[str, np.ndarray],
    ids: np.ndarray,
    sel: slice | np.ndarray,
    as_of_s: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Row matrix of customers[sel] as of a moment (is_active, updated_at)."""
    first_pool, last_pool, city_pool = _pools_bytes(cat.seed)
    first_ascii, last_ascii, initial = _ascii_pools(cat.seed)
    g = {k: v[sel] for k, v in c.items()}
    cid = ids[sel]
    n = cid.size
    style = g["email_style"]
    first_part = np.where(
        (style == 2)[:, None], initial[g["first_name"]], first_ascii[g["first_name"]]
    )
    sep = _cpool((".", "_", "", "."))[style]
    domain = _cpool(tuple("@" + d for d, _ in EMAIL_DOMAINS))[g["email_domain"]]
    email = _hcat(first_part, sep, last_ascii[g["last_name"]], _digits(cid), domain)
    calling = _cpool(tuple(f"+{x} " for x in cat.country_calling))[g["country"]]
    phone = _null(_hcat(calling, _digits(np.maximum(g["phone"], 0), 9)), g["phone"] < 0)
    no_birth = g["birth_day"] == NO_DATE
    birth = _null(_date_bytes(np.where(no_birth, 0, g["birth_day"])), no_birth)
    city = _null(city_pool[np.maximum(g["city"], 0)], g["city"] < 0)
    closed = g["deact_t"] * DAY < as_of_s
    deact_s = np.where(closed, np.floor(g["deact_t"] * DAY), 0).astype(np.int64)
    # some profiles were edited after sign-up (address, phone, consent...)
    edited = rng.random(n) < PROFILE_EDIT_SHARE
    span = np.maximum(as_of_s - g["signup_s"], 1)
    edit_s = g["signup_s"] + (rng.random(n) * span).astype(np.int64)
    updated = np.where(closed, deact_s, np.where(edited, edit_s, g["signup_s"]))
    return _rows(
        [
            _digits(cid),
            first_pool[g["first_name"]],
            last_pool[g["last_name"]],
            email,
            phone,
            birth,
            city,
            _cpool(tuple(cat.country_codes))[g["country"]],
            _digits(g["region"].astype(np.int64) + 1),
            _cpool(SEGMENTS)[g["segment"]],
            _digits(g["channel"].astype(np.int64) + 1),
            _timestamp(g["signup_s"]),
            _BOOL[(~closed).astype(np.int64)],
            _timestamp(updated),
        ]
    )


@lru_cache(maxsize=4)
def _pools_bytes(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p = _pools(seed)
    return _pool(p.first), _pool(p.last), _pool(p.city)


@lru_cache(maxsize=4)
def _ascii_pools(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p = _pools(seed)
    first = _pool([_ascii(x) for x in p.first])
    initial = np.zeros_like(first)
    initial[:, 0] = first[:, 0]
    return first, _pool([_ascii(x) for x in p.last]), initial


# --------------------------------------------------------------------------- purchases


def _simulate(
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
    weight = _season(days)[None, :] * (
        1.0 + _P["promo_lift"][:, None] * promo_on[None, :]
    )
    wmax = weight.max(axis=1)
    peak = _P["orders_per_month"] / 30.44 * wmax  # candidate rate per persona
    floor, tau, churn = _P["decay_floor"], _P["decay_days"], _P["churn"]
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
            s = np.floor(t[acc]).astype(np.int64) * DAY + _time_of_day(rng, acc.size)
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


def _product_cdfs(cat: Catalog, t0: int, t1: int) -> np.ndarray:
    """Per persona, the cumulative product choice distribution for days [t0, t1)."""
    _, m, _ = _civil(np.asarray([t0]))
    season = np.asarray([c.season[int(m[0]) - 1] for c in CATEGORIES])[cat.category]
    # a product launched during the range is on sale from the next period on
    available = (cat.created_s < t0 * DAY) & (cat.discontinued_s >= t1 * DAY)
    price = cat.base_price / 100.0
    w = (cat.popularity * season * available)[None, :] * price[None, :] ** _P[
        "price_tilt"
    ][:, None]
    cdf = np.cumsum(w, axis=1)
    return cdf / cdf[:, -1:]


def _facts(
    cat: Catalog,
    cust: dict[str, np.ndarray],
    c: np.ndarray,
    s: np.ndarray,
    t0: int,
    t1: int,
    next_order: int,
    next_item: int,
    rng: np.random.Generator,
) -> Facts:
    """Turn purchase events into orders, baskets, prices and lifecycles."""
    n = c.size
    p = cust["persona"][c].astype(np.int64)
    day = s // DAY
    channel = np.where(
        rng.random(n) < LOYAL_CHANNEL,
        cust["channel"][c],
        rng.choice(len(CHANNELS), n, p=_channel_share()),
    ).astype(np.int64)
    region = np.where(
        rng.random(n) < 0.97, cust["region"][c], rng.integers(0, len(REGIONS), n)
    ).astype(np.int64)
    promo = cat.promo_for_days(day)
    use = (promo >= 0) & (rng.random(n) < _P["promo_use"][p])
    promo = np.where(use, promo, -1)
    ctype = np.asarray([CHANNEL_TYPES.index(ch[1]) for ch in CHANNELS])[channel]
    mix = np.cumsum(np.asarray([PAYMENT_MIX[t] for t in CHANNEL_TYPES]), axis=1)
    method = (rng.random(n)[:, None] > mix[ctype]).sum(axis=1).clip(0, 4)

    # baskets
    lines = 1 + np.minimum(rng.poisson(_P["basket_lines"][p] - 1 + 0.4 * use), 11)
    line_order = np.repeat(np.arange(n), lines)
    cdfs = _product_cdfs(cat, t0, t1)
    u = rng.random(line_order.size)
    line_p = p[line_order]
    product = np.empty(line_order.size, np.int64)
    for k in range(4):
        sel = line_p == k
        product[sel] = np.searchsorted(cdfs[k], u[sel], side="right")
    np.minimum(product, cat.n_products - 1, out=product)
    pair = cat.pair_of[product]
    add = (pair >= 0) & (rng.random(product.size) < PAIR_PROBABILITY)
    keys = np.concatenate(
        [
            line_order * cat.n_products + product,
            line_order[add] * cat.n_products + cat.pair_b[pair[add]],
        ]
    )
    # one line per product and order, sorted by order (keys are nearly sorted)
    keys = np.sort(keys, kind="stable")
    keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
    item_order, item_product = np.divmod(keys, cat.n_products)
    m = item_order.size
    extra = np.asarray([ct.extra_units for ct in CATEGORIES])[
        cat.category[item_product]
    ]
    qty = 1 + np.minimum(rng.poisson(extra + _P["extra_units"][p[item_order]]), 9)
    price = cat.price(item_product, day[item_order])
    market = ctype[item_order] == 1
    varied = np.round(price * rng.uniform(0.95, 1.03, m)).astype(np.int64)
    price = np.where(market, varied, price)
    pct = np.where(promo[item_order] >= 0, cat.promo_pct_h[promo[item_order]], 0)
    discount = (qty * price * pct + 5_000) // 10_000

    # order amounts
    gross = np.bincount(item_order, weights=qty * price, minlength=n)
    net = np.rint(gross - np.bincount(item_order, weights=discount, minlength=n))
    net = net.astype(np.int64)
    offline = ctype == 2
    shipping = np.where(
        offline | (net >= FREE_SHIPPING_CENTS), 0, cat.region_fee[region]
    ).astype(np.int64)
    express = ~offline & (rng.random(n) < EXPRESS_RATE)
    shipping = shipping + np.where(express, EXPRESS_CENTS, 0)
    vat = cat.country_vat_bp[cust["country"][c]]
    tax = ((net + shipping) * vat + 5_000) // 10_000

    ev = _lifecycle(cat, rng, s, region, method, offline)
    return Facts(
        order_id=next_order + np.arange(n, dtype=np.int64),
        customer=c.astype(np.int64),
        channel=channel,
        region=region,
        promo=promo.astype(np.int64),
        ordered_s=s.astype(np.int64),
        method=method.astype(np.int64),
        shipping=shipping,
        tax=tax.astype(np.int64),
        ev=ev,
        item_id=next_item + np.arange(m, dtype=np.int64),
        item_order=item_order,
        item_product=item_product,
        item_qty=qty.astype(np.int64),
        item_price=price.astype(np.int64),
        item_discount=discount.astype(np.int64),
    )


@lru_cache(maxsize=1)
def _channel_share() -> np.ndarray:
    w = np.asarray([c[2] for c in CHANNELS])
    return w / w.sum()


def _lifecycle(
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


def _order_state(
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


def _order_rows(
    f: Facts, sel: np.ndarray | slice, until_s: int, customer_base: int = 1
) -> np.ndarray:
    status, pay, updated, deleted = _order_state(f.ordered_s[sel], f.ev[sel], until_s)
    promo = f.promo[sel]
    return _rows(
        [
            _digits(f.order_id[sel]),
            _digits(f.customer[sel] + customer_base),
            _digits(f.channel[sel] + 1),
            _digits(f.region[sel] + 1),
            _null(_digits(np.maximum(promo, 0) + 1), promo < 0),
            _timestamp(f.ordered_s[sel]),
            _cpool(ORDER_STATUSES)[status],
            _cpool(PAYMENT_STATUSES)[pay],
            _cpool(PAYMENT_METHODS)[f.method[sel]],
            _money(f.shipping[sel]),
            _money(f.tax[sel]),
            _timestamp(updated),
            _null(_timestamp(np.maximum(deleted, 0)), deleted < 0),
        ]
    )


def _item_rows(f: Facts, sel: slice = slice(None)) -> np.ndarray:
    order = f.item_order[sel]
    return _rows(
        [
            _digits(f.item_id[sel]),
            _digits(f.order_id[order]),
            _digits(f.item_product[sel] + 1),
            _digits(f.item_qty[sel]),
            _money(f.item_price[sel]),
            _money(f.item_discount[sel]),
            _timestamp(f.ordered_s[order]),
        ]
    )


def _product_rows(
    cat: Catalog,
    idx: np.ndarray,
    stock: np.ndarray,
    reorder: np.ndarray,
    price_day: np.ndarray,
    updated_s: np.ndarray,
) -> np.ndarray:
    active = cat.discontinued_s[idx] > updated_s
    day = np.where(active, price_day, cat.discontinued_s[idx] // DAY)
    return _rows(
        [
            _digits(idx + 1),
            cat.product_text[idx],
            _money(cat.unit_cost[idx]),
            _money(cat.price(idx, day)),
            _digits(stock),
            _digits(reorder),
            _BOOL[active.astype(np.int64)],
            _timestamp(cat.created_s[idx]),
            _timestamp(updated_s),
        ]
    )


# --------------------------------------------------------------------------- writing


# the kinds each table's file can carry
DIRTY_TABLE_KINDS: dict[str, tuple[str, ...]] = {
    "customers": (
        "wrong_column_count",
        "bad_timestamp",
        "duplicate_key",
        "malformed_email",
        "overlong_text",
        "invalid_utf8",
    ),
    "products": (
        "wrong_column_count",
        "bad_number",
        "duplicate_key",
        "overlong_text",
        "invalid_utf8",
    ),
    "orders": (
        "wrong_column_count",
        "bad_number",
        "bad_timestamp",
        "unknown_foreign_key",
        "duplicate_key",
    ),
    "order_items": (
        "wrong_column_count",
        "bad_number",
        "bad_timestamp",
        "negative_quantity",
        "discount_above_line",
        "unknown_foreign_key",
        "duplicate_key",
    ),
}
# the table whose file guarantees the kind appears at least once
DIRTY_KIND_OWNER: dict[str, str] = {
    "malformed_email": "customers",
    "overlong_text": "customers",
    "invalid_utf8": "customers",
} | {
    k: "order_items"
    for k in (
        "wrong_column_count",
        "bad_number",
        "bad_timestamp",
        "negative_quantity",
        "discount_above_line",
        "unknown_foreign_key",
        "duplicate_key",
    )
}


class _Dirt:
    """Plans and builds injected bad rows (additional rows, never replacements)."""

    def __init__(self, rate: float, rng: np.random.Generator, next_id: int, seen: set):
        self.rate = rate
        self.rng = rng
        self.next_id = next_id
        self.seen: set[str] = set(seen)
        self.injected: list[dict[str, Any]] = []

    def plan(self, table: str, n: int) -> list[tuple[int, str]]:
        kinds = DIRTY_TABLE_KINDS.get(table)
        if not kinds or self.rate <= 0 or n == 0:
            return []
        k = int(self.rng.binomial(n, self.rate))
        pos = np.sort(self.rng.integers(1, n + 1, k))
        which = self.rng.integers(0, len(kinds), k)
        return [(int(a), kinds[int(b)]) for a, b in zip(pos, which, strict=True)]

    def fresh(self) -> int:
        self.next_id += 1
        return self.next_id

    def make(self, table: str, kind: str, fields: list[str]) -> tuple[bytes, int]:
        cols = TABLE_COLUMNS[table]
        col = {name: i for i, name in enumerate(cols)}
        f = list(fields)
        rng = self.rng
        tag = self.fresh()
        if kind == "duplicate_key":
            key = int(f[0])
        else:
            key = tag
            f[0] = str(key)
        # keep unique columns unique, so each bad row is bad in one way only
        if table == "customers":
            f[col["email"]] = f"d{tag}.{f[col['email']]}"
        if table == "products":
            f[col["sku"]] = f"DIRTY-{tag}"
        raw: dict[int, bytes] = {}
        if kind == "duplicate_key":
            target = {
                "customers": "city",
                "products": "list_price",
                "orders": "shipping_amount",
                "order_items": "quantity",
            }[table]
            i = col[target]
            if table == "customers":
                f[i] = "Duplicateville"
            elif target == "quantity":
                f[i] = str(int(f[i]) + 1)
            else:
                f[i] = _cents_text(_text_cents(f[i]) + 100)
        elif kind == "wrong_column_count":
            if rng.random() < 0.5:
                f.pop()
            else:
                f.append("unexpected")
        elif kind == "bad_number":
            target = {
                "products": "list_price",
                "orders": "shipping_amount",
                "order_items": ("quantity", "unit_price")[int(rng.integers(2))],
            }[table]
            f[col[target]] = ("12,5", "abc", "1.2.3")[int(rng.integers(3))]
        elif kind == "bad_timestamp":
            target = {"customers": "signup_at", "orders": "ordered_at"}.get(
                table, "updated_at"
            )
            f[col[target]] = ("2024-13-45T99:00:00Z", "yesterday-ish", "2024-02-30")[
                int(rng.integers(3))
            ]
        elif kind == "negative_quantity":
            f[col["quantity"]] = str(-int(rng.integers(1, 5)))
        elif kind == "discount_above_line":
            line = int(f[col["quantity"]]) * _text_cents(f[col["unit_price"]])
            f[col["discount_amount"]] = _cents_text(
                line + int(rng.integers(100, 5_000))
            )
        elif kind == "unknown_foreign_key":
            target = "customer_id" if table == "orders" else "product_id"
            f[col[target]] = str(UNKNOWN_ID_BASE + tag - DIRTY_ID_BASE)
        elif kind == "malformed_email":
            local = f"{_ascii(f[col['first_name']])}.{tag}"
            f[col["email"]] = (
                f"{local}.example.com",
                f"{local}@@example.com",
                f"{local} x@example.com",
                f"{local}@localhost",
            )[int(rng.integers(4))]
        elif kind == "overlong_text":
            target, limit = (
                ("first_name", 100) if table == "customers" else ("product_name", 200)
            )
            base = f[col[target]] or "x"
            f[col[target]] = (base + " ") * (limit // (len(base) + 1) + 2)
        elif kind == "invalid_utf8":
            target = "last_name" if table == "customers" else "product_name"
            b = f[col[target]].encode("utf-8")
            cut = len(b) // 2
            raw[col[target]] = b[:cut] + b"\xff\xfe" + b[cut:]
        line = b",".join(_csv_field(raw.get(i, v)) for i, v in enumerate(f)) + b"\n"
        return line, key


def _text_cents(text: str) -> int:
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def _cents_text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


class _CsvFile:
    """One CSV file being written: header, clean row blocks, injected rows."""

    def __init__(self, out_dir: Path, name: str, table: str, dirt: _Dirt | None):
        self.name = name
        self.table = table
        self.dirt = dirt
        self.fh = (out_dir / name).open("wb")
        self.fh.write(",".join(TABLE_COLUMNS[table]).encode() + b"\n")
        self.line = 1
        self.rows = 0
        self.injected = 0
        self.last: bytes | None = None

    def write(self, mat: np.ndarray) -> None:
        n = mat.shape[0]
        if n == 0:
            return
        plan = self.dirt.plan(self.table, n) if self.dirt else []
        prev = 0
        for pos, kind in plan:
            if pos > prev:
                self._clean(mat[prev:pos])
            self._dirty(kind, _text(mat[pos - 1]))
            prev = pos
        if prev < n:
            self._clean(mat[prev:])
        self.last = _text(mat[n - 1])

    def _clean(self, mat: np.ndarray) -> None:
        self.fh.write(_text(mat))
        self.line += mat.shape[0]
        self.rows += mat.shape[0]

    def _dirty(self, kind: str, source: bytes) -> None:
        assert self.dirt is not None
        fields = next(csv.reader(io.StringIO(source.decode("utf-8").rstrip("\n"))))
        line, key = self.dirt.make(self.table, kind, fields)
        self.fh.write(line)
        self.line += 1
        self.injected += 1
        self.dirt.seen.add(kind)
        self.dirt.injected.append(
            {
                "table": self.table,
                "file": self.name,
                "line": self.line,
                "kind": kind,
                "key": key,
            }
        )

    def close(self, force: bool = False) -> None:
        """Close; with `force`, first add the kinds this table guarantees."""
        if force and self.dirt and self.dirt.rate > 0 and self.last is not None:
            for kind in DIRTY_KINDS:
                if DIRTY_KIND_OWNER[kind] == self.table and kind not in self.dirt.seen:
                    self._dirty(kind, self.last)
        self.fh.close()


# --------------------------------------------------------------------------- state


def _save_state(
    out_dir: Path, meta: dict[str, Any], arrays: dict[str, np.ndarray]
) -> None:
    meta = dict(meta, arrays=list(arrays))
    with (out_dir / STATE_ARRAYS_NAME).open("wb") as fh:
        for a in arrays.values():
            np.save(fh, np.ascontiguousarray(a), allow_pickle=False)
    (out_dir / STATE_NAME).write_text(
        json.dumps(meta, indent=1) + "\n", encoding="utf-8"
    )


def _load_state(out_dir: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    meta = json.loads((out_dir / STATE_NAME).read_text(encoding="utf-8"))
    arrays = {}
    with (out_dir / STATE_ARRAYS_NAME).open("rb") as fh:
        for name in meta["arrays"]:
            arrays[name] = np.load(fh, allow_pickle=False)
    return meta, arrays


def _write_manifest(out_dir: Path, manifest: dict[str, Any]) -> None:
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (out_dir / MANIFEST_NAME).write_text(text, encoding="utf-8")


def _remove_previous(out_dir: Path) -> None:
    """Delete the files of an earlier generation in the same folder (only those)."""
    path = out_dir / MANIFEST_NAME
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        for name in old.get("files", []):
            if isinstance(name, str) and "/" not in name and "\\" not in name:
                (out_dir / name).unlink(missing_ok=True)
        path.unlink()
    for name in (STATE_NAME, STATE_ARRAYS_NAME):
        (out_dir / name).unlink(missing_ok=True)


# --------------------------------------------------------------------------- public API


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
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise EcomError(f"{out_dir} exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_previous(out_dir)
    report = progress or (lambda step, done, total: None)
    streams = _streams(seed)
    cat = _catalog(seed, float(scale), start, end)
    rng = streams["simulation"]
    dirt = _Dirt(dirty_rate, streams["dirty"], DIRTY_ID_BASE, set())
    t_end_s = cat.t_end * DAY
    months = _periods(cat.start_day, cat.t_end, scale)
    total_steps = 3 + len(months)  # progress: steps done before each one starts
    report("regions, channels, promotions", 0, total_steps)

    files: dict[str, _CsvFile] = {}

    def open_file(table: str) -> _CsvFile:
        files[table] = _CsvFile(out_dir, f"{table}.csv", table, dirt)
        return files[table]

    # small dimensions
    dim_s = (cat.start_day - 400) * DAY + 9 * 3600
    f = open_file("regions")
    f.write(
        _rows(
            [
                _digits(np.arange(1, len(REGIONS) + 1)),
                _pool([r.name for r in REGIONS]),
                _timestamp(np.full(len(REGIONS), dim_s)),
            ]
        )
    )
    f = open_file("channels")
    f.write(
        _rows(
            [
                _digits(np.arange(1, len(CHANNELS) + 1)),
                _pool([c[0] for c in CHANNELS]),
                _pool([c[1] for c in CHANNELS]),
                _timestamp(np.full(len(CHANNELS), dim_s)),
            ]
        )
    )
    f = open_file("promotions")
    n_promo = len(cat.promo_code)
    f.write(
        _rows(
            [
                _digits(np.arange(1, n_promo + 1)),
                _pool(cat.promo_code),
                _pool(cat.promo_desc),
                _money(cat.promo_pct_h),
                _timestamp(cat.promo_first * DAY),
                _timestamp(cat.promo_last * DAY + DAY - 1),
                _timestamp(cat.promo_updated_s),
            ]
        )
    )
    for table in ("regions", "channels", "promotions"):
        files[table].close()
    report("customers", 1, total_steps)

    # customers (their file is final: sign-ups and closures up to the end)
    cust, signup_rate = _initial_customers(cat, streams["customers"])
    n_cust = cust["persona"].size
    ids = np.arange(1, n_cust + 1, dtype=np.int64)
    f = open_file("customers")
    text_rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 7])))
    for a in range(0, n_cust, CUSTOMER_CHUNK):
        part = slice(a, a + CUSTOMER_CHUNK)
        f.write(_customer_rows(cat, cust, ids, part, t_end_s, text_rng))
    f.close(force=True)
    cust = {k: cust[k] for k in SIM_KEYS}  # the text attributes are written

    # facts, month by month
    orders_f = open_file("orders")
    items_f = open_file("order_items")
    next_order, next_item = 1, 1
    recent = np.zeros(cat.n_products, np.int64)  # units sold in the last 30 days
    open_parts: list[dict[str, np.ndarray]] = []
    for i, (t0, t1) in enumerate(months):
        report(f"orders {_from_day_number(t0):%Y-%m}", 2 + i, total_steps)
        c, s = _simulate(cat, cust, t0, t1, rng)
        if c.size:
            facts = _facts(cat, cust, c, s, t0, t1, next_order, next_item, rng)
            next_order += facts.n_orders
            next_item += facts.item_id.size
            for a in range(0, facts.n_orders, FACT_CHUNK):
                orders_f.write(_order_rows(facts, slice(a, a + FACT_CHUNK), t_end_s))
            for a in range(0, facts.item_id.size, FACT_CHUNK):
                items_f.write(_item_rows(facts, slice(a, a + FACT_CHUNK)))
            late = facts.ordered_s[facts.item_order] >= t_end_s - 30 * DAY
            recent += np.bincount(
                facts.item_product[late],
                weights=facts.item_qty[late],
                minlength=cat.n_products,
            ).astype(np.int64)
            open_parts.append(_open_orders(facts, t_end_s))
    orders_f.close(force=True)
    items_f.close(force=True)

    # products: stock and reorder points follow the last 30 days of sales
    report("products", total_steps - 1, total_steps)
    prng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 11])))
    stock, reorder, updated = _initial_stock(cat, recent, prng, t_end_s)
    f = open_file("products")
    idx = np.arange(cat.n_products)
    f.write(
        _product_rows(cat, idx, stock, reorder, np.full(idx.size, cat.end_day), updated)
    )
    f.close(force=True)

    open_orders = _concat_open(open_parts)
    file_list = [f"{t}.csv" for t in LOAD_ORDER]
    manifest: dict[str, Any] = {
        "generator": "loader.generate",
        "seed": seed,
        "scale": scale,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "last_day": end.isoformat(),
        "dirty_rate": dirty_rate,
        "row_counts": {t: files[t].rows for t in LOAD_ORDER},
        "files": file_list,
        "file_row_counts": {f"{t}.csv": files[t].rows for t in LOAD_ORDER},
        "file_injected_counts": {f"{t}.csv": files[t].injected for t in LOAD_ORDER},
        "appended_days": [],
        "planted_pairs": [
            {"product_id_a": int(a) + 1, "product_id_b": int(b) + 1}
            for a, b in zip(cat.pair_a, cat.pair_b, strict=True)
        ],
        "injected": dirt.injected,
    }
    state_meta = {
        "version": STATE_VERSION,
        "seed": seed,
        "scale": scale,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "last_day": end.isoformat(),
        "dirty_rate": dirty_rate,
        "signup_rate": signup_rate,
        "next_order_id": next_order,
        "next_item_id": next_item,
        "next_dirty_id": dirt.next_id,
        "dirty_seen": sorted(dirt.seen),
        "rng": rng.bit_generator.state,
        "dirty_rng": dirt.rng.bit_generator.state,
    }
    arrays = {f"cust_{k}": cust[k] for k in SIM_KEYS}
    arrays |= {"stock": stock, "reorder": reorder, "product_updated_s": updated}
    arrays |= {f"open_{k}": v for k, v in open_orders.items()}
    _save_state(out_dir, state_meta, arrays)
    _write_manifest(out_dir, manifest)
    report("done", total_steps, total_steps)
    return manifest


def _periods(first_day: int, end_excl: int, scale: float) -> list[tuple[int, int]]:
    """(t0, t1) day ranges of the simulation chunks covering [first_day, end_excl).

    Calendar months; at large scales each month is cut into a few parts so that a
    chunk holds at most a few hundred thousand order lines.
    """
    parts = min(8, max(1, math.ceil(scale / 20)))
    out = []
    t0 = first_day
    while t0 < end_excl:
        y, m, _ = _civil(np.asarray([t0]))
        ny, nm = (int(y[0]) + 1, 1) if int(m[0]) == 12 else (int(y[0]), int(m[0]) + 1)
        t1 = min(_day_number(date(ny, nm, 1)), end_excl)
        k = min(parts, t1 - t0)
        cuts = [t0 + (t1 - t0) * i // k for i in range(k + 1)]
        out.extend(itertools.pairwise(cuts))
        t0 = t1
    return out


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


def _open_orders(f: Facts, until_s: int) -> dict[str, np.ndarray]:
    """Orders with lifecycle events still to come after `until_s`."""
    pending = ((f.ev >= until_s) & (f.ev < NEVER)).any(axis=1)
    return {k: getattr(f, k)[pending] for k in OPEN_KEYS}


def _orders_only(*parts: dict[str, np.ndarray] | None) -> Facts:
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


def _concat_open(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    if not parts:
        return {k: np.empty((0, 7) if k == "ev" else 0, np.int64) for k in OPEN_KEYS}
    return {k: np.concatenate([p[k] for p in parts]) for k in OPEN_KEYS}


def _initial_stock(
    cat: Catalog, recent: np.ndarray, rng: np.random.Generator, t_end_s: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


class _DayFiles:
    """The `<table>__append_<YYYYMMDD>.csv` files of one appended day."""

    def __init__(self, out_dir: Path, day: int, dirt: _Dirt):
        self.out_dir = out_dir
        self.stamp = _from_day_number(day).strftime("%Y%m%d")
        self.dirt = dirt
        self.files: dict[str, _CsvFile] = {}

    def write(self, table: str, mat: np.ndarray) -> None:
        """Add rows; a table's file is only created once it has a row."""
        if mat.shape[0] == 0:
            return
        if table not in self.files:
            name = f"{table}__append_{self.stamp}.csv"
            self.files[table] = _CsvFile(self.out_dir, name, table, self.dirt)
        self.files[table].write(mat)

    def close(self, manifest: dict[str, Any]) -> None:
        """Close the files and list them in the manifest, in load order."""
        for table in LOAD_ORDER:
            f = self.files.get(table)
            if f is None:
                continue
            f.close()
            manifest["files"].append(f.name)
            manifest["file_row_counts"][f.name] = f.rows
            manifest["file_injected_counts"][f.name] = f.injected
            manifest["row_counts"][table] += f.rows


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
    if not (out_dir / MANIFEST_NAME).exists() or not (out_dir / STATE_NAME).exists():
        raise EcomError(
            f"{out_dir} holds no previous generation (no {MANIFEST_NAME} and "
            f"{STATE_NAME}); run generate first"
        )
    try:
        meta, arrays = _load_state(out_dir)
        manifest = json.loads((out_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError) as exc:
        raise EcomError(
            f"cannot read the generator state in {out_dir}: {exc}"
        ) from None
    if meta.get("version") != STATE_VERSION:
        raise EcomError(f"the generator state in {out_dir} is from another version")
    report = progress or (lambda step, done, total: None)
    seed = int(meta["seed"])
    start, end = date.fromisoformat(meta["start"]), date.fromisoformat(meta["end"])
    cat = _catalog(seed, float(meta["scale"]), start, end)
    rng = np.random.Generator(np.random.PCG64())
    rng.bit_generator.state = meta["rng"]
    drng = np.random.Generator(np.random.PCG64())
    drng.bit_generator.state = meta["dirty_rng"]
    dirt = _Dirt(
        float(meta["dirty_rate"]),
        drng,
        int(meta["next_dirty_id"]),
        set(meta["dirty_seen"]),
    )
    cust = {k: arrays[f"cust_{k}"] for k in SIM_KEYS}
    stock, reorder = arrays["stock"], arrays["reorder"]
    prod_updated = arrays["product_updated_s"]
    open_o = {k: arrays[f"open_{k}"] for k in OPEN_KEYS}
    next_order, next_item = int(meta["next_order_id"]), int(meta["next_item_id"])
    last_day = _day_number(date.fromisoformat(meta["last_day"]))

    for i in range(days):
        day = last_day + 1 + i
        report(f"day {_from_day_number(day)}", i, days)
        t0_s, t1_s = day * DAY, (day + 1) * DAY
        out = _DayFiles(out_dir, day, dirt)

        # new customers
        n_new = int(
            rng.poisson(
                meta["signup_rate"] * _signup_density(cat, np.asarray([day]))[0]
            )
        )
        signup = np.sort(day * DAY + _time_of_day(rng, n_new))
        if n_new:
            new = _new_customers(cat, rng, signup)
            first_id = cust["persona"].size + 1
            ids = np.arange(first_id, first_id + n_new, dtype=np.int64)
            out.write(
                "customers", _customer_rows(cat, new, ids, slice(None), t1_s, rng)
            )
            for k in SIM_KEYS:
                cust[k] = np.concatenate([cust[k], new[k]])
        # purchases of the day
        c, s = _simulate(cat, cust, day, day + 1, rng)
        facts = None
        if c.size:
            facts = _facts(cat, cust, c, s, day, day + 1, next_order, next_item, rng)
            next_order += facts.n_orders
            next_item += facts.item_id.size
        # orders: new ones plus open ones with an event today, as of the day's end
        changed = ((open_o["ev"] >= t0_s) & (open_o["ev"] < t1_s)).any(axis=1)
        merged = _orders_only(
            {k: v[changed] for k, v in open_o.items()},
            None if facts is None else {k: getattr(facts, k) for k in OPEN_KEYS},
        )
        if merged.n_orders:
            out.write("orders", _order_rows(merged, slice(None), t1_s))
        if facts is not None:
            out.write("order_items", _item_rows(facts))
        # keep orders that still have events to come
        keep = {k: v[~changed] for k, v in open_o.items()}
        still = _open_orders(merged, t1_s)
        open_o = {k: np.concatenate([keep[k], still[k]]) for k in OPEN_KEYS}
        later = ((open_o["ev"] >= t1_s) & (open_o["ev"] < NEVER)).any(axis=1)
        open_o = {k: v[later] for k, v in open_o.items()}
        # stock movements and price changes
        sold = np.zeros(cat.n_products, np.int64)
        if facts is not None:
            sold = np.bincount(
                facts.item_product, weights=facts.item_qty, minlength=cat.n_products
            ).astype(np.int64)
        active = cat.discontinued_s >= t1_s
        stock = np.maximum(stock - sold, 0)
        restock = (
            active & (stock < reorder) & (rng.random(cat.n_products) < RESTOCK_DAILY)
        )
        stock = stock + np.where(
            restock,
            (reorder * rng.uniform(2.0, 5.0, cat.n_products)).astype(np.int64),
            0,
        )
        repriced = active & (
            cat.quarter(np.asarray([day]))[0] != cat.quarter(np.asarray([day - 1]))[0]
        )
        moved = active & ((sold > 0) | restock | repriced)
        idx = np.nonzero(moved)[0]
        if idx.size:
            upd_s = t1_s - 1 - rng.integers(0, 3600, idx.size)
            prod_updated[idx] = upd_s
            out.write(
                "products",
                _product_rows(
                    cat, idx, stock[idx], reorder[idx], np.full(idx.size, day), upd_s
                ),
            )
        out.close(manifest)
        manifest["appended_days"].append(_from_day_number(day).isoformat())
        manifest["last_day"] = _from_day_number(day).isoformat()

    manifest["injected"] = manifest.get("injected", []) + dirt.injected
    meta.update(
        last_day=manifest["last_day"],
        next_order_id=next_order,
        next_item_id=next_item,
        next_dirty_id=dirt.next_id,
        dirty_seen=sorted(dirt.seen),
        rng=rng.bit_generator.state,
        dirty_rng=drng.bit_generator.state,
    )
    meta.pop("arrays", None)
    arrays = {f"cust_{k}": cust[k] for k in SIM_KEYS}
    arrays |= {"stock": stock, "reorder": reorder, "product_updated_s": prod_updated}
    arrays |= {f"open_{k}": v for k, v in open_o.items()}
    _save_state(out_dir, meta, arrays)
    _write_manifest(out_dir, manifest)
    report("done", days, days)
    return manifest
