"""The CSV files of a load: which table each feeds, their headers and checksums,
and the check that every table gets its rows."""

from __future__ import annotations

import codecs
import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from core.errors import EcomError
from loader.load.catalog import TABLES, TableSpec

COPY_CHUNK_BYTES = 1 << 20
HEADER_SAMPLE_BYTES = 64 << 10


@dataclass
class SourceFile:
    table: str
    path: Path
    columns: list[str]  # header order
    header_bytes: int  # offset of the first data byte


def discover(data_dir: Path) -> list[Path]:
    """The CSV files of a directory, checked for names, in load order."""
    if not data_dir.is_dir():
        raise EcomError(f"{data_dir}: no such directory")
    found: dict[str, list[Path]] = {t: [] for t in TABLES}
    for path in sorted(data_dir.glob("*.csv")):
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
    end = sample.find(b"\n")
    if end < 0 and len(sample) == HEADER_SAMPLE_BYTES:
        raise EcomError(f"{name}: header row is longer than 64 KiB")
    raw_header = sample[bom : end if end >= 0 else len(sample)]
    try:
        header_text = raw_header.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        raise EcomError(f"{name}: header row is not valid UTF-8") from None
    columns = [c.strip().lower() for c in next(csv.reader([header_text]))]
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
    header_bytes = bom + (end + 1 if end >= 0 else len(sample))
    return SourceFile(spec.name, path, columns, header_bytes)


def file_checksum(path: Path) -> str:
    """BLAKE2b-256 of the file: as strong as SHA-256, twice as fast without SHA-NI."""
    with path.open("rb") as f:
        return hashlib.file_digest(
            f, lambda: hashlib.blake2b(digest_size=32)
        ).hexdigest()


def _check_required_tables(
    conn: psycopg.Connection, sources: list[SourceFile], replace: bool
) -> None:
    """Every table needs a file, unless raw already holds its rows."""
    present = {s.table for s in sources}
    for table in TABLES:
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
