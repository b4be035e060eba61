"""Dirty rows: which kinds each file can carry, and how each kind is built.

Injected rows are extra rows, never replacements: each copies a clean row written
just before it and breaks it in exactly one way. Removing them gives back the clean
files byte for byte.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from loader.generate.contract import TABLE_COLUMNS
from loader.generate.csv_bytes import csv_field
from loader.generate.randomness import ascii_letters

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
MAX_DIRTY_RATE = 0.5

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


class Dirt:
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
        """The bad line built from a clean row's fields, and its key."""
        cols = TABLE_COLUMNS[table]
        col = {name: i for i, name in enumerate(cols)}
        f = list(fields)
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
        raw = self._break(table, kind, f, col, tag)
        line = b",".join(csv_field(raw.get(i, v)) for i, v in enumerate(f)) + b"\n"
        return line, key

    def _break(
        self, table: str, kind: str, f: list[str], col: dict[str, int], tag: int
    ) -> dict[int, bytes]:
        """Break the fields `f` in place the `kind` way; raw bytes by field index."""
        rng = self.rng
        raw: dict[int, bytes] = {}
        if kind == "duplicate_key":
            _other_values(table, f, col)
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
            local = f"{ascii_letters(f[col['first_name']])}.{tag}"
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
        return raw


def _other_values(table: str, f: list[str], col: dict[str, int]) -> None:
    """A duplicate key's row: change one value so it differs from the original."""
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


def _text_cents(text: str) -> int:
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def _cents_text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"
