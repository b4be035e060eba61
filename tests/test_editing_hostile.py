"""Hostile input through the editing layer (core.editing): every text field
takes quotes, placeholders, markup, control and non-Latin characters, and
either stores them verbatim or refuses them with a message naming the field."""

from __future__ import annotations

import editing_support
from editing_support import (
    USER,
    counts,
    ids,
    lines,
    sql_one,
    valid,
)

from core import editing
from loader.load import TABLES

# The fixtures of editing_support: a small shop in this module's own database.
shop = editing_support.shop
env = editing_support.env


HOSTILE = [
    'O\'Brien "quoted" `tick`',
    "'; drop table raw.customers; --",
    "%s",
    "%(x)s",
    "{}",
    "{0} {name!r}",
    "Zoë 😀 naïve 漢字 ☃",
    "\u202eevil\u202c",
    "x" * 10_000,
    "nul\x00byte",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "back\\slash _under%score",
    "**bold** [link](http://example.com) # heading",
]
# Valid addresses that are hostile all the same.
HOSTILE_EMAILS = [
    "o'brien+%s{}@example.com",
    "<script>alert(1)</script>@example.com",
    "'--;drop@example.com",
    "zoë😀@exämple.com",
]
TEXT_KINDS = ("text", "email", "country", "choice")


def _hostile_cases():
    for ent in editing.ENTITIES.values():
        for f in ent.fields:
            if f.kind in TEXT_KINDS:
                values = HOSTILE + (HOSTILE_EMAILS if f.kind == "email" else [])
                yield ent, f, values


def _stored_or_named(ent, f, value, write, *args) -> dict | None:
    """The row when `value` was stored verbatim in field f; None when it was
    refused with a message naming f."""
    try:
        row = write(*args)
    except editing.ValidationError as exc:
        assert list(exc.errors) == [f.name], exc.errors
        assert exc.errors[f.name].startswith(f.label + ": ")
        return None
    stored = editing.get_row(ent, row[ent.key])
    assert stored[f.name] == value, (ent.name, f.name, value[:40])
    return stored


def _create_order(values: dict) -> dict:
    return editing.create_row("orders", values | {"items": lines()}, USER)


def test_hostile_input_is_stored_verbatim_or_refused(env):
    before = counts(env)
    kept: dict[str, int] = dict.fromkeys(TABLES, 0)
    stored = 0
    searched: set[tuple[str, str]] = set()
    for ent, f, values in _hostile_cases():
        for value in values:
            bad = valid(ent.name) | {f.name: value}
            if ent.name == "orders":
                made = _stored_or_named(ent, f, value, _create_order, bad)
                kept["orders"] += made is not None
                kept["order_items"] += made is not None
                row = _create_order(valid("orders"))
                kept["order_items"] += 1
            else:
                made = _stored_or_named(
                    ent, f, value, editing.create_row, ent, bad, USER
                )
                if made is not None:
                    # the delete path copes with it too
                    editing.delete_row(ent, made[ent.key], made["updated_at"], USER)
                row = editing.create_row(ent, valid(ent.name), USER)
            kept[ent.table] += 1
            stored += made is not None
            changed = _stored_or_named(
                ent,
                f,
                value,
                editing.update_row,
                ent,
                row[ent.key],
                {f.name: value},
                row["updated_at"],
                USER,
            )
            stored += changed is not None
            # searching for it is harmless too
            if (ent.name, value) not in searched:
                searched.add((ent.name, value))
                editing.list_rows(ent, value[:200])
                if ent.option_columns:
                    editing.search_options(ent, value[:200])
    assert stored > 100, "most hostile text is legitimate text and is stored"
    editing.list_audit(user="'; drop table app.audit_log; --", key="%(x)s")
    for table in TABLES:
        assert sql_one(env, "select to_regclass(%s) is not null", [f"raw.{table}"])
    after = counts(env)
    assert after == {t: before[t] + kept[t] for t in TABLES}


def test_hostile_values_in_every_text_field_at_once(env):
    values = valid("customers") | {
        "first_name": "<script>alert(1)</script>",
        "last_name": "'; drop table raw.customers; --",
        "phone": "%(x)s %s {}",
        "city": "\u202eZoë 😀",
        "email": "<img src=x onerror=alert(1)>@example.com".replace(" ", ""),
    }
    row = editing.create_row("customers", values, USER)
    stored = editing.get_row("customers", row["customer_id"])
    assert {k: stored[k] for k in values} == values
    frame, _ = editing.list_rows(
        "customers", "drop table", sort="customer_id", descending=True
    )
    assert row["customer_id"] in ids(frame, "customer_id")
    label = dict(editing.search_options("customers", str(row["customer_id"])))[
        row["customer_id"]
    ]
    assert label.startswith("<script>alert(1)</script> '; drop table")
