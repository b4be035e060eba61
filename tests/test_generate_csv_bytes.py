"""The vectorised CSV formatting agrees with Python's own for any value."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from loader.generate import csv_bytes


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 10**15), min_size=1, max_size=50))
def test_integer_and_money_formatting(values):
    arr = np.asarray(values, dtype=np.int64)
    digits = [csv_bytes.row_bytes(row[None, :]) for row in csv_bytes.digits(arr)]
    assert digits == [str(v).encode() for v in values]
    money = [csv_bytes.row_bytes(row[None, :]) for row in csv_bytes.money(arr)]
    assert money == [f"{v // 100}.{v % 100:02d}".encode() for v in values]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-(10**9), 4 * 10**9), min_size=1, max_size=50))
def test_timestamp_formatting(values):
    got = [
        csv_bytes.row_bytes(row[None, :]).decode()
        for row in csv_bytes.timestamp(np.asarray(values))
    ]
    want = [
        (datetime(1970, 1, 1) + pd.Timedelta(seconds=v)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for v in values
    ]
    assert got == want
