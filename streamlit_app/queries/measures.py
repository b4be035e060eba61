"""Measures derived from query results in pandas: shares of a total (ratios,
0 to 1), gross margin % (0 to 100, as `gross_margin_pct` in the marts) and growth
rates. Shared by the query modules; no SQL here.
"""

from __future__ import annotations

import pandas as pd


def share(values: pd.Series) -> pd.Series | float:
    """Each value's share of the total (0.0 when the total is 0)."""
    total = values.sum()
    return values / total if total else 0.0


def gross_margin_pct(frame: pd.DataFrame) -> pd.Series:
    """100 * gross_margin / net_revenue per row (missing where the net revenue
    is 0): the marts' definition of gross margin %."""
    net_revenue = frame["net_revenue"].where(frame["net_revenue"] != 0)
    return 100 * frame["gross_margin"] / net_revenue


def with_share(frame: pd.DataFrame) -> pd.DataFrame:
    """Add net_revenue_share (of the frame's total) and gross_margin_pct."""
    frame["net_revenue_share"] = share(frame["net_revenue"])
    frame["gross_margin_pct"] = gross_margin_pct(frame)
    return frame


def growth(current: pd.Series, previous: pd.Series) -> pd.Series:
    """(current - previous) / previous (missing where previous is 0)."""
    base = previous.where(previous != 0)
    return (current - base) / base
