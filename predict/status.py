"""What happened to each model of a run: fitted, fell back to a simpler model, or
skipped, and why. A model that cannot be fitted on the data never stops the run:
its status says so, in words meant for the people who read the results.

Models (and their scope): `revenue_forecast` per series ('all' = the total, or a
category), `forecast_backtest`, `customer_clv`, `clv_calibration` and
`customer_segments` (scope 'all').
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TypeVar

import numpy as np

FITTED = "fitted"
FALLBACK = "fallback"
SKIPPED = "skipped"
STATUSES = (FITTED, FALLBACK, SKIPPED)
ALL = "all"

FORECAST = "revenue_forecast"
BACKTEST = "forecast_backtest"
CLV = "customer_clv"
CALIBRATION = "clv_calibration"
SEGMENTS = "customer_segments"

LABELS = {
    FORECAST: "revenue forecast",
    BACKTEST: "forecast backtest",
    CLV: "customer lifetime value",
    CALIBRATION: "CLV hold-out calibration",
    SEGMENTS: "customer segments",
}

T = TypeVar("T")


class Skip(Exception):
    """A model cannot be fitted on this data; the message says why."""


@dataclass(frozen=True)
class ModelStatus:
    model: str
    scope: str
    status: str
    method: str | None = None  # what was used (None when skipped)
    reason: str | None = None  # why it fell back or was skipped; or a note

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)

    @property
    def label(self) -> str:
        name = LABELS.get(self.model, self.model)
        if self.model != FORECAST:
            return name
        return f"{name}, {'total' if self.scope == ALL else self.scope}"


class Statuses:
    """The statuses of one run, in the order the models were tried."""

    def __init__(self) -> None:
        self.rows: list[ModelStatus] = []

    def add(
        self,
        model: str,
        status: str,
        *,
        scope: str = ALL,
        method: str | None = None,
        reason: str | None = None,
    ) -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown model status {status!r}")
        self.rows.append(ModelStatus(model, scope, status, method, reason))

    def attempt(
        self, model: str, fit: Callable[[], T], *, scope: str = ALL
    ) -> T | None:
        """`fit()`, or None with the model recorded as skipped when it raised.

        Whatever the data, a model's failure is its own: numpy and the fitting
        libraries' warnings are silenced (their outcome is checked instead).
        """
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                return fit()
        except Exception as exc:  # any failure skips only this model
            self.add(model, SKIPPED, scope=scope, reason=reason_of(exc))
            return None

    def of(self, model: str, scope: str = ALL) -> ModelStatus | None:
        for row in self.rows:
            if (row.model, row.scope) == (model, scope):
                return row
        return None

    def as_list(self) -> list[dict[str, str | None]]:
        return [row.as_dict() for row in self.rows]

    def counts(self) -> dict[str, int]:
        return {s: sum(row.status == s for row in self.rows) for s in STATUSES}


def reason_of(exc: BaseException) -> str:
    """One line: the message of a Skip, else the kind of error and its text."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else ""
    if isinstance(exc, Skip):
        return text or "cannot be fitted on this data"
    kind = type(exc).__name__
    return f"the fit failed ({kind}: {text})" if text else f"the fit failed ({kind})"


def lines(statuses: list[dict[str, str | None]]) -> list[str]:
    """One line per model: its name, status, and the method or the reason."""
    rows = [ModelStatus(**row) for row in statuses]
    width = max((len(row.label) for row in rows), default=0)
    out = []
    for row in rows:
        detail = row.method or ""
        if row.reason:
            detail = f"{detail}: {row.reason}" if detail else row.reason
        out.append(f"{row.label:<{width}}  {row.status:<8}  {detail}".rstrip())
    return out
