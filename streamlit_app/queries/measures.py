"""Measures derived from query results in pandas: shares of a total, gross
margin ratios and growth rates. Shared by the query modules; no SQL here.
"""

from __future__ import annotations

import pandas as pd


def share(values: pd.Series) -> pd.Series | float:
    """Each value's share of the total (0.0 when the total is 0)."""
    total = values.sum()
    return values / total if total else 0.0


def margin_ratio(frame: pd.DataFrame) -> pd.Series:
    """gross_profit / revenue per row (missing where the revenue is 0)."""
    revenue = frame["revenue"].where(frame["revenue"] != 0)
    return frame["gross_profit"] / revenue


def with_share(frame: pd.DataFrame) -> pd.DataFrame:
    """Add revenue_share (of the frame's total) and margin_ratio to `frame`."""
    frame["revenue_share"] = share(frame["revenue"])
    frame["margin_ratio"] = margin_ratio(frame)
    return frame


def growth(current: pd.Series, previous: pd.Series) -> pd.Series:
    """(current - previous) / previous (missing where previous is 0)."""
    base = previous.where(previous != 0)
    return (current - base) / base
