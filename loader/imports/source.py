"""Reading the flat export: its header checked against the mapping, then its
records one at a time, with the line each starts on. Problems with the file as
a whole are one-line EcomErrors; a record with the wrong number of fields is a
Reject.

The bytes are hashed as they are read (the checksum the import's batch
records), and the original text of rejected records is read again from the
file, which must still have that checksum."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
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

    @property
    def reason(self) -> str:
        """The problem, and the line's own value in double quotes (the Data
        quality marts group reasons with the quoted part left out)."""
        return f'{self.problem}: "{self.detail}"' if self.detail else self.problem

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class ExportFile:
    """The export as read: its name, checksum (BLAKE2b-256, like the loader's)
    and size in bytes."""

    path: Path
    checksum: str
    size: int


@dataclass
class SourceLine:
    line: int
    values: dict[str, str]


class ExportLines:
    """The export's records one at a time, in file order: a SourceLine keyed by
    header name, or a Reject for a record that does not fit the header (blank
    lines are skipped). Nothing is kept: the file is read as it is iterated, and
    `export` (checksum and size) is set once it has been read to its end."""

    def __init__(self, path: Path, mapping: Mapping) -> None:
        if not path.is_file():
            raise EcomError(f"{path}: no such file")
        self.path, self.mapping = path, mapping
        self.export: ExportFile | None = None

    def __iter__(self) -> Iterator[SourceLine | Reject]:
        path, mapping, records = self.path, self.mapping, 0
        try:
            with _hashed_text(path, mapping.encoding) as (file, hashed):
                reader = csv.reader(file, delimiter=mapping.delimiter, strict=True)
                header = _header(reader, path, mapping)
                start = reader.line_num + 1
                for line, fields in _records(reader, path, start):
                    if not any(f.strip() for f in fields):
                        continue  # a blank line is not a record
                    records += 1
                    if len(fields) != len(header):
                        yield Reject(
                            line,
                            "wrong number of fields",
                            f"{len(fields)} where the header has {len(header)}",
                        )
                    else:
                        yield SourceLine(line, dict(zip(header, fields, strict=True)))
        except UnicodeDecodeError:
            raise EcomError(
                f"{path.name}: not valid {mapping.encoding} (near line "
                f"{records + 2}); set file.encoding in the mapping"
            ) from None
        self.export = ExportFile(path, hashed.checksum, hashed.size)


def original_records(
    export: ExportFile, mapping: Mapping, line_numbers: set[int]
) -> dict[int, str]:
    """The text of the records starting on these lines, as in the file (a
    multi-line record whole, without its final line break); an EcomError when
    the file is no longer the one that was read."""
    found: dict[int, str] = {}
    name = export.path.name
    try:
        with _hashed_text(export.path, mapping.encoding) as (file, hashed):
            tap = _LineTap(file)
            reader = csv.reader(tap, delimiter=mapping.delimiter, strict=True)
            next(reader, None)  # the header
            start = reader.line_num + 1
            tap.taken.clear()
            for line, _fields in _records(reader, export.path, start):
                if line in line_numbers:
                    found[line] = _without_line_break("".join(tap.taken))
                tap.taken.clear()
    except (OSError, UnicodeDecodeError, EcomError):
        hashed = None
    unchanged = hashed is not None and (hashed.checksum, hashed.size) == (
        export.checksum,
        export.size,
    )
    if not unchanged or line_numbers - found.keys():
        raise EcomError(
            f"{name}: the file changed while it was imported; nothing was loaded"
        )
    return found


def _without_line_break(text: str) -> str:
    return text.removesuffix("\n").removesuffix("\r")


class _LineTap:
    """The file's lines for the CSV reader, each also kept in `taken`."""

    def __init__(self, file) -> None:
        self._file, self.taken = file, []

    def __iter__(self) -> _LineTap:
        return self

    def __next__(self) -> str:
        line = next(self._file)
        self.taken.append(line)
        return line


class _HashingRaw(io.RawIOBase):
    """A binary file whose bytes also go into a digest as they are read."""

    def __init__(self, file) -> None:
        self._file, self._digest, self.size = file, hashlib.blake2b(digest_size=32), 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._file.readinto(buffer)
        if n:
            self._digest.update(memoryview(buffer)[:n])
            self.size += n
        return n

    @property
    def checksum(self) -> str:
        return self._digest.hexdigest()


@contextmanager
def _hashed_text(
    path: Path, encoding: str
) -> Iterator[tuple[io.TextIOWrapper, _HashingRaw]]:
    """The file as text (line endings kept, for the CSV reader), hashed to its
    end when the block finishes."""
    with path.open("rb") as binary:
        hashed = _HashingRaw(binary)
        text = io.TextIOWrapper(io.BufferedReader(hashed), encoding, newline="")
        yield text, hashed
        while hashed.read(1 << 20):  # what the reader left unread
            pass


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
