"""The "Refresh warehouse" action: `dbt build` of what the app's edits changed.

The app's editing pages change the raw tables (every change is recorded in
app.audit_log); the dashboards read the marts. A refresh builds the models
downstream of the raw tables edited since the last successful refresh
(`source:shop.<table>+` for each), or everything when asked, runs their tests,
records the run in app.refresh_runs and clears the dashboards' caches.

- `job`: start a refresh (or join the running one), the background build, its
  state, the predictions afterwards;
- `dbt_output`: dbt's progress lines, run_results.json and error messages;
- `runs`: the database side, what changed since the last refresh and the runs
  recorded in app.refresh_runs.

Callers use the names below (`refresh.start`, `refresh.latest`, ...).
"""

from __future__ import annotations

from streamlit_app.refresh.dbt_output import (
    count_results,
    dbt_error,
    error_line,
    node_name,
)
from streamlit_app.refresh.job import (
    ERROR_LINES_KEPT,
    OUTPUT_LINES_KEPT,
    RefreshState,
    Started,
    build_env,
    dbt_env,
    latest,
    run_predictions,
    running_elsewhere,
    start,
    summary,
    wait,
)
from streamlit_app.refresh.runs import (
    FULL_BUILD,
    LOCK_KEY,
    SOURCE,
    NothingChanged,
    Pending,
    RefreshBusy,
    RefreshError,
    history,
    pending,
    selectors,
)

__all__ = [
    "ERROR_LINES_KEPT",
    "FULL_BUILD",
    "LOCK_KEY",
    "OUTPUT_LINES_KEPT",
    "SOURCE",
    "NothingChanged",
    "Pending",
    "RefreshBusy",
    "RefreshError",
    "RefreshState",
    "Started",
    "build_env",
    "count_results",
    "dbt_env",
    "dbt_error",
    "error_line",
    "history",
    "latest",
    "node_name",
    "pending",
    "run_predictions",
    "running_elsewhere",
    "selectors",
    "start",
    "summary",
    "wait",
]
