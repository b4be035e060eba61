"""Database errors as messages that name the field: each raw constraint has a
fixed message, and a value error without a constraint is traced to its field.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import psycopg
from psycopg import errors

from core.editing.errors import CrudError, Refused, ValidationError
from core.editing.fields import ID_MAX_CHARS, INT_MAX, MONEY_LIMIT, Entity, Field
from core.enums import (
    CHANNEL_TYPES,
    ORDER_STATUSES,
    PAYMENT_METHODS,
    PAYMENT_STATUSES,
    SEGMENTS,
)
from core.errors import one_line_or_name

# Constraint name -> (field, message after the label). Messages are fixed text.
CONSTRAINTS: dict[str, tuple[str, str]] = {
    "regions_region_name_key": ("region_name", "already used by another region"),
    "channels_channel_name_key": ("channel_name", "already used by another channel"),
    "channel_type_known": (
        "channel_type",
        "must be one of " + ", ".join(CHANNEL_TYPES),
    ),
    "customers_email_key": ("email", "already used by another customer"),
    "email_format": ("email", "not a valid email address"),
    "country_code_format": ("country_code", "use two capital letters, like DE"),
    "segment_known": ("segment", "must be one of " + ", ".join(SEGMENTS)),
    "customers_region_id_fkey": (
        "region_id",
        "no such region (it may have been deleted meanwhile)",
    ),
    "customers_acquisition_channel_id_fkey": (
        "acquisition_channel_id",
        "no such channel (it may have been deleted meanwhile)",
    ),
    "products_sku_key": ("sku", "already used by another product"),
    "unit_cost_not_negative": ("unit_cost", "must not be negative"),
    "list_price_not_negative": ("list_price", "must not be negative"),
    "stock_not_negative": ("stock_quantity", "must not be negative"),
    "reorder_point_not_negative": ("reorder_point", "must not be negative"),
    "promotions_promo_code_key": ("promo_code", "already used by another promotion"),
    "discount_pct_range": ("discount_pct", "must be more than 0 and at most 100"),
    "promotion_dates_in_order": ("ends_at", "must not be before Starts at"),
    "orders_customer_id_fkey": (
        "customer_id",
        "no such customer (it may have been deleted meanwhile)",
    ),
    "orders_channel_id_fkey": (
        "channel_id",
        "no such channel (it may have been deleted meanwhile)",
    ),
    "orders_ship_region_id_fkey": (
        "ship_region_id",
        "no such region (it may have been deleted meanwhile)",
    ),
    "orders_promotion_id_fkey": (
        "promotion_id",
        "no such promotion (it may have been deleted meanwhile)",
    ),
    "order_status_known": ("status", "must be one of " + ", ".join(ORDER_STATUSES)),
    "payment_status_known": (
        "payment_status",
        "must be one of " + ", ".join(PAYMENT_STATUSES),
    ),
    "payment_method_known": (
        "payment_method",
        "must be one of " + ", ".join(PAYMENT_METHODS),
    ),
    "shipping_not_negative": ("shipping_amount", "must not be negative"),
    "tax_not_negative": ("tax_amount", "must not be negative"),
    "order_items_order_id_fkey": ("order_id", "the order no longer exists"),
    "order_items_product_id_fkey": (
        "product_id",
        "no such product (it may have been deleted meanwhile)",
    ),
    "quantity_positive": ("quantity", "must be at least 1"),
    "unit_price_not_negative": ("unit_price", "must not be negative"),
    "line_amount_not_negative": ("line_amount", "must not be negative"),
    "discount_within_line_amount": (
        "discount_amount",
        "must be between 0 and the line amount (quantity × unit price)",
    ),
    "price_given": ("unit_price", "give the unit price or the line amount"),
    "discount_pct_at_most_2_decimals": ("discount_pct", "use at most 2 decimals"),
    "birth_date_in_range": ("birth_date", "must be between 1900 and 2099"),
    # unique indexes that compare values the way staging does (case, spaces)
    "customers_email_lower_key": (
        "email",
        "already used by another customer (in other letter case)",
    ),
    "products_sku_trim_key": ("sku", "already used by another product"),
    "promotions_promo_code_trim_key": (
        "promo_code",
        "already used by another promotion",
    ),
    "regions_region_name_trim_key": ("region_name", "already used by another region"),
}
# Named per column: `<column>_is_a_number` (no NaN) and `<column>_in_range`
# (moments between 1970 and 2100), on the raw tables' numbers and timestamps.
# Money: `<column>_at_most_4_decimals` and `<column>_below_1e14` (never rounded).
MONEY_COLUMNS = (
    "unit_cost",
    "list_price",
    "shipping_amount",
    "tax_amount",
    "unit_price",
    "line_amount",
    "discount_amount",
)
CONSTRAINTS |= {
    f"{column}_is_a_number": (column, "must be a number")
    for column in (*MONEY_COLUMNS, "discount_pct")
}
CONSTRAINTS |= {
    f"{column}_at_most_4_decimals": (column, "use at most 4 decimals")
    for column in MONEY_COLUMNS
}
CONSTRAINTS |= {
    f"{column}_below_1e14": (column, "must be below 100,000,000,000,000")
    for column in (*MONEY_COLUMNS, "discount_pct")
}
# Primary keys: `<key>_printable` (1 to 64 characters, no control characters,
# no surrounding spaces).
CONSTRAINTS |= {
    f"{key}_printable": (
        key,
        f"use 1 to {ID_MAX_CHARS} characters, no control characters and no "
        "spaces at either end",
    )
    for key in (
        "region_id",
        "channel_id",
        "customer_id",
        "product_id",
        "promotion_id",
        "order_id",
        "order_item_id",
    )
}
CONSTRAINTS |= {
    f"{column}_in_range": (column, "must be between 1970 and 2099")
    for column in (
        "updated_at",
        "signup_at",
        "created_at",
        "starts_at",
        "ends_at",
        "ordered_at",
        "deleted_at",
    )
}


def _label(ent: Entity | None, name: str, fields: Sequence[Field] = ()) -> str:
    """A field's label (from `fields`, then the entity's), else its name in words."""
    for f in (*fields, *(ent.fields if ent else ())):
        if f.name == name:
            return f.label
    return name.replace("_", " ").capitalize()


def _guess_field(
    exc: psycopg.Error, fields: Sequence[Field], values: Mapping[str, Any]
) -> tuple[str, str] | None:
    """The field a value error without a column name is about: the first value
    that breaks its field's size, range or text rules."""
    message = str(exc)
    for f in fields:
        value = values.get(f.name)
        if value is None:
            continue
        if isinstance(value, str):
            if "\x00" in value:
                return f.name, "must not contain a NUL character"
            max_length = ID_MAX_CHARS if f.kind == "ref" else f.max_length
            if max_length and len(value) > max_length:
                return f.name, f"use at most {max_length} characters"
            if "encod" in message.lower() or "byte sequence" in message.lower():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    return f.name, "contains characters that cannot be stored"
        elif isinstance(value, numbers.Number) and not isinstance(value, bool):
            limit = MONEY_LIMIT if f.kind in ("money", "percent") else INT_MAX
            try:
                if abs(Decimal(str(value))) >= limit:
                    return f.name, "is too large"
            except InvalidOperation:
                return f.name, "must be a number"
    return None


