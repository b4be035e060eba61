"""One run of the simulation: its context and the state it moves forward.

`generate` starts a run from the seed; `append_days` resumes one from the saved
state. Both simulate purchases through `ShopRun.purchases` and save the same state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from loader.generate.catalog import Catalog, build_catalog
from loader.generate.customers import SIM_KEYS
from loader.generate.dirty import Dirt
from loader.generate.facts import OPEN_KEYS, Facts
from loader.generate.orders import build_facts
from loader.generate.purchases import simulate

# progress callback: (step label, steps done, total steps)
Progress = Callable[[str, int, int], None]


def _no_array() -> np.ndarray:
    return np.empty(0, np.int64)


@dataclass
class ShopRun:
    """The context of a run and what it carries from one day to the next.

    The catalogue holds the seed, scale and date range; `rng` is the simulation's
    random stream and `dirt` (with a stream of its own) places the injected rows.
    `cust` holds the customers' simulation columns (`SIM_KEYS`); the stock arrays
    have one entry per product; `open_orders` the orders with events to come.
    """

    cat: Catalog
    rng: np.random.Generator
    dirt: Dirt
    cust: dict[str, np.ndarray] = field(default_factory=dict)
    next_order: int = 1
    next_item: int = 1
    stock: np.ndarray = field(default_factory=_no_array)
    reorder: np.ndarray = field(default_factory=_no_array)
    product_updated_s: np.ndarray = field(default_factory=_no_array)
    open_orders: dict[str, np.ndarray] = field(default_factory=dict)

    def purchases(self, t0: int, t1: int) -> Facts | None:
        """The orders and items of days [t0, t1), or None when nobody buys."""
        c, s = simulate(self.cat, self.cust, t0, t1, self.rng)
        if not c.size:
            return None
        facts = build_facts(
            self.cat, self.cust, c, s, t0, t1, self.next_order, self.next_item, self.rng
        )
        self.next_order += facts.n_orders
        self.next_item += facts.item_id.size
        return facts

    def counters(self) -> dict[str, Any]:
        """The saved state's counters: next ids and both random generators."""
        return {
            "next_order_id": self.next_order,
            "next_item_id": self.next_item,
            "next_dirty_id": self.dirt.next_id,
            "dirty_seen": sorted(self.dirt.seen),
            "rng": self.rng.bit_generator.state,
            "dirty_rng": self.dirt.rng.bit_generator.state,
        }

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The saved state's arrays, by name."""
        arrays = {f"cust_{k}": self.cust[k] for k in SIM_KEYS}
        arrays |= {
            "stock": self.stock,
            "reorder": self.reorder,
            "product_updated_s": self.product_updated_s,
        }
        arrays |= {f"open_{k}": v for k, v in self.open_orders.items()}
        return arrays

    @classmethod
    def resume(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> ShopRun:
        """The run saved by `counters` and `state_arrays` (and the run arguments)."""
        seed = int(meta["seed"])
        start, end = date.fromisoformat(meta["start"]), date.fromisoformat(meta["end"])
        cat = build_catalog(seed, float(meta["scale"]), start, end)
        rng = np.random.Generator(np.random.PCG64())
        rng.bit_generator.state = meta["rng"]
        drng = np.random.Generator(np.random.PCG64())
        drng.bit_generator.state = meta["dirty_rng"]
        dirt = Dirt(
            float(meta["dirty_rate"]),
            drng,
            int(meta["next_dirty_id"]),
            set(meta["dirty_seen"]),
        )
        return cls(
            cat=cat,
            rng=rng,
            dirt=dirt,
            cust={k: arrays[f"cust_{k}"] for k in SIM_KEYS},
            next_order=int(meta["next_order_id"]),
            next_item=int(meta["next_item_id"]),
            stock=arrays["stock"],
            reorder=arrays["reorder"],
            product_updated_s=arrays["product_updated_s"],
            open_orders={k: arrays[f"open_{k}"] for k in OPEN_KEYS},
        )
