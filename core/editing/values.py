"""Values as the editing layer compares them: moments in UTC, numbers as
decimals, and whether a value from a form equals the stored one.
"""

from __future__ import annotations

import numbers
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd


def to_decimal(value: Any) -> Decimal | None:
    """A number (or numeric text, commas allowed) as a finite Decimal, else None."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, numbers.Integral):
            number = Decimal(int(value))
        elif isinstance(value, numbers.Real):
            number = Decimal(repr(float(value)))
        elif isinstance(value, str):
            number = Decimal(value.strip().replace(",", ""))
        else:
            return None
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    return number


def as_utc(value: Any) -> datetime | None:
    """A datetime (naive ones are UTC), a date (midnight UTC) or an ISO string
    as an aware UTC datetime; None when it is none of these."""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    return None


def same_value(a: Any, b: Any) -> bool:
    """Whether a value (as a form or caller gives it) equals the stored one `b`:
    moments compared in UTC, numbers as decimals, anything else by type and value."""
    if isinstance(a, datetime | pd.Timestamp) or isinstance(b, datetime):
        return as_utc(a) is not None and as_utc(a) == as_utc(b)
    if isinstance(b, Decimal) and not isinstance(a, bool):
        return to_decimal(a) == b
    return type(a) is type(b) and a == b
