"""The enumerations of the data contract, read from their one definition: the dbt
seeds in `seeds/` (order and payment statuses, payment methods, channel types,
customer segments).

The raw tables' CHECK constraints are written from these lists (core.schema), the
generator draws from them, the app offers them as choices, and dbt tests every
model's column against the same seed with a `relationships` test. Adding a value
means adding a row to its seed.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"

# seed file -> its key column (the value stored in raw)
ENUM_SEEDS = {
    "order_statuses": "status",
    "payment_statuses": "payment_status",
    "payment_methods": "payment_method",
    "channel_types": "channel_type",
    "customer_segments": "segment",
}


@cache
def _values(seed: str) -> tuple[str, ...]:
    with (SEEDS_DIR / f"{seed}.csv").open(encoding="utf-8", newline="") as file:
        return tuple(row[ENUM_SEEDS[seed]] for row in csv.DictReader(file))


def values(seed: str) -> tuple[str, ...]:
    """The values of one enumeration, in the seed's order."""
    return _values(seed)


# The member a source that does not give a value gets (payment method, channel
# type, customer segment): the generator never draws it.
UNKNOWN = "unknown"

ORDER_STATUSES = values("order_statuses")
PAYMENT_STATUSES = values("payment_statuses")
PAYMENT_METHODS = values("payment_methods")
CHANNEL_TYPES = values("channel_types")
SEGMENTS = values("customer_segments")
