"""The editor of an editing page: opening a row (or a new one) into the form,
saving it, deleting it after a confirmation, and the conflict panel shown when
someone else changed the row since it was opened (optimistic concurrency)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from core import editing
from core.accounts import User
from streamlit_app.editing.form import display, field_input, prefill, read_form
from streamlit_app.editing.messages import action, flash, show_pending_error
from streamlit_app.editing.state import close, k, reset


def set_open(prefix: str, ent: editing.Entity, row: Mapping | None) -> None:
    """Open the form on a row (None: a new one) and fill it."""
    reset(prefix)
    st.session_state[k(prefix, "mode")] = "edit" if row is not None else "create"
    st.session_state[k(prefix, "row")] = dict(row) if row is not None else None
    prefill(prefix, ent.fields, row)


def open_new(ent: editing.Entity, prefix: str) -> None:
    """The form of a new row (a button's callback)."""

    @action(prefix)
    def run() -> None:
        set_open(prefix, ent, None)

    run()


def open_row(ent: editing.Entity, prefix: str, key: Any) -> None:
    """The form of the row with this key, as stored now (a button's callback)."""

    @action(prefix)
    def run() -> None:
        row = editing.get_row(ent, key)
        if row is None:
            flash(prefix, "warning", f"That {ent.singular} no longer exists.")
            close(prefix)
            return
        set_open(prefix, ent, row)

    run()


def _save(ent: editing.Entity, prefix: str, user: User) -> None:
    """Create the row or save the changes; a conflict opens the conflict panel."""

    @action(prefix)
    def run() -> None:
        original = st.session_state.get(k(prefix, "row"))
        values = read_form(prefix, ent.fields, original)
        try:
            if original is None:
                row = editing.create_row(ent, values, user)
                message = f"Created {ent.singular} #{row[ent.key]}."
            else:
                row = editing.update_row(
                    ent, original[ent.key], values, original["updated_at"], user
                )
                changed = row["updated_at"] != original["updated_at"]
                message = "Saved." if changed else "Nothing changed, nothing saved."
        except editing.Conflict as exc:
            # shown by the conflict panel, with the current values
            st.session_state[k(prefix, "conflict")] = {
                "current": exc.current,
                "mine": values,
            }
            return
        set_open(prefix, ent, row)
        flash(prefix, "success", message)

    run()


def _delete(ent: editing.Entity, prefix: str, user: User) -> None:
    """Delete the open row (or deactivate it, as the rules say)."""

    @action(prefix)
    def run() -> None:
        original = st.session_state[k(prefix, "row")]
        st.session_state.pop(k(prefix, "confirm_delete"), None)
        try:
            outcome = editing.delete_row(
                ent, original[ent.key], original["updated_at"], user
            )
        except editing.Conflict as exc:
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
            set_open(prefix, ent, outcome.row)

    run()


def _reload(ent: editing.Entity, prefix: str) -> None:
    """Conflict: start again from the current values."""
    conflict = st.session_state.get(k(prefix, "conflict")) or {}
    current = conflict.get("current")
    if current is None:
        close(prefix)
        return
    set_open(prefix, ent, current)
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
    ent: editing.Entity,
    prefix: str,
    fields: Sequence[editing.Field] | None = None,
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
    ent: editing.Entity,
    prefix: str,
    explanation: str,
    on_confirm: Callable[[], None],
    *,
    confirm_label: str = "Yes, delete",
) -> None:
    """Once Delete was pressed: what a delete does, and Yes / Cancel."""
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
    ent: editing.Entity,
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
