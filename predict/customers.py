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
from predict.status import Skip

DAYS_PER_WEEK = 7.0
HORIZON_DAYS = 365
FREQUENCY_GROUPS = 7  # calibration groups 0, 1, ..., 6 and "7+"
AT_RISK_REVENUE_QUANTILE = 0.8
AT_RISK_P_ALIVE = 0.5
# (tier, share of customers) from the highest expected 12-month value down
CLV_TIERS = (("high", 0.10), ("medium", 0.20), ("low", 0.30), ("very low", 0.40))
# Fewest customers for the fits (rules of thumb: a few observations per parameter;
# below them the maximum likelihood runs to the edge of the parameter space). The
# drop-out of BG/NBD is seen only in customers who bought again, and Gamma-Gamma
# fits the values of repeat purchases only.
MIN_CUSTOMERS = 20
MIN_REPEAT_BUYERS = 5
MIN_GAMMA_GAMMA = 10
BGNBD_METHOD = "BG/NBD"
GAMMA_GAMMA_METHOD = "BG/NBD with Gamma-Gamma"
OWN_VALUE_METHOD = "BG/NBD; value per purchase: the customer's own average"


def summarise(
    days: pd.DataFrame, as_of: date, cutoff: date | None = None
) -> pd.DataFrame:
    """One row per customer from purchase days (customer_id, order_date, orders,
    revenue), sorted by customer_id: the straightforward pandas version of
    customer_summary.read_customer_summary, which does the same in SQL.

    Columns: repeat_purchases (x), active_span_days (t_x: first to last purchase
    day), customer_age_days (T: first purchase day to `as_of`),
    days_since_last_order, orders, revenue, first_day_revenue, avg_repeat_value
    (mean revenue of the repeat purchase days; NaN when there is none),
    first_order_date, last_order_date; with `cutoff`, also the calibration
    columns (see `calibration_inputs`).
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
            "first_order_date": first.to_numpy(),
            "last_order_date": last.to_numpy(),
        }
    )
    x = frame["repeat_purchases"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["avg_repeat_value"] = np.where(
            x > 0,
            (frame["revenue"] - frame["first_day_revenue"]) / np.maximum(x, 1),
            np.nan,
        )
    if cutoff is not None:
        before = dates <= pd.Timestamp(cutoff)
        known = days[before.to_numpy()].assign(order_date=dates[before])
        by_customer = known.groupby("customer_id", sort=True)["order_date"]
        counts = by_customer.size().reindex(first.index, fill_value=0)
        span = (by_customer.max() - by_customer.min()).dt.days.reindex(first.index)
        frame["calibration_repeat_purchases"] = counts.to_numpy() - 1
        frame["calibration_span_days"] = span.to_numpy(float)
        frame["holdout_purchases"] = purchase_days.to_numpy() - counts.to_numpy()
    return frame.reset_index(drop=True)


def weeks(days_column: pd.Series) -> np.ndarray:
    return days_column.to_numpy(float) / DAYS_PER_WEEK


@dataclass(frozen=True)
class ClvResult:
    table: pd.DataFrame
    bgnbd: clv.BgNbdParams
    gamma_gamma: clv.GammaGammaParams | None  # None: the fallback value was used
    frequency_value_correlation: float
    method: str
    fallback_reason: str | None = None


def check_customers(x: np.ndarray, what: str) -> None:
    """Skip when there are too few customers, or repeat buyers, for BG/NBD."""
    if len(x) < MIN_CUSTOMERS:
        raise Skip(
            f"{what} needs at least {MIN_CUSTOMERS} customers with a sale, "
            f"there are {len(x)}"
        )
    repeat = int(np.sum(x > 0))
    if repeat < MIN_REPEAT_BUYERS:
        raise Skip(
            f"{what} needs at least {MIN_REPEAT_BUYERS} customers who bought on "
            f"two days or more (it learns drop-out from them), there are {repeat}"
        )


def customer_value(
    summary: pd.DataFrame, *, horizon_days: int = HORIZON_DAYS
) -> ClvResult:
    """Fit BG/NBD and Gamma-Gamma on every customer; score each customer.

    Skips (raises Skip or FitError) when BG/NBD cannot be fitted; falls back to
    each customer's own average purchase value when Gamma-Gamma cannot."""
    x = summary["repeat_purchases"].to_numpy(float)
    t_x = weeks(summary["active_span_days"])
    big_t = weeks(summary["customer_age_days"])
    check_customers(x, "BG/NBD")
    bgnbd = clv.fit_bgnbd(x, t_x, big_t)
    repeat_value = summary["avg_repeat_value"].to_numpy(float)
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
    if not np.all(np.isfinite(table[["p_alive", "expected_purchases_12m"]])):
        raise clv.FitError(
            "non-finite expected purchases: the BG/NBD fit is degenerate"
        )
    gamma_gamma, value, reason = _value_per_purchase(summary, x, repeat_value)
    table["expected_avg_value"] = value
    table["expected_value_12m"] = (
        table["expected_purchases_12m"] * table["expected_avg_value"]
    )
    if not np.all(np.isfinite(table["expected_value_12m"])):
        raise clv.FitError("non-finite expected value; the CLV fit is degenerate")

    # rank 1 = highest expected value; ties broken by customer_id (the order of
    # the rows, so a stable sort)
    order = np.argsort(-table["expected_value_12m"].to_numpy(), kind="stable")
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
    method = GAMMA_GAMMA_METHOD if gamma_gamma else OWN_VALUE_METHOD
    return ClvResult(table, bgnbd, gamma_gamma, correlation, method, reason)


