"""The CSV files of a load: which table each feeds, their headers and checksums,
the reads that prove a load took the bytes it recorded, and the check that every
table gets its rows."""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import psycopg
from psycopg import sql

from core.errors import EcomError
from loader.load.catalog import TABLES, TableSpec

COPY_CHUNK_BYTES = 1 << 20
REQUIRED_TABLES = ("products", "orders", "order_items")
HEADER_SAMPLE_BYTES = 64 << 10


@dataclass
class SourceFile:
    table: str
    path: Path
    columns: list[str]  # header order
    header_bytes: int  # offset of the first data byte
    header: bytes = b""  # the bytes before it (BOM and header row), as read
    checksum: str = ""  # of the whole file, taken just before its load
    size: int = 0  # bytes that checksum covers


def _digest():
    return hashlib.blake2b(digest_size=32)


def discover(data_dir: Path) -> list[Path]:
    """The CSV files of a directory, checked for names, in load order."""
    if not data_dir.is_dir():
        raise EcomError(f"{data_dir}: no such directory")
    found: dict[str, list[Path]] = {t: [] for t in TABLES}
    for path in sorted(data_dir.glob("*.csv")):
        _check_inside(path, data_dir)
        table = path.stem.split("__", 1)[0]
        if table not in found:
            raise EcomError(
                f"{path.name}: unknown table '{table}' "
                f"(expected <table>.csv or <table>__<batch>.csv, table one of "
                f"{', '.join(TABLES)})"
            )
        found[table].append(path)
    ordered = []
    for table in TABLES:
        # the base file first, then extra batches in name order
        ordered += sorted(found[table], key=lambda p: (p.stem != table, p.name))
    if not ordered:
        raise EcomError(f"{data_dir}: no CSV files found")
    return ordered


def _check_inside(path: Path, data_dir: Path) -> None:
    """A file of the load is a regular file of the directory: a link to a file
    elsewhere is refused before anything is read from it, so no message ever
    shows a line of a file outside the directory."""
    target = path.resolve()
    if not target.is_relative_to(data_dir.resolve()):
        raise EcomError(
            f"{path.name}: is a link to a file outside the directory; copy the "
            "file into the directory instead"
        )
    if not target.is_file():
        raise EcomError(f"{path.name}: not a regular file")


def read_header(path: Path, spec: TableSpec) -> SourceFile:
    """Check a file's header against its table; one-line errors on any problem."""
    with path.open("rb") as f:
        sample = f.read(HEADER_SAMPLE_BYTES)
    name = path.name
    if not sample:
        raise EcomError(f"{name}: file is empty (expected a header row)")
    if (
        sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        or b"\x00" in (sample[:200])
    ):
        raise EcomError(
            f"{name}: file is not UTF-8 (looks like UTF-16); save it as UTF-8"
        )
    bom = len(codecs.BOM_UTF8) if sample.startswith(codecs.BOM_UTF8) else 0
    end = sample.find(b"\n")  # an index into the sample, BOM included
    header_bytes = end + 1 if end >= 0 else len(sample)
    raw_header = sample[bom:header_bytes].removesuffix(b"\n").removesuffix(b"\r")
    if b"\r" in raw_header:
        raise EcomError(
            f"{name}: lines end with CR only (an old Mac format); save the file "
            "with LF or CRLF line endings"
        )
    if end < 0 and len(sample) == HEADER_SAMPLE_BYTES:
        raise EcomError(f"{name}: header row is longer than 64 KiB")
    try:
        header_text = raw_header.decode("utf-8")
    except UnicodeDecodeError:
        raise EcomError(f"{name}: header row is not valid UTF-8") from None
    try:
        fields = next(csv.reader([header_text], strict=True), [])
    except csv.Error as exc:
        raise EcomError(f"{name}: header row is not valid CSV ({exc})") from None
    columns = [c.strip().lower() for c in fields]
    if len(columns) == 1 and spec.column_names and len(spec.column_names) > 1:
        for delimiter in (";", "\t", "|"):
            if delimiter in header_text:
                shown = "tab" if delimiter == "\t" else f"'{delimiter}'"
                raise EcomError(
                    f"{name}: wrong delimiter {shown} in the header (expected ',')"
                )
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise EcomError(
            f"{name}: duplicate column(s) in header: {', '.join(duplicates)}"
        )
    unknown = [c for c in columns if c not in spec.column_names]
    if unknown:
        raise EcomError(
            f"{name}: unknown column(s) {', '.join(unknown)} for table {spec.name}"
        )
    missing = [c for c in spec.required if c not in columns]
    if missing:
        raise EcomError(f"{name}: missing required column(s): {', '.join(missing)}")
    return SourceFile(spec.name, path, columns, header_bytes, sample[:header_bytes])


def file_checksum(path: Path) -> str:
    """BLAKE2b-256 of the file: as strong as SHA-256, twice as fast without SHA-NI."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, _digest).hexdigest()


def take_checksum(source: SourceFile) -> None:
    """Record the file's checksum and size, from one read of it."""
    digest = _digest()
    size = 0
    with source.path.open("rb") as f:
        while chunk := f.read(COPY_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    source.checksum, source.size = digest.hexdigest(), size


class _HashingReader:
    """A file's reads that also go into a digest."""

    def __init__(self, f: BinaryIO, digest) -> None:
        self._f, self._digest = f, digest

    def read(self, n: int) -> bytes:
        data = self._f.read(n)
        self._digest.update(data)
        return data

    def readlines(self, hint: int) -> list[bytes]:
        lines = self._f.readlines(hint)
        self._digest.update(b"".join(lines))
        return lines


@contextmanager
def open_records(source: SourceFile) -> Iterator[_HashingReader]:
    """The file opened at its first record, for one read to the end.

    The header read before and the bytes read here must be the file whose
    checksum the batch records: a file changed since (or while it is read) is
    refused, so what is loaded is always what is recorded.
    """
    digest = hashlib.blake2b(source.header, digest_size=32)
    with source.path.open("rb") as f:
        f.seek(source.header_bytes)
        yield _HashingReader(f, digest)
        while chunk := f.read(COPY_CHUNK_BYTES):  # what the reader left
            digest.update(chunk)
    if digest.hexdigest() != source.checksum:
        raise EcomError(
            f"{source.path.name}: file changed while it was being loaded; nothing "
            "of it was written (load it again once it no longer changes)"
        )


def _check_required_tables(
    conn: psycopg.Connection, sources: list[SourceFile], replace: bool
) -> None:
    """The tables an order line cannot exist without need a file, unless raw
    already holds their rows; the others (regions, channels, customers,
    promotions) are optional."""
    present = {s.table for s in sources}
    for table in REQUIRED_TABLES:
        if table in present:
            continue
        has_rows = conn.execute(
            sql.SQL("select exists (select 1 from {})").format(
                sql.Identifier("raw", table)
            )
        ).fetchone()[0]
        if replace or not has_rows:
            raise EcomError(
                f"missing file: {table}.csv (raw.{table} is empty and nothing in the "
                "directory loads it)"
            )
