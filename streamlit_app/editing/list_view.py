"""The list of an editing page: search, filters, sort and one page of rows (the
database does the searching, sorting and paging), the total, and a picker that
opens a row of the page; with the column formats of the lists."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from core import editing
from streamlit_app import ui
from streamlit_app.editing.editor import open_new, open_row
from streamlit_app.editing.form import DATE_MIN
from streamlit_app.editing.state import k

ANY = "Any"
MONEY = st.column_config.NumberColumn(format="%.2f")
WHEN = st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm", timezone="UTC")


def row_label(ent: editing.Entity, row: Mapping[str, Any]) -> str:
    if ent.name == "orders":
        when = editing.as_utc(row["ordered_at"])
        deleted = " (deleted)" if row.get("is_deleted") else ""
        customer = row["customer"] or "anonymous"
        return (
            f"#{row['order_id']} · {when:%Y-%m-%d} · {customer} · "
            f"{row['total']:,.2f}{deleted}"
        )
    return editing.option_label(ent, row)


def _filter_widgets(ent: editing.Entity, prefix: str) -> dict[str, Any]:
    """The entity's filters as widgets; their values for editing.list_rows."""
    values: dict[str, Any] = {}
    filters = [f for f in ent.filters if f.kind != "equals"]
    if not filters:
        return values
    columns = st.columns(min(len(filters), 4))
    for i, flt in enumerate(filters):
        col = columns[i % len(columns)]
        key = k(prefix, "filter", flt.name)
        if flt.kind == "multi":
            if flt.ref:
                labels = dict(editing.search_options(flt.ref, "", limit=100))
                options: list[Any] = list(labels)
                values[flt.name] = col.multiselect(
                    flt.label,
                    options,
                    key=key,
                    format_func=lambda v, labels=labels: labels.get(v, f"#{v}"),
                    placeholder="All",
                )
            else:
                options = list(flt.choices) or editing.distinct_values(ent, flt.name)
                values[flt.name] = col.multiselect(
                    flt.label, options, key=key, placeholder="All"
                )
        elif flt.kind == "bool":
            choice = col.selectbox(flt.label, [ANY, "Yes", "No"], key=key)
            values[flt.name] = None if choice == ANY else choice == "Yes"
        elif flt.kind == "flag":
            values[flt.name] = col.checkbox(flt.label, key=key)
        elif flt.kind == "choice":
            choices = list(flt.clauses)
            if ent.name == "orders" and flt.name == "deleted":
                names = {
                    "hide": "Hide deleted",
                    "include": "Include deleted",
                    "only": "Only deleted",
                }
                values[flt.name] = col.selectbox(
                    flt.label, choices, key=key, format_func=names.get
                )
            else:
                values[flt.name] = col.selectbox(
                    flt.label,
                    [None, *choices],
                    key=key,
                    format_func=lambda v: ANY if v is None else str(v).capitalize(),
                )
        elif flt.kind in ("date_from", "date_to"):
            values[flt.name] = col.date_input(
                flt.label, key=key, value=None, min_value=DATE_MIN
            )
    return values


def list_section(
    ent: editing.Entity,
    prefix: str | None = None,
    *,
    extra_filters: Callable[[], Mapping[str, Any]] | None = None,
    column_config: dict | None = None,
    search_help: str = "Words are searched anywhere in the text columns; "
    "digits also find the id.",
    on_open: Callable[[Any], None] | None = None,
    on_new: Callable[[], None] | None = None,
) -> None:
    """Search, filters, sort and one page of rows, with the total and a picker
    to open a row; the database does the searching, sorting and paging."""
    prefix = prefix or ent.name
    st.subheader(f"All {ent.title.lower()}")
    search, sort, descending, page_size = _list_controls(ent, prefix, search_help)
    filters = _filter_widgets(ent, prefix)
    if extra_filters is not None:
        filters |= dict(extra_filters())
    question = (search, filters, sort, descending)
    frame, total, page, pages = _current_page(ent, prefix, question, page_size)
    ui.table(
        frame,
        f"{ent.name} page {page}",
        column_config=column_config,
        empty=f"No {ent.title.lower()} match the search and filters.",
    )
    bottom = st.columns([1, 3])
    bottom[0].number_input(
        f"Page (of {pages:,})",
        min_value=1,
        max_value=pages,
        step=1,
        key=k(prefix, "page"),
    )
    first = (page - 1) * page_size + 1 if total else 0
    bottom[1].caption(
        f"Showing {first:,}–{first + len(frame) - 1 if total else 0:,} "
        f"of {total:,} {ent.title.lower()}."
    )
    _row_picker(ent, prefix, frame, on_open, on_new)


