"""Reading the flat export: its header checked against the mapping, then its
records with the line each starts on. Problems with the file as a whole are
one-line EcomErrors; a record with the wrong number of fields is a Reject."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.errors import EcomError
from loader.imports.mapping import Mapping


@dataclass(frozen=True)
class Reject:
    """A source line that is not imported: `problem` is what is wrong (the same
    for every line with that kind of problem), `detail` the line's own value."""

    line: int
    problem: str
    detail: str = ""

    def __str__(self) -> str:
        detail = f": {self.detail}" if self.detail else ""
        return f"line {self.line}: {self.problem}{detail}"


@dataclass
class SourceLine:
    line: int
    values: dict[str, str]


def read_lines(path: Path, mapping: Mapping) -> tuple[list[SourceLine], list[Reject]]:
    """Every record of the export, keyed by header name, and the records that
    do not fit the header."""
    if not path.is_file():
        raise EcomError(f"{path}: no such file")
    lines: list[SourceLine] = []
    rejects: list[Reject] = []
    try:
        with path.open(encoding=mapping.encoding, newline="") as file:
            reader = csv.reader(file, delimiter=mapping.delimiter, strict=True)
            header = _header(reader, path, mapping)
            start = reader.line_num + 1
            for record in _records(reader, path, start):
                line, fields = record
                if not any(f.strip() for f in fields):
                    pass  # a blank line is not a record
                elif len(fields) != len(header):
                    rejects.append(
                        Reject(
                            line,
                            "wrong number of fields",
                            f"{len(fields)} where the header has {len(header)}",
                        )
                    )
                else:
                    lines.append(
                        SourceLine(line, dict(zip(header, fields, strict=True)))
                    )
    except UnicodeDecodeError:
        raise EcomError(
            f"{path.name}: not valid {mapping.encoding} (near line "
            f"{len(lines) + len(rejects) + 2}); set file.encoding in the mapping"
        ) from None
    return lines, rejects


def _records(reader, path: Path, start: int) -> Iterator[tuple[int, list[str]]]:
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise EcomError(f"{path.name}: line {start}: {exc}") from None
        yield start, fields
        start = reader.line_num + 1


def _header(reader, path: Path, mapping: Mapping) -> list[str]:
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise EcomError(f"{path.name}: the file is empty") from None
    except csv.Error as exc:
        raise EcomError(f"{path.name}: line 1: {exc}") from None
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise EcomError(f"{path.name}: column '{name}' appears twice in the header")
        seen.add(name)
    missing = sorted(mapping.source_columns - seen)
    if missing:
        hint = (
            f" (is file.delimiter '{mapping.delimiter}' right?)"
            if len(header) == 1
            else ""
        )
        raise EcomError(
            f"{path.name}: mapping {mapping.name} reads column '{missing[0]}', which "
            f"the header does not have{hint}"
        )
    return header
