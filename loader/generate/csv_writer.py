"""Writing CSV files: a table's file with its injected rows, and a day's files.

Clean rows arrive as byte matrices (see `csv_bytes`); the dirty-row plan decides
where bad rows go between them, and every file counts what it holds.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np

from loader.generate.calendar_curves import from_day_number
from loader.generate.contract import LOAD_ORDER, TABLE_COLUMNS
from loader.generate.csv_bytes import row_bytes
from loader.generate.dirty import DIRTY_KIND_OWNER, DIRTY_KINDS, Dirt


class CsvFile:
    """One CSV file being written: header, clean row blocks, injected rows."""

    def __init__(self, out_dir: Path, name: str, table: str, dirt: Dirt | None):
        self.name = name
        self.table = table
        self.dirt = dirt
        self.fh = (out_dir / name).open("wb")
        self.fh.write(",".join(TABLE_COLUMNS[table]).encode() + b"\n")
        self.line = 1
        self.rows = 0
        self.injected = 0
        self.last: bytes | None = None

    def write(self, mat: np.ndarray) -> None:
        n = mat.shape[0]
        if n == 0:
            return
        plan = self.dirt.plan(self.table, n) if self.dirt else []
        prev = 0
        for pos, kind in plan:
            if pos > prev:
                self._clean(mat[prev:pos])
            self._dirty(kind, row_bytes(mat[pos - 1]))
            prev = pos
        if prev < n:
            self._clean(mat[prev:])
        self.last = row_bytes(mat[n - 1])

    def _clean(self, mat: np.ndarray) -> None:
        self.fh.write(row_bytes(mat))
        self.line += mat.shape[0]
        self.rows += mat.shape[0]

    def _dirty(self, kind: str, source: bytes) -> None:
        assert self.dirt is not None
        fields = next(csv.reader(io.StringIO(source.decode("utf-8").rstrip("\n"))))
        line, key = self.dirt.make(self.table, kind, fields)
        self.fh.write(line)
        self.line += 1
        self.injected += 1
        self.dirt.seen.add(kind)
        self.dirt.injected.append(
            {
                "table": self.table,
                "file": self.name,
                "line": self.line,
                "kind": kind,
                "key": key,
            }
        )

    def close(self, force: bool = False) -> None:
        """Close; with `force`, first add the kinds this table guarantees."""
        if force and self.dirt and self.dirt.rate > 0 and self.last is not None:
            for kind in DIRTY_KINDS:
                if DIRTY_KIND_OWNER[kind] == self.table and kind not in self.dirt.seen:
                    self._dirty(kind, self.last)
        self.fh.close()


class DayFiles:
    """The `<table>__append_<YYYYMMDD>.csv` files of one appended day."""

    def __init__(self, out_dir: Path, day: int, dirt: Dirt):
        self.out_dir = out_dir
        self.stamp = from_day_number(day).strftime("%Y%m%d")
        self.dirt = dirt
        self.files: dict[str, CsvFile] = {}

    def write(self, table: str, mat: np.ndarray) -> None:
        """Add rows; a table's file is only created once it has a row."""
        if mat.shape[0] == 0:
            return
        if table not in self.files:
            name = f"{table}__append_{self.stamp}.csv"
            self.files[table] = CsvFile(self.out_dir, name, table, self.dirt)
        self.files[table].write(mat)

    def close(self, manifest: dict[str, Any]) -> None:
        """Close the files and list them in the manifest, in load order."""
        for table in LOAD_ORDER:
            f = self.files.get(table)
            if f is None:
                continue
            f.close()
            manifest["files"].append(f.name)
            manifest["file_row_counts"][f.name] = f.rows
            manifest["file_injected_counts"][f.name] = f.injected
            manifest["row_counts"][table] += f.rows
