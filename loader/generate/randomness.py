"""What the seed makes: numpy random streams and the Faker-made name pools.

Each purpose (catalogue, customers, simulation, dirty rows) draws from its own
stream, so adding draws to one never shifts another. Faker is only used here, to
fill small pools of names, cities, brands and colours that rows index with numpy.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from faker import Faker

from loader.generate.csv_bytes import text_pool
from loader.generate.shop_model import REGIONS

_COUNTRIES = tuple(c for region in REGIONS for c in region.countries)


def random_streams(seed: int) -> dict[str, np.random.Generator]:
    """One independent generator per purpose, all spawned from the seed."""
    names = ("catalog", "customers", "simulation", "dirty")
    seqs = np.random.SeedSequence(seed).spawn(len(names))
    return {
        n: np.random.Generator(np.random.PCG64(s))
        for n, s in zip(names, seqs, strict=True)
    }


def ascii_letters(name: str) -> str:
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
def name_pools(seed: int) -> Pools:
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


@lru_cache(maxsize=4)
def name_pool_bytes(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First names, last names and cities as CSV byte pools."""
    p = name_pools(seed)
    return text_pool(p.first), text_pool(p.last), text_pool(p.city)


@lru_cache(maxsize=4)
def ascii_pools(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First names, last names and first initials in ASCII, for e-mail addresses."""
    p = name_pools(seed)
    first = text_pool([ascii_letters(x) for x in p.first])
    initial = np.zeros_like(first)
    initial[:, 0] = first[:, 0]
    return first, text_pool([ascii_letters(x) for x in p.last]), initial


def derived_stream(seed: int, tag: int) -> np.random.Generator:
    """A stream of its own for one late step, named by `tag`.

    The step then draws the same numbers whatever the main streams did before it.
    """
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, tag])))
