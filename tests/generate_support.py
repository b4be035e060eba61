"""What the generator's tests share: the raw tables, value patterns, and readers
that turn the generated CSV files into pandas frames and numbers.

No database needed: the CSV files are checked with pandas against the raw DDL.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from core.schema import SQL_DIR

ROOT = Path(__file__).resolve().parent.parent
DDL = SQL_DIR / "001_raw_tables.sql"
TABLES = (
    "regions",
    "channels",
    "promotions",
    "customers",
    "products",
    "orders",
    "order_items",
)
TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
MONEY = re.compile(r"^\d+\.\d{2}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
START, END = date(2023, 1, 1), date(2025, 12, 31)


def ddl_columns() -> dict[str, list[str]]:
    """Column names per raw table, in DDL order, parsed from the SQL file."""
    out: dict[str, list[str]] = {}
    table = None
    for line in DDL.read_text().splitlines():
        m = re.match(r"create table if not exists raw\.(\w+) \(", line)
        if m:
            table = m.group(1)
            out[table] = []
            continue
        if table and line.startswith(")"):
            table = None
            continue
        m = re.match(
            r"^    (\w+) (integer|bigint|varchar|char|numeric|boolean|date|timestamptz"
            r"|text)",
            line,
        )
        if table and m:
            out[table].append(m.group(1))
    return out


def read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def cents(s: pd.Series) -> pd.Series:
    assert s.str.match(MONEY).all(), s[~s.str.match(MONEY)].head()
    return s.str.replace(".", "", regex=False).astype(np.int64)


def ts(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, format="%Y-%m-%dT%H:%M:%SZ", utc=True)
