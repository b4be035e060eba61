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

Modules, from the ground up: `shop_model` (the shop's numbers), `calendar_curves`
(day numbers and demand curves), `csv_bytes` (vectorised CSV formatting),
`randomness` (random streams and Faker name pools), `products`, `promotions` and
`catalog` (the static side of a run), `customers`, `purchases` (when customers
buy), `facts`, `lifecycle` and `orders` (what they buy and what happens to the
order), `stock`, `contract`, `dirty`, `csv_writer` and `saved_state` (the files),
`shop_run` (a run's context), and the entry points `initial_run` (`generate`) and
`daily_append` (`append_days`).
"""

from core.enums import (
    CHANNEL_TYPES,
    ORDER_STATUSES,
    PAYMENT_METHODS,
    PAYMENT_STATUSES,
    SEGMENTS,
)
from loader.generate.contract import LOAD_ORDER, TABLE_COLUMNS
from loader.generate.daily_append import append_days
from loader.generate.dirty import (
    DIRTY_ID_BASE,
    DIRTY_KINDS,
    MAX_DIRTY_RATE,
    UNKNOWN_ID_BASE,
)
from loader.generate.initial_run import generate
from loader.generate.saved_state import MANIFEST_NAME, STATE_ARRAYS_NAME, STATE_NAME
from loader.generate.shop_run import Progress

__all__ = [
    "CHANNEL_TYPES",
    "DIRTY_ID_BASE",
    "DIRTY_KINDS",
    "LOAD_ORDER",
    "MANIFEST_NAME",
    "MAX_DIRTY_RATE",
    "ORDER_STATUSES",
    "PAYMENT_METHODS",
    "PAYMENT_STATUSES",
    "SEGMENTS",
    "STATE_ARRAYS_NAME",
    "STATE_NAME",
    "TABLE_COLUMNS",
    "UNKNOWN_ID_BASE",
    "Progress",
    "append_days",
    "generate",
]
