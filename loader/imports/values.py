"""One source value into the contract's form: exact decimals, whole numbers,
timestamps with their offset, ids as text and enumerations through the mapping's
table. A value that cannot be converted raises BadValue with the reason."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from loader.imports.mapping import (
    INTEGER_FIELDS,
    MONEY_FIELDS,
    TIMESTAMP_FIELDS,
    Field,
    Mapping,
)

DECIMAL_ZERO = re.compile(r"^(-?\d+)\.0+$")


class BadValue(ValueError):
    """A source value the mapping cannot turn into its field's value: what is
    wrong with it (the same words for every value with that problem), the value,
    and the column it came from."""

    def __init__(self, problem: str, value: str, column: str = "") -> None:
        super().__init__(f"{column}: {problem}: '{value}'" if column else problem)
        self.problem, self.value, self.column = problem, value, column


def raw_value(field: Field, row: dict[str, str]) -> tuple[str, str]:
    """(source column, trimmed text) of a field on one line; ('', '') when empty.
    A constant's column is ''."""
    if field.constant is not None:
        return "", field.constant
    for column in field.columns:
        text = (row.get(column) or "").strip()
        if text:
            return column, text
    return field.columns[0], ""


def convert(
    name: str, field: Field, row: dict[str, str], mapping: Mapping, zone: ZoneInfo
) -> str:
    """The contract's text for field `name` of one line ('' = empty: the
    contract's default applies)."""
    column, text = raw_value(field, row)
    if not text or field.constant is not None:
        if field.values is not None and "" in field.values and not text:
            return field.values[""]
        return text
    if field.values is not None:
        if text not in field.values:
            raise BadValue("is not among the mapping's values", text, column)
        return field.values[text]
    try:
        if name in MONEY_FIELDS:
            return format(parse_decimal(text, mapping), "f")
        if name in INTEGER_FIELDS:
            return str(parse_integer(text, mapping))
        if name in TIMESTAMP_FIELDS:
            return parse_timestamp(text, mapping, zone)
    except BadValue as exc:
        raise BadValue(exc.problem, text, column) from None
    if field.drop_decimal_zero and (match := DECIMAL_ZERO.match(text)):
        return match.group(1)
    return text


def parse_decimal(text: str, mapping: Mapping) -> Decimal:
    """An exact decimal (never a float), in the mapping's notation."""
    cleaned = text.replace(" ", "")
    if mapping.thousands_separator:
        cleaned = cleaned.replace(mapping.thousands_separator, "")
    if mapping.decimal_separator == ",":
        if "." in cleaned:
            raise BadValue("has a '.' but the decimal separator is ','", text)
        cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise BadValue("is not a number", text) from None
    if not value.is_finite():
        raise BadValue("is not a number", text)
    return value


def parse_integer(text: str, mapping: Mapping) -> int:
    """A whole number; '3.0' is 3, '3.5' is refused."""
    value = parse_decimal(text, mapping)
    if value != value.to_integral_value():
        raise BadValue("is not a whole number", text)
    return int(value)


def parse_timestamp(text: str, mapping: Mapping, zone: ZoneInfo) -> str:
    """ISO-8601 with an offset: the source's own, else the zone's at that time."""
    for form in mapping.timestamp_formats:
        try:
            moment = datetime.strptime(text, form)
        except ValueError:
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment.isoformat()
    formats = ", ".join(mapping.timestamp_formats)
    raise BadValue(f"matches none of the timestamp formats ({formats})", text)
