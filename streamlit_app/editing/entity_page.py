"""A whole editing page of a simple entity (customers, products, promotions,
regions, channels): title, messages, the form when a row is open, and the list."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import streamlit as st

from core import editing
from core.accounts import User
from streamlit_app.editing.editor import editor
from streamlit_app.editing.list_view import list_section
from streamlit_app.editing.messages import guard, show_flash, show_pending_error
from streamlit_app.editing.state import mode


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
    ent = editing.entity(name)
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
