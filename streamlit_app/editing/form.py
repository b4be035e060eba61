"""The form of an editing page: one widget per field (search-as-you-type
selectors for foreign keys), filling it from a row and reading it back, and
values shown as text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from core import editing
from streamlit_app.editing.state import field_key

DATETIME_MIN = datetime(1970, 1, 1)
DATETIME_MAX = datetime(2099, 12, 31, 23, 59)
DATE_MIN = date(1900, 1, 1)
NONE_LABEL = "— none —"


# ----------------------------------------------------------------------- formats


def display(f: editing.Field | None, value: Any) -> str:
    """A value as text for tables (conflict panel, summaries)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if f is not None and f.kind == "ref":
        return editing.label_for(f.ref, value) or f"#{value}"
    if isinstance(value, datetime):
        return f"{editing.as_utc(value):%Y-%m-%d %H:%M:%S} UTC"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal | float) and f is not None:
        return f"{Decimal(str(value)):,.2f}"
    return str(value)


def _to_widget(f: editing.Field, value: Any) -> Any:
    """A stored value as its widget holds it."""
    if f.kind in ("text", "email", "country"):
        return "" if value is None else str(value)
    if f.kind in ("money", "percent"):
        return money_text(value)
    if f.kind == "datetime":
        moment = editing.as_utc(value)
        return None if moment is None else moment.replace(tzinfo=None)
    return value


def money_text(value: Any) -> str:
    """A stored amount as its text box shows it: every decimal it has, no
    exponent ('' when unknown). Amounts are typed as text so that nothing is
    rounded on the way in: more decimals than allowed get a message instead."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    number = Decimal(str(value))
    return f"{number:f}"


def money_input(
    container: Any, label: str, key: str, *, decimals: int = 4, **kwargs: Any
) -> None:
    """A text box for an amount (see money_text)."""
    container.text_input(
        label,
        key=key,
        max_chars=40,
        placeholder=f"0.{'0' * decimals}",
        **kwargs,
    )


def _default(f: editing.Field) -> Any:
    """A new row's value of a field."""
    if f.default == "now":
        return datetime.now(UTC).replace(second=0, microsecond=0)
    if f.default is not None:
        return money_text(f.default) if f.kind == "money" else f.default
    if f.kind == "choice" and f.choices:
        return f.choices[0]
    return None


def prefill(prefix: str, fields: Sequence[editing.Field], row: Mapping | None) -> None:
    """Put a row's values (or the defaults) into the form's widgets."""
    for f in fields:
        value = row.get(f.name) if row is not None else _default(f)
        st.session_state[field_key(prefix, f.name)] = _to_widget(f, value)
        if f.kind == "ref":
            st.session_state[field_key(prefix, f.name) + ".q"] = ""


def _same_minute(a: datetime | None, b: datetime | None) -> bool:
    """Whether two moments show the same in a widget that shows minutes."""
    if a is None or b is None:
        return False
    return a.replace(second=0, microsecond=0) == b.replace(second=0, microsecond=0)


def read_form(
    prefix: str, fields: Sequence[editing.Field], original: Mapping | None
) -> dict[str, Any]:
    """The form's values, ready for the editing layer (a time the widget shows
    to the minute keeps its original seconds when left as it was)."""
    values: dict[str, Any] = {}
    for f in fields:
        value = st.session_state.get(field_key(prefix, f.name))
        if f.kind == "datetime" and isinstance(value, datetime):
            before = editing.as_utc(original.get(f.name)) if original else None
            moment = editing.as_utc(value)
            value = before if _same_minute(moment, before) else moment
        values[f.name] = value
    return values


# --------------------------------------------------------------------- selectors


def ref_select(
    prefix: str,
    name: str,
    ref: str,
    label: str,
    *,
    required: bool = True,
    active_only: bool = True,
    help: str | None = None,
    placeholder: str = "Type to search…",
) -> str | None:
    """Search-as-you-type: a text box and a list of the 20 best matches,
    searched on the server; the chosen row stays listed while searching."""
    key = field_key(prefix, name)
    chosen = st.session_state.get(key)
    left, right = st.columns([1, 2])
    text = left.text_input(
        f"Search {label.lower()}",
        key=key + ".q",
        placeholder=placeholder,
        help="Part of a name, code or email, or #id.",
        max_chars=editing.MAX_SEARCH_CHARS,
    )
    matches = editing.search_options(ref, text, active_only=active_only)
    labels = dict(matches)
    if chosen is not None and chosen not in labels:
        labels = {
            chosen: editing.label_for(ref, chosen) or f"#{chosen} (missing)"
        } | labels
    options: list[str | None] = list(labels)
    if not required:
        options = [None, *options]
    if not options:
        options = [None]
    value = right.selectbox(
        label,
        options,
        key=key,
        format_func=lambda v: NONE_LABEL if v is None else labels.get(v, f"#{v}"),
        help=help,
        index=None if required else 0,
        placeholder="No match: change the search" if not matches else "Choose…",
    )
    return value


def field_input(
    prefix: str,
    f: editing.Field,
    *,
    suggestions: Sequence[str] | None = None,
    container: Any = st,
) -> None:
    """The widget of one field (its value lives in session state)."""
    key = field_key(prefix, f.name)
    label = f.label + ("" if f.required or f.kind == "bool" else " (optional)")
    if f.kind == "ref":
        if container is st:
            ref_select(prefix, f.name, f.ref, f.label, required=f.required, help=f.help)
        else:
            with container:
                ref_select(
                    prefix, f.name, f.ref, f.label, required=f.required, help=f.help
                )
    elif suggestions is not None:
        current = st.session_state.get(key) or None
        options = list(dict.fromkeys([*([current] if current else []), *suggestions]))
        container.selectbox(
            label,
            options,
            key=key,
            index=None,
            accept_new_options=True,
            placeholder="Choose or type a new one…",
            help=f.help,
        )
    elif f.kind in ("text", "email", "country"):
        container.text_input(label, key=key, max_chars=f.max_length, help=f.help)
    elif f.kind == "choice":
        container.selectbox(label, f.choices, key=key, help=f.help)
    elif f.kind == "int":
        container.number_input(
            label, key=key, step=1, format="%d", value=None, help=f.help
        )
    elif f.kind in ("money", "percent"):
        decimals = editing.MONEY_DECIMALS if f.kind == "money" else 2
        money_input(container, label, key, decimals=decimals, help=f.help)
    elif f.kind == "date":
        container.date_input(
            label,
            key=key,
            value=None,
            min_value=DATE_MIN,
            max_value=date.today() if f.not_future else date(2099, 12, 31),
            help=f.help,
        )
    elif f.kind == "datetime":
        container.datetime_input(
            label + " (UTC)",
            key=key,
            min_value=DATETIME_MIN,
            max_value=DATETIME_MAX,
            help=f.help,
        )
    elif f.kind == "bool":
        container.checkbox(label, key=key, help=f.help)
    else:  # pragma: no cover - the kinds above are all there are
        raise ValueError(f.kind)