def translate_error(
    exc: psycopg.Error,
    ent: Entity | None,
    values: Mapping[str, Any] | None = None,
    *,
    fields: Sequence[Field] | None = None,
    prefix: str = "",
    label_prefix: str = "",
) -> CrudError:
    """A database error as a message naming the field (`ValidationError`), else
    a CrudError with the database's own words as `detail`.

    `prefix` / `label_prefix` name an order line ("items.2." / "Line 2, ").
    """
    values = values or {}
    fields = tuple(fields if fields is not None else (ent.fields if ent else ()))
    diag = exc.diag
    constraint = diag.constraint_name
    column = diag.column_name
    found: tuple[str, str] | None = None

    if isinstance(exc, errors.UniqueViolation) and constraint in CONSTRAINTS:
        found = CONSTRAINTS[constraint]
    elif isinstance(exc, errors.UniqueViolation) and (constraint or "").endswith(
        "_pkey"
    ):
        return CrudError(
            "A new id collided with an existing row; please save again.",
            detail=one_line_or_name(exc),
        )
    elif isinstance(exc, errors.ForeignKeyViolation) and (
        "still referenced" in (diag.message_detail or "")
    ):
        return Refused(
            f"This {ent.singular if ent else 'row'} is still used by other rows, "
            "so it cannot be deleted."
        )
    elif (
        isinstance(exc, errors.CheckViolation | errors.ForeignKeyViolation)
        and constraint in CONSTRAINTS
    ):
        found = CONSTRAINTS[constraint]
    elif isinstance(exc, errors.NotNullViolation) and column:
        found = (column, "required")
    elif isinstance(exc, psycopg.DataError) or exc.sqlstate in (
        "22001",
        "22003",
        "22021",
        "22P02",
        "22P05",
        "54000",
    ):
        found = _guess_field(exc, fields, values)

    if found is None:
        noun = ent.singular if ent else "row"
        return CrudError(f"Could not save the {noun}.", detail=one_line_or_name(exc))
    name, message = found
    return ValidationError(
        {prefix + name: f"{label_prefix}{_label(ent, name, fields)}: {message}"}
    )
