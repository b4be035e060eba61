"""How old the shown fit is and what each model did: the run's caption (when it
was fitted, on which build of the marts), a warning when the marts were rebuilt
since, and the explanation of every model that fell back or was skipped.

The statuses come from ml.model_runs.models (written by predict/run.py): model,
scope ('all', or the category of a forecast), status (fitted / fallback /
skipped), method, reason.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.errors import WarehouseError
from streamlit_app import ui
from streamlit_app.queries import predictions

FORECAST = "revenue_forecast"
BACKTEST = "forecast_backtest"
CLV = "customer_clv"
CALIBRATION = "clv_calibration"
SEGMENTS = "customer_segments"
LABELS = {
    FORECAST: "Revenue forecast",
    BACKTEST: "Forecast backtest",
    CLV: "Customer lifetime value",
    CALIBRATION: "CLV hold-out calibration",
    SEGMENTS: "Customer segments",
}
STATUS_WORDS = {"fallback": "fell back to", "skipped": "was not fitted"}


def _utc(value: pd.Timestamp | None) -> str:
    if value is None:
        return "unknown"
    stamp = value.tz_convert("UTC") if value.tzinfo else value
    return f"{stamp:%Y-%m-%d %H:%M} UTC"


def latest_build() -> pd.Timestamp | None:
    """The latest build of the facts (None: unknown, e.g. facts without stamps)."""
    try:
        return predictions.latest_build()
    except WarehouseError:
        return None


def is_stale(run: dict[str, Any], built: pd.Timestamp | None) -> bool:
    """The marts were built again after this fit: by a later build than the one
    it was fitted on, or (a run that did not record its build) after it ran."""
    if built is None:
        return False
    fitted_on = run.get("marts_built_at") or run.get("run_at")
    return fitted_on is not None and built > fitted_on


def caption(run: dict[str, Any] | None, built: pd.Timestamp | None) -> None:
    """Which run the page shows, when it was fitted and on which build; a warning
    when the marts have been rebuilt since."""
    if run is None:
        st.caption(
            "The sidebar filters do not apply to this page: the models are fitted on "
            "the whole history."
        )
        return
    fitted_on = run.get("marts_built_at")
    st.caption(
        f"Fitted by `ecom predict` at {_utc(run['run_at'])} on the marts built at "
        f"{_utc(fitted_on)}, with orders up to {run['as_of_date']} (run "
        f"{run['run_id']}, seed {run['seed']}). The sidebar filters do not apply to "
        "this page: the models are fitted on the whole history."
    )
    if is_stale(run, built):
        st.warning(
            f"These predictions are older than the data: the marts were rebuilt at "
            f"{_utc(built)}, after the fit (made at {_utc(run['run_at'])} on the "
            f"build of {_utc(fitted_on)}). Run `ecom predict`, or a refresh with "
            "**Refit the predictions afterwards**, to fit them on the new build.",
            icon=":material/update:",
        )


class Models:
    """The statuses of the shown run, by model and scope."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def of(self, model: str, scope: str = "all") -> dict[str, Any] | None:
        rows = self.frame[
            (self.frame["model"] == model) & (self.frame["scope"] == scope)
        ]
        return rows.iloc[0].to_dict() if len(rows) else None

    def reason(self, model: str, scope: str = "all") -> str | None:
        row = self.of(model, scope)
        return None if row is None else row["reason"]

    def explained(self) -> pd.DataFrame:
        """The models that fell back or were skipped."""
        return self.frame[self.frame["status"].isin(list(STATUS_WORDS))]

    def overview(self) -> None:
        """A warning that lists every model that fell back or was skipped, and why."""
        explained = self.explained()
        if explained.empty:
            return
        lines = [_line(row) for row in explained.to_dict("records")]
        st.warning(
            f"{len(explained)} of {len(self.frame)} models could not be fitted as "
            "designed on this data:\n\n" + "\n".join(lines),
            icon=":material/report:",
        )

    def not_fitted(self, model: str, what: str) -> None:
        """In place of a section whose model was skipped: why."""
        reason = self.reason(model)
        st.info(
            f"No {what}: "
            + (ui.plain(reason) if reason else "the model was not fitted on this run.")
            + " Its tables are empty.",
            icon=":material/info:",
        )


def _line(row: dict[str, Any]) -> str:
    """'- **Revenue forecast, toys** fell back to moving average (3): reason'."""
    name = LABELS.get(row["model"], row["model"])
    if row["model"] == FORECAST:
        name += ", total" if row["scope"] == "all" else f", {row['scope']}"
    text = f"- **{ui.plain(name)}** {STATUS_WORDS[row['status']]}"
    if row["status"] == "fallback" and row["method"]:
        text += f" {ui.plain(row['method'])}"
    if row["reason"]:
        text += f": {ui.plain(row['reason'])}"
    return text
