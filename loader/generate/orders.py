"""Purchase events become orders: channel, payment, basket, prices, amounts.

Each step draws from the simulation's random stream in a fixed order (order fields,
baskets, line prices, shipping, lifecycle), so a range always gives the same facts.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from core.enums import CHANNEL_TYPES, UNKNOWN
from loader.generate.calendar_curves import DAY, civil
from loader.generate.catalog import Catalog
from loader.generate.customers import PERSONA
from loader.generate.facts import Facts
from loader.generate.lifecycle import lifecycle
from loader.generate.shop_model import (
    CATEGORIES,
    CHANNELS,
    EXPRESS_CENTS,
    EXPRESS_RATE,
    FREE_SHIPPING_CENTS,
    LOYAL_CHANNEL,
    PAIR_PROBABILITY,
    PAYMENT_MIX,
    REGIONS,
)


def build_facts(
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
    channel, region, promo, use, ctype, method = _order_fields(
        cat, cust, c, p, day, rng
    )
    item_order, item_product = _baskets(cat, p, use, t0, t1, rng)
    qty, price, discount = _line_prices(
        cat, item_order, item_product, p, day, ctype, promo, rng
    )
    offline = ctype == 2
    shipping, tax = _shipping_and_tax(
        cat, cust["country"][c], region, offline, item_order, qty * price, discount, rng
    )
    ev = lifecycle(cat, rng, s, region, method, offline)
    m = item_order.size
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


def _order_fields(
    cat: Catalog,
    cust: dict[str, np.ndarray],
    c: np.ndarray,
    p: np.ndarray,
    day: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, ...]:
    """Channel, ship region, promotion (and whether used), channel type, payment."""
    n = c.size
    channel = np.where(
        rng.random(n) < LOYAL_CHANNEL,
        cust["channel"][c],
        rng.choice(len(CHANNELS), n, p=_channel_share()),
    ).astype(np.int64)
    region = np.where(
        rng.random(n) < 0.97, cust["region"][c], rng.integers(0, len(REGIONS), n)
    ).astype(np.int64)
    promo = cat.promo_for_days(day)
    use = (promo >= 0) & (rng.random(n) < PERSONA["promo_use"][p])
    promo = np.where(use, promo, -1)
    ctype = np.asarray([CHANNEL_TYPES.index(ch[1]) for ch in CHANNELS])[channel]
    known_types = [t for t in CHANNEL_TYPES if t != UNKNOWN]
    mix = np.cumsum(np.asarray([PAYMENT_MIX[t] for t in known_types]), axis=1)
    method = (rng.random(n)[:, None] > mix[ctype]).sum(axis=1).clip(0, 4)
    return channel, region, promo, use, ctype, method


@lru_cache(maxsize=1)
def _channel_share() -> np.ndarray:
    w = np.asarray([c[2] for c in CHANNELS])
    return w / w.sum()


def _product_cdfs(cat: Catalog, t0: int, t1: int) -> np.ndarray:
    """Per persona, the cumulative product choice distribution for days [t0, t1)."""
    _, m, _ = civil(np.asarray([t0]))
    season = np.asarray([c.season[int(m[0]) - 1] for c in CATEGORIES])[cat.category]
    # a product launched during the range is on sale from the next period on
    available = (cat.created_s < t0 * DAY) & (cat.discontinued_s >= t1 * DAY)
    price = cat.base_price / 100.0
    w = (cat.popularity * season * available)[None, :] * price[None, :] ** PERSONA[
        "price_tilt"
    ][:, None]
    cdf = np.cumsum(w, axis=1)
    return cdf / cdf[:, -1:]


def _baskets(
    cat: Catalog,
    p: np.ndarray,
    use: np.ndarray,
    t0: int,
    t1: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Order row index and product of every order line, sorted by order."""
    n = p.size
    lines = 1 + np.minimum(rng.poisson(PERSONA["basket_lines"][p] - 1 + 0.4 * use), 11)
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
    return np.divmod(keys, cat.n_products)


def _line_prices(
    cat: Catalog,
    item_order: np.ndarray,
    item_product: np.ndarray,
    p: np.ndarray,
    day: np.ndarray,
    ctype: np.ndarray,
    promo: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Quantity, unit price and discount (cents) of every order line."""
    m = item_order.size
    extra = np.asarray([ct.extra_units for ct in CATEGORIES])[
        cat.category[item_product]
    ]
    qty = 1 + np.minimum(rng.poisson(extra + PERSONA["extra_units"][p[item_order]]), 9)
    price = cat.price(item_product, day[item_order])
    market = ctype[item_order] == 1
    varied = np.round(price * rng.uniform(0.95, 1.03, m)).astype(np.int64)
    price = np.where(market, varied, price)
    pct = np.where(promo[item_order] >= 0, cat.promo_pct_h[promo[item_order]], 0)
    discount = (qty * price * pct + 5_000) // 10_000
    return qty, price, discount


def _shipping_and_tax(
    cat: Catalog,
    country: np.ndarray,
    region: np.ndarray,
    offline: np.ndarray,
    item_order: np.ndarray,
    line_gross: np.ndarray,
    discount: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Shipping fee and tax (cents) of every order."""
    n = region.size
    gross = np.bincount(item_order, weights=line_gross, minlength=n)
    net = np.rint(gross - np.bincount(item_order, weights=discount, minlength=n))
    net = net.astype(np.int64)
    shipping = np.where(
        offline | (net >= FREE_SHIPPING_CENTS), 0, cat.region_fee[region]
    ).astype(np.int64)
    express = ~offline & (rng.random(n) < EXPRESS_RATE)
    shipping = shipping + np.where(express, EXPRESS_CENTS, 0)
    vat = cat.country_vat_bp[country]
    tax = ((net + shipping) * vat + 5_000) // 10_000
    return shipping, tax
