"""One flat export in, the contract's files written to a temporary folder as
the export is read (see split) and loaded by the loader like any directory, the
folder removed afterwards; then the export's own batch, with the lines rejected
before loading (see batch)."""

from __future__ import annotations

import csv
import tempfile
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from core.errors import EcomError
from loader.imports.batch import record_import
from loader.imports.mapping import Mapping, check_timezone
from loader.imports.source import ExportLines, Reject
from loader.imports.split import Split, split_lines, table_columns

DEFAULT_MAX_REJECT_RATE = Decimal("0.1")


@dataclass
class ImportResult:
    lines_read: int
    rejects: list[Reject]
    rows: dict[str, int]  # table -> rows written to its file
    merged: dict[str, int]  # table -> lines merged into an earlier row
    loads: list = field(default_factory=list)  # the loader's FileResults
    batch_id: int | None = None  # the export's raw.load_batches row


def split_file(
    path: Path, mapping: Mapping, folder: Path, timezone: str | None = None
) -> Split:
    """Split the export's lines into the contract's files in `folder`, one
    `<table>.csv` per table the mapping feeds (nothing loaded)."""
    zone = check_timezone(timezone, "--timezone") if timezone else mapping.timezone
    lines = ExportLines(Path(path), mapping)
    with TableFiles(folder, table_columns(mapping)) as files:
        split = split_lines(lines, mapping, ZoneInfo(zone), files.write)
    split.export = lines.export
    return split


def import_file(
    env: dict[str, str],
    path: Path,
    mapping: Mapping,
    *,
    timezone: str | None = None,
    max_reject_rate: float = float(DEFAULT_MAX_REJECT_RATE),
    replace: bool = False,
    **load_options,
) -> ImportResult:
    """Split the export and load its files (`load_options` go to the loader).

    More than `max_reject_rate` of the lines rejected before loading: nothing is
    loaded, and the error names the commonest problems. Once the files have
    loaded, the export's batch records the lines and keeps the rejected ones in
    raw.load_rejects."""
    from loader.load import load_directory

    started_at = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="ecom_import_") as folder:
        split = split_file(Path(path), mapping, Path(folder), timezone)
        check_reject_rate(split, Path(path).name, max_reject_rate)
        result = ImportResult(
            lines_read=split.lines_read,
            rejects=split.rejects,
            rows=dict(split.rows),
            merged=split.merged,
        )
        result.loads = load_directory(
            env,
            Path(folder),
            replace=replace,
            timezone=timezone or mapping.timezone,
            max_reject_rate=max_reject_rate,
            **load_options,
        )
    result.batch_id = record_import(
        env,
        split.export,
        mapping,
        lines_read=split.lines_read,
        rejects=split.rejects,
        started_at=started_at,
        loads=result.loads,
    )
    return result


def check_reject_rate(split: Split, file_name: str, max_rate: float) -> None:
    if not split.lines_read:
        raise EcomError(f"{file_name}: no order lines below the header")
    if len(split.rejects) <= max_rate * split.lines_read:
        return
    by_problem = Counter(r.problem for r in split.rejects)
    examples = {}
    for reject in split.rejects:
        examples.setdefault(reject.problem, reject)
    top = "; ".join(
        f"{count} x {problem} (e.g. {examples[problem]})"
        for problem, count in by_problem.most_common(3)
    )
    raise EcomError(
        f"{file_name}: {len(split.rejects)} of {split.lines_read} lines rejected, "
        f"more than --max-reject-rate {max_rate}; nothing loaded: {top}"
    )


class TableFiles:
    """One `<table>.csv` per table, header = its columns, written row by row
    (a row's missing fields written empty)."""

    def __init__(self, folder: Path, columns: dict[str, tuple[str, ...]]) -> None:
        self._folder, self._columns = folder, columns
        self._files = ExitStack()
        self._writers: dict[str, Any] = {}  # table -> csv writer

    def __enter__(self) -> TableFiles:
        for table, columns in self._columns.items():
            path = self._folder / f"{table}.csv"
            file = self._files.enter_context(
                path.open("w", encoding="utf-8", newline="")
            )
            self._writers[table] = csv.writer(file, lineterminator="\n")
            self._writers[table].writerow(columns)
        return self

    def __exit__(self, *exc_info) -> None:
        self._files.close()

    def write(self, table: str, row: dict[str, str]) -> None:
        self._writers[table].writerow([row.get(c, "") for c in self._columns[table]])
