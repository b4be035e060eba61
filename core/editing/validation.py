"""Input checked and cleaned before anything is written: one message per field,
starting with its label (`ValidationError`).
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from core.editing.entities import entity
from core.editing.errors import ValidationError
from core.editing.fields import (
    ID_MAX_CHARS,
    INT_MAX,
    MONEY_DECIMALS,
    MONEY_LIMIT,
    PERCENT_DECIMALS,
    Entity,
    Field,
)
from core.editing.values import as_utc, same_value, to_decimal

# Same pattern as the email_format constraint of raw.customers.
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
COUNTRY_PATTERN = re.compile(r"[A-Z]{2}")
EARLIEST_DATE = date(1900, 1, 1)
EARLIEST_TIMESTAMP = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIMESTAMP = datetime(2100, 1, 1, tzinfo=UTC)
# Control characters (C0, DEL, C1): never part of an id (the `<id>_printable`
# CHECKs of the raw tables).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _clean_text(f: Field, value: Any) -> tuple[Any, str | None]:
    if value is None:
        return None, ("required" if f.required else None)
    if not isinstance(value, str):
        if isinstance(value, numbers.Number) and not isinstance(value, bool):
            value = str(value)
        else:
            return None, "must be text"
    if "\x00" in value:
        return None, "must not contain a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None, "contains characters that cannot be stored"
    if f.kind == "country":
        value = value.strip().upper()
    if not value.strip():
        return None, ("required" if f.required else None)
    if f.max_length and len(value) > f.max_length:
        return None, f"use at most {f.max_length} characters (this has {len(value):,})"
    if f.kind == "email" and not EMAIL_PATTERN.fullmatch(value):
        return None, "not a valid email address"
    if f.kind == "country" and not COUNTRY_PATTERN.fullmatch(value):
        return None, "use two capital letters, like DE"
    if f.kind == "choice" and value not in f.choices:
        return None, "must be one of " + ", ".join(f.choices)
    return value, None


def clean_id(value: Any) -> tuple[str | None, str | None]:
    """A row id as stored: text of 1 to 64 printable characters (a whole number
    is taken as its digits); surrounding spaces are dropped, as no id has them."""
    if value is None:
        return None, None
    if isinstance(value, bool) or not isinstance(value, str | numbers.Integral):
        return None, "not an id (ids are text)"
    text = str(value).strip()
    if not text:
        return None, None
    if CONTROL_CHARACTERS.search(text):
        return None, "an id has no control characters"
    if len(text) > ID_MAX_CHARS:
        return None, f"an id has at most {ID_MAX_CHARS} characters"
    return text, None


def _clean_ref(f: Field, value: Any) -> tuple[Any, str | None]:
    """The text id of a row of `f.ref`."""
    key, problem = clean_id(value)
    if problem:
        return None, problem
    if key is None:
        return None, ("required" if f.required else None)
    return key, None


def clean_int(f: Field, value: Any) -> tuple[Any, str | None]:
    """A whole number within the field's range."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, ("required" if f.required else None)
    if isinstance(value, bool):
        return None, "must be a whole number"
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[+-]?\d{1,19}", text):
            return None, "must be a whole number"
        value = int(text)
    elif isinstance(value, numbers.Integral):
        value = int(value)
    elif isinstance(value, numbers.Real | Decimal):
        if not (isinstance(value, Decimal) or float(value) == float(value)):
            return None, "must be a whole number"
        try:
            if value != int(value):
                return None, "must be a whole number"
            value = int(value)
        except (ValueError, OverflowError, InvalidOperation):
            return None, "must be a whole number"
    else:
        return None, "must be a whole number"
    if f.minimum is not None and value < f.minimum:
        return None, f"must be at least {f.minimum:,}"
    maximum = f.maximum if f.maximum is not None else INT_MAX
    if value > maximum:
        return None, f"must be at most {maximum:,}"
    return value, None


def decimal_places(number: Decimal) -> int:
    """How many decimals a number needs (trailing zeros do not count: 1.50 has
    one), the way the CHECK `col = round(col, 4)` sees it."""
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _clean_decimal(f: Field, value: Any) -> tuple[Any, str | None]:
    if value is None or (isinstance(value, str) and not value.strip()):
        if f.default is not None:
            return f.default, None
        return None, ("required" if f.required else None)
    number = to_decimal(value)
    if number is None:
        return None, "must be a number"
    if abs(number) >= MONEY_LIMIT:
        return None, "must be below 100,000,000,000,000"
    # never rounded: a value with more decimals than the column keeps is refused
    places = MONEY_DECIMALS if f.kind == "money" else PERCENT_DECIMALS
    given = decimal_places(number)
    if given > places:
        return None, f"use at most {places} decimals (this has {given})"
    if f.minimum is not None:
        if f.exclusive_minimum and number <= f.minimum:
            return None, f"must be more than {f.minimum}"
        if number < f.minimum:
            return None, "must not be negative" if f.minimum == 0 else (
                f"must be at least {f.minimum}"
            )
    if f.maximum is not None and number > f.maximum:
        return None, f"must be at most {f.maximum}"
    return number, None


