"""The global sidebar filters, kept in the URL so a filtered view can be shared.

On the first run of a session the widgets are seeded from the query string;
afterwards the widgets are the source of truth and the query string is rewritten
on every run (page switches included).
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from streamlit_app import warehouse
from streamlit_app.filters import FILTER_KEYS, Filters, default_range, from_query_params
from streamlit_app.queries import filtering

KEY_DATES = "filter_dates"
KEY_CHANNELS = "filter_channels"
KEY_REGIONS = "filter_regions"
KEY_CATEGORIES = "filter_categories"
_SEEDED = "_filters_seeded"
_CURRENT = "_filters_current"


def _url_params() -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in FILTER_KEYS}


def _seed(options: filtering.FilterOptions, f: Filters) -> None:
    st.session_state[KEY_DATES] = (f.start, f.end)
    st.session_state[KEY_CHANNELS] = list(f.channels)
    st.session_state[KEY_REGIONS] = list(f.regions)
    st.session_state[KEY_CATEGORIES] = list(f.categories)


def _from_url(options: filtering.FilterOptions) -> Filters:
    return from_query_params(
        _url_params(),
        min_date=options.min_date,
        max_date=options.max_date,
        channels=list(options.channels),
        regions=list(options.regions),
        categories=options.categories,
    )


def _valid_state(options: filtering.FilterOptions) -> bool:
    """False when stored widget values no longer fit the data (e.g. after a reload)."""
    dates = st.session_state.get(KEY_DATES) or ()
    if not all(options.min_date <= d <= options.max_date for d in dates):
        return False
    for key, allowed in (
        (KEY_CHANNELS, options.channels),
        (KEY_REGIONS, options.regions),
        (KEY_CATEGORIES, options.categories),
    ):
        if any(v not in allowed for v in st.session_state.get(key, [])):
            return False
    return True


def _reset(options: filtering.FilterOptions) -> None:
    start, end = default_range(options.min_date, options.max_date)
    _seed(options, Filters(start=start, end=end))


def global_filters(options: filtering.FilterOptions) -> Filters:
    """Draw the filters in the sidebar and return the current selection."""
    if not st.session_state.get(_SEEDED) or not _valid_state(options):
        _seed(options, _from_url(options))
        st.session_state[_SEEDED] = True

    with st.sidebar:
        st.subheader("Filters")
        picked = st.date_input(
            "Date range",
            key=KEY_DATES,
            min_value=options.min_date,
            max_value=options.max_date,
            format="YYYY-MM-DD",
            help=f"Order dates with data: {options.min_date} to {options.max_date}.",
        )
        channels = st.multiselect(
            "Channel",
            list(options.channels),
            key=KEY_CHANNELS,
            placeholder="All channels",
        )
        regions = st.multiselect(
            "Region", list(options.regions), key=KEY_REGIONS, placeholder="All regions"
        )
        categories = st.multiselect(
            "Category",
            list(options.categories),
            key=KEY_CATEGORIES,
            placeholder="All categories",
        )
        left, right = st.columns(2)
        left.button(
            "Reset",
            on_click=_reset,
            args=(options,),
            icon=":material/filter_alt_off:",
            width="stretch",
            help="Back to the last year of data, all channels, regions and categories.",
        )
        if right.button(
            "Refresh",
            icon=":material/refresh:",
            width="stretch",
            help="Reload the data from the warehouse (after `ecom build`).",
        ):
            warehouse.clear_cache()
            st.rerun()

    start, end = _date_pair(picked, st.session_state.get(_CURRENT), options)
    current = Filters(
        start=start,
        end=end,
        channels=tuple(channels),
        regions=tuple(regions),
        categories=tuple(categories),
    )
    st.session_state[_CURRENT] = current
    wanted = current.to_query_params()
    if _url_params() != {k: _as_list(wanted.get(k)) for k in FILTER_KEYS}:
        st.query_params.from_dict(wanted)
    return current


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _date_pair(
    picked, previous: Filters | None, options: filtering.FilterOptions
) -> tuple[date, date]:
    """While the user has clicked only the first day of a range, keep the old one."""
    if isinstance(picked, date):
        return picked, picked
    values = [d for d in (picked or ()) if d is not None]
    if len(values) == 2:
        return values[0], values[1]
    if previous is not None:
        return previous.start, previous.end
    if values:
        return values[0], values[0]
    return default_range(options.min_date, options.max_date)


def current() -> Filters:
    """The filters drawn by app.py in this run (for the pages)."""
    return st.session_state[_CURRENT]
