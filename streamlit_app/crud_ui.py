"""Shared widgets of the editing pages: the list (server-side search, filters,
sort, pages), search-as-you-type selectors for foreign keys, the edit form with
its optimistic-concurrency conflict panel, delete confirmation and messages.

State lives in `st.session_state` under keys starting with the page's prefix
(the entity name): `<prefix>.mode` ("list", "create" or "edit"), `<prefix>.open`
(the row as it was when the form was opened: its `updated_at` is the version a
save compares), `<prefix>.f.<field>` (the form's widgets), and so on. Actions
run as widget callbacks, so a page never needs `st.rerun()` and a callback may
set the widgets' values.

Data text is shown only with st.dataframe, st.text and widget labels/options,
never as Markdown: messages passed to st.error / st.success are fixed text from
crud (labels and numbers).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import wraps
from typing import Any

import pandas as pd
import streamlit as st

from core.accounts import User
from streamlit_app import crud, ui

log = logging.getLogger(__name__)

DATETIME_MIN = datetime(1970, 1, 1)
DATETIME_MAX = datetime(2099, 12, 31, 23, 59)
DATE_MIN = date(1900, 1, 1)
NONE_LABEL = "— none —"
ANY = "Any"


def k(prefix: str, *parts: str) -> str:
    """A session-state / widget key of a page."""
    return ".".join([prefix, *parts])


def field_key(prefix: str, name: str) -> str:
    return k(prefix, "f", name)


# ------------------------------------------------------------------------ messages


def flash(prefix: str, kind: str, message: str, detail: str | None = None) -> None:
    """A message shown once, at the top of the page's next run."""
    st.session_state.setdefault(k(prefix, "flash"), []).append((kind, message, detail))


def show_flash(prefix: str) -> None:
    for kind, message, detail in st.session_state.pop(k(prefix, "flash"), []):
        show = {"success": st.success, "info": st.info, "warning": st.warning}
        show.get(kind, st.error)(message)
        if detail:
            st.text(detail)


def show_error(exc: crud.CrudError) -> None:
    """A CrudError in plain words; database text only through st.text."""
    if isinstance(exc, crud.ValidationError):
        for message in exc.errors.values():
            st.error(message, icon=":material/error:")
    elif isinstance(exc, crud.Conflict):
        st.warning(exc.message, icon=":material/sync_problem:")
    elif isinstance(exc, crud.Unavailable):
        st.error("The database cannot be reached; nothing was saved.")
        st.text(exc.message)
    else:
        st.error(exc.message, icon=":material/error:")
        if exc.detail:
            st.text(exc.detail)