def _list_controls(
    ent: editing.Entity, prefix: str, search_help: str
) -> tuple[str, str, bool, int]:
    """The search box, sort, direction and page size."""
    top = st.columns([3, 2, 1, 1])
    search = top[0].text_input(
        "Search",
        key=k(prefix, "search"),
        placeholder="Search…",
        help=search_help,
        max_chars=editing.MAX_SEARCH_CHARS,
    )
    sort = top[1].selectbox(
        "Sort by",
        list(ent.sorts),
        key=k(prefix, "sort"),
        index=list(ent.sorts).index(ent.default_sort),
        format_func=ent.sorts.get,
    )
    descending = top[2].toggle(
        "Descending", value=ent.default_descending, key=k(prefix, "desc")
    )
    page_size = top[3].selectbox(
        "Rows", editing.PAGE_SIZES, index=1, key=k(prefix, "page_size")
    )
    return search, sort, descending, page_size


def _current_page(
    ent: editing.Entity,
    prefix: str,
    question: tuple[str, dict[str, Any], str, bool],
    page_size: int,
) -> tuple[pd.DataFrame, int, int, int]:
    """The rows of the page shown, the total, the page and the number of pages;
    back to page 1 whenever the question (search, filters, sort) changes, and to
    the last page when the one asked for is past the end."""
    search, filters, sort, descending = question
    signature = repr(
        (search, sorted(filters.items(), key=str), sort, descending, page_size)
    )
    page_key = k(prefix, "page")
    if st.session_state.get(k(prefix, "signature")) != signature:
        st.session_state[k(prefix, "signature")] = signature
        st.session_state[page_key] = 1

    frame, total = editing.list_rows(
        ent,
        search,
        filters,
        sort,
        descending,
        page=st.session_state.get(page_key, 1),
        page_size=page_size,
    )
    pages = editing.page_count(total, page_size)
    page = min(max(int(st.session_state.get(page_key, 1) or 1), 1), pages)
    if page != st.session_state.get(page_key):
        st.session_state[page_key] = page
        frame, total = editing.list_rows(
            ent, search, filters, sort, descending, page=page, page_size=page_size
        )
    return frame, total, page, pages


def _row_picker(
    ent: editing.Entity,
    prefix: str,
    frame: pd.DataFrame,
    on_open: Callable[[Any], None] | None,
    on_new: Callable[[], None] | None,
) -> None:
    """A row of the page to open, and the button for a new one."""
    if not frame.empty:
        labels = {
            str(row[ent.key]): row_label(ent, row) for row in frame.to_dict("records")
        }
        pick = st.columns([3, 1, 1], vertical_alignment="bottom")
        chosen = pick[0].selectbox(
            f"Open a {ent.singular} of this page",
            list(labels),
            key=k(prefix, "pick"),
            format_func=lambda v: labels.get(v, f"#{v}"),
        )
        pick[1].button(
            "Open",
            key=k(prefix, "open"),
            icon=":material/edit:",
            on_click=on_open or open_row,
            args=(chosen,) if on_open else (ent, prefix, chosen),
        )
    else:
        pick = st.columns([3, 1, 1], vertical_alignment="bottom")
    pick[2].button(
        f"New {ent.singular}",
        key=k(prefix, "new"),
        icon=":material/add:",
        on_click=on_new or open_new,
        args=() if on_new else (ent, prefix),
    )
