"""The static side of one generation: calendar range, places, products, promotions.

`build_catalog` draws it once per (seed, scale, start, end) from the catalogue's
random stream; `generate` and `append_days` both read the same cached object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np

from loader.generate.calendar_curves import civil, day_number
from loader.generate.csv_bytes import hcat, text_pool
from loader.generate.products import charm, draw_products
from loader.generate.promotions import draw_promotions
from loader.generate.randomness import name_pools, random_streams
from loader.generate.shop_model import CATEGORIES, REGIONS


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
        y, m, _ = civil(days)
        y0, m0, _ = civil(np.asarray([self.start_day]))
        return (y - y0[0]) * 4 + (m - 1) // 3 - (m0[0] - 1) // 3

    def price(self, products: np.ndarray, days: np.ndarray) -> np.ndarray:
        """List price in cents at the given days (changes at quarter starts)."""
        q = np.maximum(self.quarter(days), 0)
        raw = self.base_price[products] * (1.0 + self.drift[products]) ** (q / 4.0)
        return charm(raw)

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


@lru_cache(maxsize=4)
def build_catalog(seed: int, scale: float, start: date, end: date) -> Catalog:
    """The catalogue of a generation (draws products first, then promotions)."""
    rng = random_streams(seed)["catalog"]
    start_day, end_day = day_number(start), day_number(end)
    products = draw_products(rng, name_pools(seed), scale, start_day, end_day)
    promotions = draw_promotions(rng, start, end)
    cat = Catalog(
        seed=seed,
        scale=scale,
        start_day=start_day,
        end_day=end_day,
        **_places(),
        **products,
        **promotions,
    )
    cat.product_text = _product_text(cat)
    return cat


def _places() -> dict[str, Any]:
    """Countries and regions from the shop model; the keys are `Catalog` fields."""
    codes, region_of, share, vat, calling = [], [], [], [], []
    for r, region in enumerate(REGIONS):
        for country in region.countries:
            codes.append(country.code)
            region_of.append(r)
            share.append(country.share)
            vat.append(round(country.tax_rate * 10_000))
            calling.append(country.calling_code)
    return {
        "country_codes": codes,
        "country_region": np.asarray(region_of),
        "country_share": np.asarray(share),
        "country_vat_bp": np.asarray(vat, dtype=np.int64),
        "country_calling": calling,
        "region_fee": np.asarray([r.shipping_cents for r in REGIONS], dtype=np.int64),
        "region_days": np.asarray([r.delivery_days for r in REGIONS], dtype=float),
    }


def _product_text(cat: Catalog) -> np.ndarray:
    """The products' text fields, sku to brand, as one comma-joined byte block."""
    comma = np.full((cat.n_products, 1), ord(","), np.uint8)
    return hcat(
        text_pool(cat.sku),
        comma,
        text_pool(cat.product_name),
        comma,
        text_pool([CATEGORIES[c].name for c in cat.category.tolist()]),
        comma,
        text_pool(cat.subcategory),
        comma,
        text_pool(cat.brand),
    )