def _value_per_purchase(
    summary: pd.DataFrame, x: np.ndarray, repeat_value: np.ndarray
) -> tuple[clv.GammaGammaParams | None, np.ndarray, str | None]:
    """Gamma-Gamma's expected value per purchase; when it cannot be fitted (too
    few repeat buyers, no finite population mean), each customer's own average
    value per purchase day, and why."""
    repeat_buyers = int(np.sum((x > 0) & (repeat_value > 0)))
    try:
        if repeat_buyers < MIN_GAMMA_GAMMA:
            raise Skip(
                f"Gamma-Gamma needs at least {MIN_GAMMA_GAMMA} customers with "
                f"repeat purchases, there are {repeat_buyers}"
            )
        params = clv.fit_gamma_gamma(x, repeat_value)
        if params.q <= 1:
            raise Skip(
                f"Gamma-Gamma fitted q = {params.q:.3g} <= 1: the mean purchase "
                "value of the population is not finite"
            )
        value = clv.expected_average_value(
            params,
            np.where(repeat_value > 0, x, 0),
            np.where(repeat_value > 0, repeat_value, 0.0),
        )
        if not np.all(np.isfinite(value)) or np.any(value < 0):
            raise Skip("Gamma-Gamma gives non-finite or negative purchase values")
        return params, value, None
    except (Skip, clv.FitError, ValueError, ArithmeticError) as exc:
        own = summary["revenue"].to_numpy(float) / (x + 1)
        return None, np.maximum(own, 0.0), str(exc)


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
    """`calibration_from_summary` on purchase days (customer_id, order_date,
    orders, revenue) rather than on the summary read from the marts."""
    cutoff = as_of - timedelta(days=holdout_days)
    summary = summarise(days, as_of, cutoff)
    return calibration_from_summary(summary, as_of, holdout_days=holdout_days)


def calibration_from_summary(
    summary: pd.DataFrame, as_of: date, *, holdout_days: int = HORIZON_DAYS
) -> Calibration:
    """Fit BG/NBD on the purchases up to `as_of - holdout_days`, predict the
    purchase days of the hold-out period (the rest, up to `as_of`) for the
    customers who had bought by then, and compare with what they did, by number
    of repeat purchases in the calibration period (0, 1, ..., 6, 7+).

    `summary` holds, per customer, calibration_repeat_purchases (-1: first
    purchase in the hold-out), calibration_span_days, holdout_purchases and
    customer_age_days (as of `as_of`)."""
    cutoff = as_of - timedelta(days=holdout_days)
    known = summary["calibration_repeat_purchases"].to_numpy() >= 0
    if not known.any():
        raise Skip(
            f"no sales before the hold-out period (from {cutoff + timedelta(1)}): "
            f"the check needs more than {holdout_days} days of history"
        )
    x = summary["calibration_repeat_purchases"].to_numpy(float)[known]
    t_x = weeks(summary["calibration_span_days"])[known]
    # age at the cutoff: the hold-out period is the end of everyone's age
    big_t = weeks(summary["customer_age_days"] - holdout_days)[known]
    check_customers(x, f"The hold-out check (sales up to {cutoff})")
    params = clv.fit_bgnbd(x, t_x, big_t)
    predicted = clv.expected_purchases(
        params, holdout_days / DAYS_PER_WEEK, x, t_x, big_t
    )
    if not np.all(np.isfinite(predicted)):
        raise clv.FitError(
            "non-finite expected purchases: the BG/NBD fit is degenerate"
        )
    actual = summary["holdout_purchases"].to_numpy(float)[known]
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
        # no purchases in the hold-out: a relative error is undefined
        "error_pct": 100.0 * (predicted - actual) / actual if actual else None,
    }