def _clean_date(f: Field, value: Any) -> tuple[Any, str | None]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, ("required" if f.required else None)
    if isinstance(value, datetime):
        value = value.date()
    elif isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            return None, "not a date (use YYYY-MM-DD)"
    elif not isinstance(value, date):
        return None, "not a date (use YYYY-MM-DD)"
    if value < EARLIEST_DATE:
        return None, f"must not be before {EARLIEST_DATE:%Y-%m-%d}"
    if f.not_future and value > datetime.now(UTC).date():
        return None, "must not be in the future"
    return value, None


def _clean_datetime(f: Field, value: Any) -> tuple[Any, str | None]:
    if value is None or (isinstance(value, str) and not value.strip()):
        if f.default == "now":
            return datetime.now(UTC), None
        return None, ("required" if f.required else None)
    moment = as_utc(value)
    if moment is None:
        return None, "not a date and time"
    if not EARLIEST_TIMESTAMP <= moment < LATEST_TIMESTAMP:
        return None, "must be between 1970 and 2099"
    return moment, None


def _clean_bool(f: Field, value: Any) -> tuple[Any, str | None]:
    if value is None:
        return (f.default, None) if f.default is not None else (None, "required")
    if isinstance(value, bool):
        return value, None
    return None, "must be yes or no"


_CLEANERS = {
    "text": _clean_text,
    "email": _clean_text,
    "country": _clean_text,
    "choice": _clean_text,
    "int": clean_int,
    "ref": _clean_ref,
    "money": _clean_decimal,
    "percent": _clean_decimal,
    "date": _clean_date,
    "datetime": _clean_datetime,
    "bool": _clean_bool,
}


def clean_value(f: Field, value: Any) -> tuple[Any, str | None]:
    """One field's value as it will be stored, or an error message."""
    if value is None and f.default is not None and f.kind in ("choice", "bool"):
        value = f.default
    return _CLEANERS[f.kind](f, value)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_fields(
    fields: Sequence[Field],
    values: Mapping[str, Any],
    current: Mapping[str, Any] | None,
    *,
    prefix: str = "",
    label_prefix: str = "",
) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean `values`; with `current` (an edit) a field left as it is is not
    checked again (rows loaded in bulk may predate a rule), and fields not given
    keep their current value."""
    cleaned: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for f in fields:
        if current is not None and (
            f.name not in values or same_value(values[f.name], current.get(f.name))
        ):
            cleaned[f.name] = current.get(f.name)
            continue
        if current is not None and _is_empty(values[f.name]):
            # defaults are for new rows: on an edit, emptying a required field
            # is an error and emptying an optional one stores "unknown" (null)
            if f.required:
                problems[prefix + f.name] = f"{label_prefix}{f.label}: required"
            else:
                cleaned[f.name] = None
            continue
        value, problem = clean_value(f, values.get(f.name))
        if problem:
            problems[prefix + f.name] = f"{label_prefix}{f.label}: {problem}"
        else:
            cleaned[f.name] = value
    return cleaned, problems


def check_keys(
    ent: Entity, values: Mapping[str, Any], extra: Sequence[str] = ()
) -> None:
    """A name that is no column of the entity is the caller's mistake: ValueError."""
    known = set(ent.field_names) | {
        ent.key,
        "updated_at",
        "created_at",
        "deleted_at",
        "synced_at",  # the warehouse's write stamp: read back, never written
        *extra,
    }
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown fields for {ent.name}: {', '.join(unknown)}")


def validate(
    ent: str | Entity,
    values: Mapping[str, Any],
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The values to write (every editable field), or ValidationError."""
    ent = entity(ent)
    check_keys(ent, values)
    cleaned, problems = validate_fields(ent.fields, values, current)
    if ent.name == "promotions" and not {"starts_at", "ends_at"} & problems.keys():
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        changed = current is None or any(
            k in values and not same_value(values[k], current.get(k))
            for k in ("starts_at", "ends_at")
        )
        if changed and starts and ends and ends < starts:
            problems["ends_at"] = "Ends at: must not be before Starts at"
    if problems:
        raise ValidationError(problems)
    return cleaned
