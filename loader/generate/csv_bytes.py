"""CSV text built with numpy: numbers, money, dates and strings as byte matrices.

Rows are built as uint8 matrices: every field is a fixed-width block, padded with
NUL bytes that are removed from the final buffer in one pass (UTF-8 text never
contains NUL). That keeps the formatting vectorised end to end.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import numpy as np

from loader.generate.calendar_curves import DAY, civil

_T2 = np.frombuffer("".join(f"{i:02d}" for i in range(100)).encode(), np.uint8)
_T2 = _T2.reshape(100, 2)  # "00".."99"


def digits(values: np.ndarray, width: int | None = None) -> np.ndarray:
    """Non-negative integers as right-aligned ASCII digits (leading NULs)."""
    v = np.asarray(values, dtype=np.int64)
    if width is None:
        width = len(str(int(v.max()))) if v.size else 1
    out = np.empty((v.size, width), np.uint8)
    rem = v.copy()
    for j in range(width - 1, -1, -1):
        rem, digit = np.divmod(rem, 10)
        out[:, j] = digit
    out += 48
    if width > 1:
        limits = 10 ** np.arange(width - 1, 0, -1, dtype=np.int64)
        out[:, : width - 1][v[:, None] < limits[None, :]] = 0
    return out


def money(cents: np.ndarray) -> np.ndarray:
    """Non-negative cents as `123.45`."""
    c = np.asarray(cents, dtype=np.int64)
    whole, frac = np.divmod(c, 100)
    whole = digits(whole)
    out = np.empty((c.size, whole.shape[1] + 3), np.uint8)
    out[:, : whole.shape[1]] = whole
    out[:, -3] = ord(".")
    out[:, -2:] = _T2[frac]
    return out


def _date_table(days: np.ndarray) -> np.ndarray:
    """Distinct days as `YYYY-MM-DD` rows."""
    y, m, d = civil(days)
    out = np.empty((y.size, 10), np.uint8)
    out[:, 0:4] = digits(y, 4)
    out[:, 4] = out[:, 7] = ord("-")
    out[:, 5:7] = _T2[m]
    out[:, 8:10] = _T2[d]
    return out


def date_bytes(days: np.ndarray) -> np.ndarray:
    """Days since the epoch as `YYYY-MM-DD` (a lookup over the days' span)."""
    days = np.asarray(days, dtype=np.int64)
    if days.size == 0:
        return np.empty((0, 10), np.uint8)
    lo, hi = int(days.min()), int(days.max())
    if hi - lo > 4 * days.size:
        return _date_table(days)
    return _date_table(np.arange(lo, hi + 1))[days - lo]


_CLOCK = np.empty((DAY, 10), np.uint8)  # "THH:MM:SSZ" for every second of a day
_sod = np.arange(DAY)
_CLOCK[:, 0] = ord("T")
_CLOCK[:, 1:3] = _T2[_sod // 3600]
_CLOCK[:, 3] = _CLOCK[:, 6] = ord(":")
_CLOCK[:, 4:6] = _T2[_sod // 60 % 60]
_CLOCK[:, 7:9] = _T2[_sod % 60]
_CLOCK[:, 9] = ord("Z")
del _sod


def timestamp(seconds: np.ndarray) -> np.ndarray:
    """Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`."""
    days, sod = np.divmod(np.asarray(seconds, dtype=np.int64), DAY)
    out = np.empty((days.size, 20), np.uint8)
    out[:, :10] = date_bytes(days)
    out[:, 10:] = _CLOCK[sod]
    return out


def csv_field(value: str | bytes) -> bytes:
    """One field, RFC 4180 quoted only when needed."""
    raw = value.encode("utf-8") if isinstance(value, str) else value
    if any(ch in raw for ch in b',"\r\n'):
        return b'"' + raw.replace(b'"', b'""') + b'"'
    return raw


def text_pool(values: Iterable[str]) -> np.ndarray:
    """Strings as a NUL-padded matrix of their quoted UTF-8 bytes."""
    encoded = [csv_field(v) for v in values]
    width = max([len(e) for e in encoded] + [1])
    return np.frombuffer(
        b"".join(e.ljust(width, b"\0") for e in encoded), np.uint8
    ).reshape(len(encoded), width)


@lru_cache(maxsize=64)
def const_pool(values: tuple[str, ...]) -> np.ndarray:
    """`text_pool` of a constant tuple, built once."""
    return text_pool(values)


def hcat(*parts: np.ndarray) -> np.ndarray:
    """Field matrices side by side (one field made of several parts)."""
    return np.concatenate(parts, axis=1)


def blank_where(col: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Empty the field (NULL in the CSV) on the masked rows, in place."""
    col[mask] = 0
    return col


def csv_rows(cols: list[np.ndarray]) -> np.ndarray:
    """Join field matrices with commas and a newline into one row matrix."""
    n = cols[0].shape[0]
    width = sum(c.shape[1] for c in cols) + len(cols)
    out = np.empty((n, width), np.uint8)
    pos = 0
    for i, c in enumerate(cols):
        out[:, pos : pos + c.shape[1]] = c
        pos += c.shape[1]
        out[:, pos] = 10 if i == len(cols) - 1 else 44
        pos += 1
    return out


def row_bytes(mat: np.ndarray) -> bytes:
    """The CSV text of a row matrix: its bytes without the NUL padding."""
    return mat.tobytes().replace(b"\0", b"")


BOOL_TEXT = text_pool(["false", "true"])
