"""Session state of an editing page: its keys (all under the page's prefix), its
mode ("list", "create" or "edit"), and closing the form."""

from __future__ import annotations

import streamlit as st


def k(prefix: str, *parts: str) -> str:
    """A session-state / widget key of a page."""
    return ".".join([prefix, *parts])


def field_key(prefix: str, name: str) -> str:
    """The key of a form field's widget."""
    return k(prefix, "f", name)


def mode(prefix: str) -> str:
    """The page's mode: "list", or "create" / "edit" while the form is open."""
    return st.session_state.get(k(prefix, "mode"), "list")


def reset(prefix: str) -> None:
    """Forget the pending error, conflict and delete confirmation."""
    for name in ("error", "conflict", "confirm_delete"):
        st.session_state.pop(k(prefix, name), None)


def close(prefix: str) -> None:
    """Close the form: back to the list."""
    reset(prefix)
    st.session_state[k(prefix, "mode")] = "list"
    st.session_state.pop(k(prefix, "row"), None)