def action(prefix: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Run a widget callback; a CrudError (or anything unexpected) becomes a
    message on the page instead of a traceback."""

    def decorate(fn: Callable[..., None]) -> Callable[..., None]:
        @wraps(fn)
        def run(*args: Any, **kwargs: Any) -> None:
            st.session_state.pop(k(prefix, "error"), None)
            try:
                fn(*args, **kwargs)
            except crud.CrudError as exc:
                st.session_state[k(prefix, "error")] = exc
            except Exception as exc:  # a bug: log it, say it in one line
                log.exception("editing action failed")
                st.session_state[k(prefix, "error")] = crud.CrudError(
                    "Something went wrong; nothing was saved.",
                    detail=f"{type(exc).__name__}: {exc}".splitlines()[0],
                )

        return run

    return decorate


@contextmanager
def guard() -> Iterator[None]:
    """Draw part of a page; a problem becomes a message in its place (an
    unreachable database goes on to the app's full-page message)."""
    try:
        yield
    except crud.Unavailable:
        raise
    except crud.CrudError as exc:
        show_error(exc)
    except Exception as exc:  # a bug: log it, say it in one line
        log.exception("editing page failed")
        st.error("Something went wrong while showing this part of the page.")
        st.text(f"{type(exc).__name__}: {exc}".splitlines()[0])


def show_pending_error(prefix: str) -> None:
    exc = st.session_state.get(k(prefix, "error"))
    if isinstance(exc, crud.CrudError):
        show_error(exc)


# ----------------------------------------------------------------------- formats


def display(f: crud.Field | None, value: Any) -> str:
    """A value as text for tables (conflict panel, summaries)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if f is not None and f.kind == "ref":
        return crud.label_for(f.ref, value) or f"#{value}"
    if isinstance(value, datetime):
        return f"{crud.as_utc(value):%Y-%m-%d %H:%M:%S} UTC"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal | float) and f is not None:
        return f"{Decimal(str(value)):,.2f}"
    return str(value)


def _to_widget(f: crud.Field, value: Any) -> Any:
    """A stored value as its widget holds it."""
    if f.kind in ("text", "email", "country"):
        return "" if value is None else str(value)
    if f.kind in ("money", "percent"):
        return None if value is None else float(value)
    if f.kind == "datetime":
        moment = crud.as_utc(value)
        return None if moment is None else moment.replace(tzinfo=None)
    return value


def _default(f: crud.Field) -> Any:
    if f.default == "now":
        return datetime.now(UTC).replace(second=0, microsecond=0)
    if f.default is not None:
        return f.default
    if f.kind == "choice" and f.choices:
        return f.choices[0]
    return None


def prefill(prefix: str, fields: Sequence[crud.Field], row: Mapping | None) -> None:
    """Put a row's values (or the defaults) into the form's widgets."""
    for f in fields:
        value = row.get(f.name) if row is not None else _default(f)
        st.session_state[field_key(prefix, f.name)] = _to_widget(f, value)
        if f.kind == "ref":
            st.session_state[field_key(prefix, f.name) + ".q"] = ""


def _same_minute(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return False
    return a.replace(second=0, microsecond=0) == b.replace(second=0, microsecond=0)


def read_form(
    prefix: str, fields: Sequence[crud.Field], original: Mapping | None
) -> dict[str, Any]:
    """The form's values, ready for crud (a time the widget shows to the
    minute keeps its original seconds when left as it was)."""
    values: dict[str, Any] = {}
    for f in fields:
        value = st.session_state.get(field_key(prefix, f.name))
        if f.kind == "datetime" and isinstance(value, datetime):
            before = crud.as_utc(original.get(f.name)) if original else None
            moment = crud.as_utc(value)
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
) -> int | None:
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
    )
    matches = crud.search_options(ref, text, active_only=active_only)
    labels = dict(matches)
    if chosen is not None and chosen not in labels:
        labels = {
            chosen: crud.label_for(ref, chosen) or f"#{chosen} (missing)"
        } | labels
    options: list[int | None] = list(labels)
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
    f: crud.Field,
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
        container.number_input(
            label, key=key, step=0.01, format="%.2f", value=None, help=f.help
        )
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


# -------------------------------------------------------------------------- list


def row_label(ent: crud.Entity, row: Mapping[str, Any]) -> str:
    if ent.name == "orders":
        when = crud.as_utc(row["ordered_at"])
        deleted = " (deleted)" if row.get("is_deleted") else ""
        return (
            f"#{row['order_id']} · {when:%Y-%m-%d} · {row['customer']} · "
            f"{row['total']:,.2f}{deleted}"
        )
    return crud.option_label(ent, row)


def _filter_widgets(ent: crud.Entity, prefix: str) -> dict[str, Any]:
    """The entity's filters as widgets; their values for crud.list_rows."""
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
                labels = dict(crud.search_options(flt.ref, "", limit=100))
                options: list[Any] = list(labels)
                values[flt.name] = col.multiselect(
                    flt.label,
                    options,
                    key=key,
                    format_func=lambda v, labels=labels: labels.get(v, f"#{v}"),
                    placeholder="All",
                )
            else:
                options = list(flt.choices) or crud.distinct_values(ent, flt.name)
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
    ent: crud.Entity,
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
    top = st.columns([3, 2, 1, 1])
    search = top[0].text_input(
        "Search", key=k(prefix, "search"), placeholder="Search…", help=search_help
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
        "Rows", crud.PAGE_SIZES, index=1, key=k(prefix, "page_size")
    )
    filters = _filter_widgets(ent, prefix)
    if extra_filters is not None:
        filters |= dict(extra_filters())

    # back to page 1 whenever the question changes
    signature = repr(
        (search, sorted(filters.items(), key=str), sort, descending, page_size)
    )
    page_key = k(prefix, "page")
    if st.session_state.get(k(prefix, "signature")) != signature:
        st.session_state[k(prefix, "signature")] = signature
        st.session_state[page_key] = 1

    frame, total = crud.list_rows(
        ent,
        search,
        filters,
        sort,
        descending,
        page=st.session_state.get(page_key, 1),
        page_size=page_size,
    )
    pages = crud.page_count(total, page_size)
    page = min(max(int(st.session_state.get(page_key, 1) or 1), 1), pages)
    if page != st.session_state.get(page_key):
        st.session_state[page_key] = page
        frame, total = crud.list_rows(
            ent, search, filters, sort, descending, page=page, page_size=page_size
        )
    ui.table(
        frame,
        f"{ent.name} page {page}",
        column_config=column_config,
        empty=f"No {ent.title.lower()} match the search and filters.",
    )
    bottom = st.columns([1, 3])
    bottom[0].number_input(
        f"Page (of {pages:,})", min_value=1, max_value=pages, step=1, key=page_key
    )
    first = (page - 1) * page_size + 1 if total else 0
    bottom[1].caption(
        f"Showing {first:,}–{first + len(frame) - 1 if total else 0:,} "
        f"of {total:,} {ent.title.lower()}."
    )
    if not frame.empty:
        labels = {
            int(row[ent.key]): row_label(ent, row) for row in frame.to_dict("records")
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


# ---------------------------------------------------------------- open and save


def mode(prefix: str) -> str:
    return st.session_state.get(k(prefix, "mode"), "list")


def _reset(prefix: str) -> None:
    for name in ("error", "conflict", "confirm_delete"):
        st.session_state.pop(k(prefix, name), None)


def _set_open(prefix: str, ent: crud.Entity, row: Mapping | None) -> None:
    _reset(prefix)
    st.session_state[k(prefix, "mode")] = "edit" if row is not None else "create"
    st.session_state[k(prefix, "row")] = dict(row) if row is not None else None
    prefill(prefix, ent.fields, row)


def open_new(ent: crud.Entity, prefix: str) -> None:
    @action(prefix)
    def run() -> None:
        _set_open(prefix, ent, None)

    run()


def open_row(ent: crud.Entity, prefix: str, key: Any) -> None:
    @action(prefix)
    def run() -> None:
        row = crud.get_row(ent, key)
        if row is None:
            flash(prefix, "warning", f"That {ent.singular} no longer exists.")
            close(prefix)
            return
        _set_open(prefix, ent, row)

    run()


def close(prefix: str) -> None:
    _reset(prefix)
    st.session_state[k(prefix, "mode")] = "list"
    st.session_state.pop(k(prefix, "row"), None)


def _save(ent: crud.Entity, prefix: str, user: User) -> None:
    @action(prefix)
    def run() -> None:
        original = st.session_state.get(k(prefix, "row"))
        values = read_form(prefix, ent.fields, original)
        try:
            if original is None:
                row = crud.create_row(ent, values, user)
                message = f"Created {ent.singular} #{row[ent.key]}."
            else:
                row = crud.update_row(
                    ent, original[ent.key], values, original["updated_at"], user
                )
                changed = row["updated_at"] != original["updated_at"]
                message = "Saved." if changed else "Nothing changed, nothing saved."
        except crud.Conflict as exc:
            # shown by the conflict panel, with the current values
            st.session_state[k(prefix, "conflict")] = {
                "current": exc.current,
                "mine": values,
            }
            return
        _set_open(prefix, ent, row)
        flash(prefix, "success", message)

    run()


def _delete(ent: crud.Entity, prefix: str, user: User) -> None:
    @action(prefix)
    def run() -> None:
        original = st.session_state[k(prefix, "row")]
        st.session_state.pop(k(prefix, "confirm_delete"), None)
        try:
            outcome = crud.delete_row(
                ent, original[ent.key], original["updated_at"], user
            )
        except crud.Conflict as exc:
            st.session_state[k(prefix, "conflict")] = {
                "current": exc.current,
                "mine": read_form(prefix, ent.fields, original),
            }
            return
        kind = "success" if outcome.action == "deleted" else "info"
        flash(prefix, kind, outcome.message)
        if outcome.action == "deleted" or outcome.row is None:
            close(prefix)
        else:
            _set_open(prefix, ent, outcome.row)

    run()


def _reload(ent: crud.Entity, prefix: str) -> None:
    """Conflict: start again from the current values."""
    conflict = st.session_state.get(k(prefix, "conflict")) or {}
    current = conflict.get("current")
    if current is None:
        close(prefix)
        return
    _set_open(prefix, ent, current)
    flash(prefix, "info", "The form shows the current values now.")


def _keep_mine(prefix: str) -> None:
    """Conflict: keep the form as typed, against the current version."""
    conflict = st.session_state.pop(k(prefix, "conflict"), None) or {}
    current = conflict.get("current")
    st.session_state.pop(k(prefix, "error"), None)
    if current is not None:
        st.session_state[k(prefix, "row")] = dict(current)
        flash(
            prefix,
            "info",
            "Your values are kept. Press Save to replace the current version "
            "with them.",
        )


def conflict_panel(
    ent: crud.Entity,
    prefix: str,
    fields: Sequence[crud.Field] | None = None,
    *,
    reload: Callable[[], None] | None = None,
    keep: Callable[[], None] | None = None,
) -> None:
    """What changed meanwhile: your values next to the current ones."""
    conflict = st.session_state.get(k(prefix, "conflict"))
    if not conflict:
        return
    fields = fields or ent.fields
    current, mine = conflict.get("current"), conflict.get("mine") or {}
    with st.container(border=True):
        if current is None:
            st.warning(
                f"This {ent.singular} was deleted by someone else meanwhile; "
                "nothing was saved.",
                icon=":material/delete_forever:",
            )
            st.button(
                "Back to the list",
                key=k(prefix, "conflict_close"),
                on_click=close,
                args=(prefix,),
            )
            return
        st.warning(
            f"This {ent.singular} was changed by someone else after you opened it; "
            "nothing was saved. Here are its current values next to yours:",
            icon=":material/sync_problem:",
        )
        rows = []
        for f in fields:
            yours, theirs = mine.get(f.name), current.get(f.name)
            rows.append(
                {
                    "field": f.label,
                    "current value": display(f, theirs),
                    "your value": display(f, yours),
                    "differs": display(f, theirs) != display(f, yours),
                }
            )
        rows.append(
            {
                "field": "Last changed",
                "current value": display(None, current.get("updated_at")),
                "your value": "",
                "differs": True,
            }
        )
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        left, right = st.columns(2)
        left.button(
            "Load the current values",
            key=k(prefix, "reload"),
            icon=":material/refresh:",
            on_click=reload or (lambda: _reload(ent, prefix)),
        )
        right.button(
            "Keep my values (save again to apply them)",
            key=k(prefix, "keep"),
            icon=":material/edit_note:",
            on_click=keep or (lambda: _keep_mine(prefix)),
        )


def delete_confirmation(
    ent: crud.Entity,
    prefix: str,
    explanation: str,
    on_confirm: Callable[[], None],
    *,
    confirm_label: str = "Yes, delete",
) -> None:
    if not st.session_state.get(k(prefix, "confirm_delete")):
        return
    with st.container(border=True):
        st.warning(explanation, icon=":material/warning:")
        left, right = st.columns(2)
        left.button(
            confirm_label,
            key=k(prefix, "confirm_delete_yes"),
            type="primary",
            icon=":material/delete:",
            on_click=on_confirm,
        )
        right.button(
            "Cancel",
            key=k(prefix, "confirm_delete_no"),
            on_click=lambda: st.session_state.pop(k(prefix, "confirm_delete"), None),
        )


DELETE_RULES = {
    "customers": "Delete this customer? A customer without orders is deleted for "
    "good; one with orders is deactivated instead, so the orders keep their "
    "history.",
    "products": "Delete this product? A product that never appeared on an order "
    "is deleted for good; one on orders is deactivated instead, so the orders "
    "keep their history.",
    "promotions": "Delete this promotion for good? A promotion used by orders "
    "cannot be deleted.",
    "regions": "Delete this region for good? A region used by customers or orders "
    "cannot be deleted.",
    "channels": "Delete this channel for good? A channel used by customers or "
    "orders cannot be deleted.",
}


def editor(
    ent: crud.Entity,
    user: User,
    prefix: str | None = None,
    *,
    suggestions: Mapping[str, Sequence[str]] | None = None,
    extras: Callable[[], None] | None = None,
) -> None:
    """The create / edit form of a simple entity, with save, delete and the
    conflict panel."""
    prefix = prefix or ent.name
    original = st.session_state.get(k(prefix, "row"))
    with st.container(border=True):
        if original is None:
            st.subheader(f"New {ent.singular}")
        else:
            st.subheader(f"{ent.singular.capitalize()} #{original[ent.key]}")
            st.caption(f"Last changed {display(None, original.get('updated_at'))}")
        conflict_panel(ent, prefix)
        show_pending_error(prefix)
        columns = st.columns(2)
        for i, f in enumerate(ent.fields):
            target = columns[i % 2] if f.kind != "ref" else st.container()
            field_input(
                prefix,
                f,
                suggestions=(suggestions or {}).get(f.name),
                container=target,
            )
        if extras is not None:
            extras()
        buttons = st.columns(3)
        buttons[0].button(
            "Create" if original is None else "Save changes",
            key=k(prefix, "save"),
            type="primary",
            icon=":material/save:",
            on_click=_save,
            args=(ent, prefix, user),
        )
        buttons[1].button(
            "Close", key=k(prefix, "close"), on_click=close, args=(prefix,)
        )
        if original is not None:
            buttons[2].button(
                "Delete…",
                key=k(prefix, "delete"),
                icon=":material/delete:",
                on_click=lambda: st.session_state.__setitem__(
                    k(prefix, "confirm_delete"), True
                ),
            )
            delete_confirmation(
                ent,
                prefix,
                DELETE_RULES.get(ent.name, f"Delete this {ent.singular}?"),
                lambda: _delete(ent, prefix, user),
            )


def entity_page(
    name: str,
    user: User,
    intro: str,
    *,
    suggestions: Callable[[], Mapping[str, Sequence[str]]] | None = None,
    extras: Callable[[], None] | None = None,
    column_config: dict | None = None,
) -> None:
    """A whole editing page: title, messages, the form when a row is open, and
    the list."""
    ent = crud.entity(name)
    st.title(f"Edit {ent.title.lower()}")
    st.caption(intro)
    show_flash(ent.name)
    if mode(ent.name) == "list":
        show_pending_error(ent.name)
    else:
        with guard():
            editor(
                ent,
                user,
                suggestions=suggestions() if suggestions else None,
                extras=extras,
            )
    with guard():
        list_section(ent, column_config=column_config)


MONEY = st.column_config.NumberColumn(format="%.2f")
WHEN = st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm", timezone="UTC")
