"""The product catalogue: names, prices, costs, launches, popularity, planted pairs.

Every draw comes from the catalogue's random stream, in a fixed order, so the same
seed and scale always give the same products.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from loader.generate.calendar_curves import DAY, NEVER
from loader.generate.randomness import Pools
from loader.generate.shop_model import (
    ADJECTIVES,
    BRAND_SUFFIXES,
    CATEGORIES,
    DISCONTINUED_SHARE,
    LAUNCHED_SHARE,
    PLANTED_PAIRS,
    PRODUCTS_PER_SCALE,
    Category,
)


def charm(cents: np.ndarray) -> np.ndarray:
    """Round a price to a `.99` ending (or whole cents below 5.00)."""
    c = np.asarray(cents, dtype=float)
    ending = np.floor(c / 100.0) * 100 + 99
    return np.where(c < 500, np.round(c), ending).astype(np.int64)


def n_products(scale: float) -> int:
    return max(80, round(PRODUCTS_PER_SCALE * scale**0.4))


def draw_products(
    rng: np.random.Generator, pools: Pools, scale: float, start_day: int, end_day: int
) -> dict[str, Any]:
    """All products of the catalogue; the keys are `Catalog` field names."""
    category = _category_of_products(n_products(scale))
    n = category.size
    subcategory, names, brands, base, margin = _named_products(rng, pools, category)
    base = charm(base).astype(float)
    drift = np.where(rng.random(n) < 0.25, 0.0, rng.uniform(0.0, 0.06, n))
    unit_cost = np.round(base * (1 - margin)).astype(np.int64)
    sku = [
        f"{CATEGORIES[c].name[:3].upper()}-{i + 1:06d}"
        for i, c in enumerate(category.tolist())
    ]
    created_s, disc, discontinued_s = _launches(rng, n, start_day, end_day)
    # log-normal popularity (capped: a hit product, but none that takes over)
    popularity = (
        np.exp(np.clip(rng.normal(0.0, 1.0, n), -3.0, 2.8))
        * np.asarray([c.demand for c in CATEGORIES])[category]
    )
    # planted pairs: a popular A and a cheaper companion B, both always on sale
    always = (created_s < start_day * DAY) & ~disc
    pair_a, pair_b = _planted_pairs(
        always, category, np.asarray(subcategory), base, popularity
    )
    pair_of = np.full(n, -1, np.int64)
    pair_of[np.asarray(pair_a, dtype=np.int64)] = np.arange(len(pair_a))
    return {
        "n_products": n,
        "category": category,
        "subcategory": subcategory,
        "sku": sku,
        "product_name": names,
        "brand": brands,
        "base_price": base,
        "drift": drift,
        "unit_cost": unit_cost,
        "created_s": created_s.astype(np.int64),
        "discontinued_s": discontinued_s.astype(np.int64),
        "popularity": popularity,
        "pair_a": np.asarray(pair_a, dtype=np.int64),
        "pair_b": np.asarray(pair_b, dtype=np.int64),
        "pair_of": pair_of,
    }


def _category_of_products(n: int) -> np.ndarray:
    """Category number of each product: shares of the catalogue, sorted."""
    cat_share = np.asarray([c.catalog_share for c in CATEGORIES])
    counts = np.maximum(
        np.floor(cat_share / cat_share.sum() * n).astype(int),
        [len(c.subcategories) for c in CATEGORIES],
    )
    counts[np.argmax(counts)] += n - counts.sum()
    return np.repeat(np.arange(len(CATEGORIES)), counts)


def _named_products(
    rng: np.random.Generator, pools: Pools, category: np.ndarray
) -> tuple[list[str], list[str], list[str], np.ndarray, np.ndarray]:
    """Subcategory, name, brand, base price (cents) and margin of each product."""
    n = category.size
    subcategory: list[str] = []
    names: list[str] = []
    brands: list[str] = []
    base = np.empty(n)
    margin = np.empty(n)
    brand_pool = pools.brands
    for ci, spec in enumerate(CATEGORIES):
        idx = np.nonzero(category == ci)[0]
        subs = list(spec.subcategories)
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
        lo, hi = spec.price_range
        price = np.exp(rng.normal(math.log(spec.median_price), 0.6, idx.size))
        base[idx] = np.clip(price, lo, hi) * 100
        margin[idx] = rng.uniform(*spec.margin_range, idx.size)
        for s in sub_idx.tolist():
            sub = subs[s]
            name, brand = _product_name(rng, pools, spec, sub, cat_brands)
            subcategory.append(sub)
            names.append(name[:200])
            brands.append(brand)
    return subcategory, names, brands, base, margin


def _product_name(
    rng: np.random.Generator,
    pools: Pools,
    spec: Category,
    sub: str,
    cat_brands: list[str],
) -> tuple[str, str]:
    """`<brand> <adjective> <noun>[, <colour>][ <model>]` and the brand."""
    noun = spec.subcategories[sub][int(rng.integers(len(spec.subcategories[sub])))]
    brand = cat_brands[int(rng.integers(0, 8))]
    name = f"{brand} {ADJECTIVES[int(rng.integers(len(ADJECTIVES)))]} {noun}"
    if spec.name in ("fashion", "home", "sports") and rng.random() < 0.5:
        name += f", {pools.colors[int(rng.integers(len(pools.colors)))]}"
    if spec.name in ("electronics", "sports") and rng.random() < 0.7:
        name += f" {chr(65 + int(rng.integers(26)))}{int(rng.integers(2, 99))}"
    return name, brand


def _launches(
    rng: np.random.Generator, n: int, start_day: int, end_day: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Creation time, discontinued flag and discontinuation time of each product.

    85 % were in the catalogue before the range, 15 % launch during it (available
    from the month after launch); 6 % are discontinued before the end.
    """
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
    return created_s, disc, discontinued_s


def _planted_pairs(
    always: np.ndarray,
    category: np.ndarray,
    sub_arr: np.ndarray,
    base: np.ndarray,
    popularity: np.ndarray,
) -> tuple[list[int], list[int]]:
    """The A and B product of each planted pair that the catalogue can offer."""
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
    return pair_a, pair_b


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
