"""Refresh warehouse: rebuild the marts from the raw tables edited in the app.

Editors and admins. Shows what changed since the last successful refresh, starts
the build in the background (package streamlit_app/refresh), follows its progress,
shows its result and the recent refreshes.
"""

import streamlit as st

from streamlit_app import auth, refresh, ui
from streamlit_app.refresh.job import build_summary, shown_status

POLL_SECONDS = 1.0
_NOTICE = "refresh_notice"
_WHEN = st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss z")

user = auth.require("editor")

st.title("Refresh warehouse")
st.caption(
    "The editing pages change the raw tables; the dashboards read the marts, which "
    "`dbt build` makes from them. A refresh builds and tests the models fed by the "
    "tables edited since the last successful refresh, then the dashboards show "
    "the new figures."
)


def _duration(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{int(seconds // 60)} min {seconds % 60:02.0f} s"


def _start(full: bool, predictions: bool) -> None:
    try:
        started = refresh.start(user.username, full=full, predictions=predictions)
    except (refresh.NothingChanged, refresh.RefreshBusy) as exc:
        st.session_state[_NOTICE] = str(exc)
    else:
        if not started.is_new:
            st.session_state[_NOTICE] = (
                f"A refresh started by {started.state.requested_by} was already "
                "running; here is its progress."
            )
    st.rerun()


@st.fragment(run_every=POLL_SECONDS)
def _progress() -> None:
    state = refresh.latest()
    if state is None or not state.running:
        st.rerun()  # the whole page: show the result and the buttons again
        return
    st.markdown(
        f"**Refreshing** `{state.selection_text}` · started by "
        f"{state.requested_by} · {_duration(state.elapsed_seconds)}"
    )
    if state.phase == "predictions":
        st.progress(1.0, text=f"Built {state.total} nodes; refitting the predictions…")
    elif state.total:
        st.progress(state.fraction, text=f"{state.done} of {state.total} nodes")
        if state.running_nodes:
            st.caption("Now: " + ", ".join(state.running_nodes))
    else:
        st.progress(0.0, text="Starting dbt (reading the project)…")


@st.fragment(run_every=POLL_SECONDS * 3)
def _elsewhere() -> None:
    message = refresh.running_elsewhere()
    if message is None:
        st.rerun()
        return
    st.info(message, icon=":material/hourglass_top:")


def _changes(pending: refresh.Pending) -> None:
    since = (
        f"since the last refresh ({pending.since:%Y-%m-%d %H:%M:%S} UTC)"
        if pending.since is not None
        else "since the warehouse was loaded"
    )
    if pending.changes.empty:
        st.info(
            f"Nothing was edited {since}: the marts are up to date with the app's "
            "edits. A full build rebuilds and tests everything anyway (for example "
            "after `ecom load` of new files).",
            icon=":material/check_circle:",
        )
        return
    st.subheader("Edited " + since)
    ui.table(
        pending.changes.rename(
            columns={
                "table_name": "table",
                "edits": "edits",
                "last_changed_at": "last change",
            }
        ),
        "pending edits",
        column_config={"last change": _WHEN},
    )
    st.caption("Will build: " + " ".join(f"`{s}`" for s in pending.selectors))


def _actions(pending: refresh.Pending) -> None:
    predictions = st.checkbox(
        "Refit the predictions afterwards",
        value=False,
        key="refresh_predictions",
        help="Forecast, customer lifetime value and segments (schema ml) on the new "
        "marts: adds roughly half the time of a full build.",
    )
    left, right = st.columns(2)
    if not pending.changes.empty and left.button(
        "Refresh warehouse",
        type="primary",
        icon=":material/sync:",
        key="refresh_start",
        width="stretch",
    ):
        _start(full=False, predictions=predictions)
    target = right if not pending.changes.empty else left
    if target.button(
        "Full build" if not pending.changes.empty else "Full build anyway",
        icon=":material/build:",
        key="refresh_full",
        type="secondary" if not pending.changes.empty else "primary",
        width="stretch",
        help="Build and test every model, whatever changed.",
    ):
        _start(full=True, predictions=predictions)


def _result(state: refresh.RefreshState) -> None:
    st.subheader(f"Last refresh (run {state.run_id})")
    cards = st.columns(4)
    cards[0].metric("Models built", f"{state.models_built:,}")
    cards[1].metric("Tests passed", f"{state.tests_passed:,}")
    cards[2].metric("Tests failed", f"{state.tests_failed:,}")
    cards[3].metric("Elapsed", _duration(state.elapsed_seconds))
    if state.status == "success" and state.predictions_ok is False:
        # the marts are new, the predictions are not: not a plain success
        st.warning(
            f"Warehouse refreshed by {state.requested_by}: {build_summary(state)} "
            "The dashboards show the new figures, but the predictions could not be "
            "refitted: the Predictions page still shows the previous fit.",
            icon=":material/warning:",
        )
        st.error(state.predictions_message, icon=":material/insights:")
        return
    if state.status == "success":
        st.success(
            f"Warehouse refreshed by {state.requested_by}: {build_summary(state)} "
            "The dashboards show the new figures.",
            icon=":material/check_circle:",
        )
    else:
        failing = len(state.errors)
        st.error(
            f"The refresh failed after {_duration(state.elapsed_seconds)}"
            + (f" ({state.skipped:,} nodes skipped)" if state.skipped else "")
            + ". The dashboards show what was built; fix the problem below and "
            "refresh again.",
            icon=":material/error:",
        )
        st.code(
            "\n".join(state.errors) if failing else state.message,
            language=None,
            wrap_lines=True,
        )
    if state.predictions_message:
        st.success(state.predictions_message, icon=":material/insights:")


notice = st.session_state.pop(_NOTICE, None)
if notice:
    st.info(notice, icon=":material/info:")

current = refresh.latest()
if current is not None and current.running:
    _progress()
else:
    elsewhere = refresh.running_elsewhere()
    if elsewhere is not None:
        _elsewhere()
    else:
        pending = refresh.pending()
        _changes(pending)
        _actions(pending)
    if current is not None:
        _result(current)

st.subheader("Recent refreshes")
runs = refresh.history()
runs["status"] = [
    shown_status(status, message)
    for status, message in zip(runs["status"], runs["message"], strict=True)
]
ui.table(
    runs.rename(
        columns={
            "run_id": "run",
            "requested_by": "by",
            "models_built": "models built",
            "tests_passed": "tests passed",
            "tests_failed": "tests failed",
            "started_at": "started",
            "finished_at": "finished",
        }
    ),
    "refresh history",
    column_config={
        "started": _WHEN,
        "finished": _WHEN,
        "seconds": st.column_config.NumberColumn(format="%.1f"),
    },
    empty="No refresh yet: the first one starts with the button above.",
)
