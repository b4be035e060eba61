"""Per-customer inputs of the CLV and segment models, from purchase days.

A purchase day is a (customer, day) with at least one sale order; BG/NBD counts
those (several orders on one day are one transaction, as in the CDNOW data).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from predict import clv

DAYS_PER_WEEK = 7.0
HORIZON_DAYS = 365
FREQUENCY_GROUPS = 7  # calibration groups 0, 1, ..., 6 and "7+"
AT_RISK_REVENUE_QUANTILE = 0.8
AT_RISK_P_ALIVE = 0.5
# (tier, share of customers) from the highest expected 12-month value down
CLV_TIERS = (("high", 0.10), ("medium", 0.20), ("low", 0.30), ("very low", 0.40))


def summarise(days: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """One row per customer from purchase days (customer_id, order_date, orders,
    revenue), sorted by customer_id.

    Columns: repeat_purchases (x), active_span_days (t_x: first to last purchase
    day), customer_age_days (T: first purchase day to `as_of`),
    days_since_last_order, orders, revenue, first_day_revenue, avg_repeat_value
    (mean revenue of the repeat purchase days; NaN when there is none),
    first_order_date, last_order_date.
    """
    days = days.sort_values(["customer_id", "order_date"], kind="stable")
    dates = pd.to_datetime(days["order_date"])
    grouped = days.assign(order_date=dates).groupby("customer_id", sort=True)
    first = grouped["order_date"].min()
    last = grouped["order_date"].max()
    revenue = grouped["revenue"].sum()
    first_day_revenue = grouped["revenue"].first()
    purchase_days = grouped.size()
    as_of_ts = pd.Timestamp(as_of)
    frame = pd.DataFrame(
        {
            "customer_id": first.index.to_numpy(),
            "repeat_purchases": (purchase_days - 1).to_numpy(),
            "active_span_days": (last - first).dt.days.to_numpy(),
            "customer_age_days": (as_of_ts - first).dt.days.to_numpy(),
            "days_since_last_order": (as_of_ts - last).dt.days.to_numpy(),
            "orders": grouped["orders"].sum().to_numpy(),
            "revenue": revenue.to_numpy(float),
            "first_day_revenue": first_day_revenue.to_numpy(float),
            "first_order_date": first.dt.date.to_numpy(),
            "last_order_date": last.dt.date.to_numpy(),
        }
    )
    x = frame["repeat_purchases"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["avg_repeat_value"] = np.where(
            x > 0,
            (frame["revenue"] - frame["first_day_revenue"]) / np.maximum(x, 1),
            np.nan,
        )
    return frame.reset_index(drop=True)


def weeks(days_column: pd.Series) -> np.ndarray:
    return days_column.to_numpy(float) / DAYS_PER_WEEK


@dataclass(frozen=True)
class ClvResult:
    table: pd.DataFrame
    bgnbd: clv.BgNbdParams
    gamma_gamma: clv.GammaGammaParams
    frequency_value_correlation: float


def customer_value(
    summary: pd.DataFrame, *, horizon_days: int = HORIZON_DAYS
) -> ClvResult:
    """Fit BG/NBD and Gamma-Gamma on every customer; score each customer."""
    x = summary["repeat_purchases"].to_numpy(float)
    t_x = weeks(summary["active_span_days"])
    big_t = weeks(summary["customer_age_days"])
    bgnbd = clv.fit_bgnbd(x, t_x, big_t)
    repeat_value = summary["avg_repeat_value"].to_numpy(float)
    gamma_gamma = clv.fit_gamma_gamma(x, repeat_value)
    has_repeat = (x > 0) & (repeat_value > 0)
    correlation = (
        float(np.corrcoef(x[has_repeat], repeat_value[has_repeat])[0, 1])
        if has_repeat.sum() > 2
        else float("nan")
    )

    table = summary[
        [
            "customer_id",
            "repeat_purchases",
            "orders",
            "active_span_days",
            "customer_age_days",
            "days_since_last_order",
            "revenue",
            "avg_repeat_value",
            "first_order_date",
            "last_order_date",
        ]
    ].rename(columns={"revenue": "historical_revenue"})
    table["p_alive"] = clv.p_alive(bgnbd, x, t_x, big_t)
    table["expected_purchases_12m"] = clv.expected_purchases(
        bgnbd, horizon_days / DAYS_PER_WEEK, x, t_x, big_t
    )
    value = np.where(repeat_value > 0, repeat_value, 0.0)
    table["expected_avg_value"] = clv.expected_average_value(
        gamma_gamma, np.where(repeat_value > 0, x, 0), value
    )
    table["expected_value_12m"] = (
        table["expected_purchases_12m"] * table["expected_avg_value"]
    )
    if not np.all(np.isfinite(table["expected_value_12m"])):
        raise clv.FitError("non-finite expected value; the CLV fit is degenerate")

    # rank 1 = highest expected value; ties broken by customer_id
    order = np.lexsort(
        (table["customer_id"].to_numpy(), -table["expected_value_12m"].to_numpy())
    )
    rank = np.empty(len(table), dtype=int)
    rank[order] = np.arange(1, len(table) + 1)
    table["clv_rank"] = rank
    table["clv_tier"] = _tiers(rank, len(table))
    threshold = float(
        np.quantile(table["historical_revenue"], AT_RISK_REVENUE_QUANTILE)
    )
    table["is_at_risk"] = (table["historical_revenue"] >= threshold) & (
        table["p_alive"] < AT_RISK_P_ALIVE
    )
    return ClvResult(table, bgnbd, gamma_gamma, correlation)


def _tiers(rank: np.ndarray, n: int) -> np.ndarray:
    bounds = np.cumsum([share for _, share in CLV_TIERS]) * n
    names = np.array([name for name, _ in CLV_TIERS], dtype=object)
    index = np.searchsorted(bounds, rank, side="left")
    return names[np.minimum(index, len(names) - 1)]


@dataclass(frozen=True)
class Calibration:
    table: pd.DataFrame
    bgnbd: clv.BgNbdParams
    holdout_start: date
    holdout_end: date


def calibration(
    days: pd.DataFrame, as_of: date, *, holdout_days: int = HORIZON_DAYS
) -> Calibration:
    """Fit BG/NBD on the purchases up to `as_of - holdout_days`, predict the
    purchase days of the hold-out period (the rest, up to `as_of`) for the
    customers who had bought by then, and compare with what they did, by number
    of repeat purchases in the calibration period (0, 1, ..., 6, 7+)."""
    cutoff = as_of - timedelta(days=holdout_days)
    dates = pd.to_datetime(days["order_date"]).dt.date
    calibration_days = days[dates <= cutoff]
    if calibration_days.empty:
        raise clv.FitError(
            f"no purchases before the hold-out period (starting {cutoff})"
        )
    summary = summarise(calibration_days, cutoff)
    x = summary["repeat_purchases"].to_numpy(float)
    t_x = weeks(summary["active_span_days"])
    big_t = weeks(summary["customer_age_days"])
    params = clv.fit_bgnbd(x, t_x, big_t)
    predicted = clv.expected_purchases(
        params, holdout_days / DAYS_PER_WEEK, x, t_x, big_t
    )
    holdout = days[dates > cutoff]
    actual = (
        holdout.groupby("customer_id")
        .size()
        .reindex(summary["customer_id"], fill_value=0)
        .to_numpy(float)
    )
    group = np.minimum(x, FREQUENCY_GROUPS).astype(int)
    frame = pd.DataFrame({"group": group, "predicted": predicted, "actual": actual})
    rows = []
    for g, part in frame.groupby("group", sort=True):
        label = f"{FREQUENCY_GROUPS}+" if g == FREQUENCY_GROUPS else str(g)
        rows.append(_calibration_row(label, int(g), part))
    rows.append(_calibration_row("all", FREQUENCY_GROUPS + 1, frame))
    return Calibration(pd.DataFrame(rows), params, cutoff + timedelta(days=1), as_of)


def _calibration_row(label: str, order: int, part: pd.DataFrame) -> dict:
    predicted = float(part["predicted"].sum())
    actual = float(part["actual"].sum())
    return {
        "frequency_group": label,
        "group_order": order,
        "customers": len(part),
        "predicted_mean": predicted / len(part),
        "actual_mean": actual / len(part),
        "predicted_total": predicted,
        "actual_total": actual,
        "error_pct": 100.0 * (predicted - actual) / actual if actual else None,
    }
