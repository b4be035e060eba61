"""Messages of the editing pages: shown once at the top of the next run (flash),
errors of the editing layer in plain words, and guards that turn a failing
callback or part of a page into a message instead of a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

import streamlit as st

from core import editing
from streamlit_app.editing.state import k

log = logging.getLogger(__name__)


def flash(prefix: str, kind: str, message: str, detail: str | None = None) -> None:
    """A message shown once, at the top of the page's next run."""
    st.session_state.setdefault(k(prefix, "flash"), []).append((kind, message, detail))


def show_flash(prefix: str) -> None:
    """The messages flashed since the last run."""
    for kind, message, detail in st.session_state.pop(k(prefix, "flash"), []):
        show = {"success": st.success, "info": st.info, "warning": st.warning}
        show.get(kind, st.error)(message)
        if detail:
            st.text(detail)


def show_error(exc: editing.CrudError) -> None:
    """A CrudError in plain words; database text only through st.text."""
    if isinstance(exc, editing.ValidationError):
        for message in exc.errors.values():
            st.error(message, icon=":material/error:")
    elif isinstance(exc, editing.Conflict):
        st.warning(exc.message, icon=":material/sync_problem:")
    elif isinstance(exc, editing.Unavailable):
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
            except editing.CrudError as exc:
                st.session_state[k(prefix, "error")] = exc
            except Exception as exc:  # a bug: log it, say it in one line
                log.exception("editing action failed")
                st.session_state[k(prefix, "error")] = editing.CrudError(
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
    except editing.Unavailable:
        raise
    except editing.CrudError as exc:
        show_error(exc)
    except Exception as exc:  # a bug: log it, say it in one line
        log.exception("editing page failed")
        st.error("Something went wrong while showing this part of the page.")
        st.text(f"{type(exc).__name__}: {exc}".splitlines()[0])


def show_pending_error(prefix: str) -> None:
    """The error the last action left, if any."""
    exc = st.session_state.get(k(prefix, "error"))
    if isinstance(exc, editing.CrudError):
        show_error(exc)
