"""The global filters (date range, channel, region, category).

`Filters` is a plain value passed to the data-access functions. The sidebar
component that edits it lives in `sidebar.py`; this module only holds the value
type and its URL (query string) round trip, so it has no Streamlit dependency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

# Query-string keys: short, readable in a shared link.
KEY_START = "from"
KEY_END = "to"
KEY_CHANNEL = "channel"
KEY_REGION = "region"
KEY_CATEGORY = "category"
FILTER_KEYS = (KEY_START, KEY_END, KEY_CHANNEL, KEY_REGION, KEY_CATEGORY)

# Without a date range in the URL, show the last year of data.
DEFAULT_DAYS = 365


@dataclass(frozen=True)
class Filters:
    """A date range (inclusive) plus optional channel / region / category lists.

    Empty tuples mean "all". Channels and regions are kept by name (what the user
    sees and what goes in the URL); the data layer maps names to ids.
    """

    start: date
    end: date
    channels: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        """The period of the same length just before this one, same dimensions."""
        return replace(
            self,
            start=self.start - timedelta(days=self.days),
            end=self.start - timedelta(days=1),
        )

    def with_dates(self, start: date, end: date) -> Filters:
        return replace(self, start=start, end=end)

    @property
    def is_narrowed(self) -> bool:
        """True when a channel, region or category filter is set."""
        return bool(self.channels or self.regions or self.categories)

    def describe(self) -> str:
        """One line for captions, e.g. '2024-01-01 – 2024-12-31 · channel: Web'."""
        parts = [f"{self.start:%Y-%m-%d} – {self.end:%Y-%m-%d}"]
        for label, values in (
            ("channel", self.channels),
            ("region", self.regions),
            ("category", self.categories),
        ):
            if values:
                parts.append(f"{label}: {', '.join(values)}")
        return " · ".join(parts)

    def to_query_params(self) -> dict[str, str | list[str]]:
        params: dict[str, str | list[str]] = {
            KEY_START: self.start.isoformat(),
            KEY_END: self.end.isoformat(),
        }
        for key, values in (
            (KEY_CHANNEL, self.channels),
            (KEY_REGION, self.regions),
            (KEY_CATEGORY, self.categories),
        ):
            if values:
                params[key] = list(values)
        return params


def _parse_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def default_range(min_date: date, max_date: date) -> tuple[date, date]:
    """The last DEFAULT_DAYS days of data (or all of it when there is less)."""
    start = max(min_date, max_date - timedelta(days=DEFAULT_DAYS - 1))
    return start, max_date


def from_query_params(
    params: Mapping[str, str | Sequence[str]],
    *,
    min_date: date,
    max_date: date,
    channels: Sequence[str],
    regions: Sequence[str],
    categories: Sequence[str],
) -> Filters:
    """Read filters from a query string, dropping values that do not exist.

    Unknown names and malformed dates are ignored rather than rejected: a shared
    link from an older data set should still open.
    """
    default_start, default_end = default_range(min_date, max_date)
    start = _parse_date(_first(params.get(KEY_START))) or default_start
    end = _parse_date(_first(params.get(KEY_END))) or default_end
    start = min(max(start, min_date), max_date)
    end = min(max(end, min_date), max_date)
    if end < start:
        start, end = end, start

    def known(key: str, allowed: Sequence[str]) -> tuple[str, ...]:
        allowed_set = set(allowed)
        picked = [v for v in _as_list(params.get(key)) if v in allowed_set]
        return tuple(dict.fromkeys(picked))

    return Filters(
        start=start,
        end=end,
        channels=known(KEY_CHANNEL, channels),
        regions=known(KEY_REGION, regions),
        categories=known(KEY_CATEGORY, categories),
    )


def _first(value: str | Sequence[str] | None) -> str | None:
    values = _as_list(value)
    return values[-1] if values else None
