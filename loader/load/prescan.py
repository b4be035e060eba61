"""The Python pre-scan of the sifted path: a file's records as CSV lines for the
landing table (line number, reason, record, fields), setting aside the records
with the wrong number of fields, bad quoting or bad encoding."""

from __future__ import annotations

import csv
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from loader.load.files import COPY_CHUNK_BYTES, SourceFile, open_records

# A record's line number and bytes -> its landing row, or None to leave it out.
_RowMaker = Callable[[int, bytes], bytes | None]


def _csv_field(value: str) -> bytes:
    return ('"' + value.replace('"', '""') + '"').encode("utf-8")


@dataclass
class _Position:
    """Where the walk through a file is: the last line read, and the lines of a
    record whose quotes are still open."""

    line_no: int = 1  # the header is line 1
    pending: list[bytes] = field(default_factory=list)
    quotes: int = 0
    first_line: int = 0


def _landing_rows(
    source: SourceFile,
    on_bytes: Callable[[int], None] | None,
    *,
    sent: array | None = None,
    only: list[int] | None = None,
) -> Iterator[bytes]:
    """CSV lines for the landing table: line number, reason, record, fields.

    Reads blocks of lines. In a block with no NUL byte and no quoted field going
    on to the next line (the usual case), every line is passed on with one list
    comprehension, and only the few lines with quotes, invalid UTF-8 or the wrong
    number of commas are parsed as CSV; other blocks are walked record by record.
    A quoted field may hold newlines, so a record can span lines (and blocks); it
    is numbered by its first line (the header is line 1).

    `sent` collects the line numbers of the rows given out; `only` (sorted line
    numbers) gives out just those records.
    """
    n = len(source.columns)
    wanted = set(only) if only is not None else None

    def landing_row(first: int, record: bytes) -> bytes | None:
        return _landing_row(first, record, n, wanted=wanted, sent=sent)

    at = _Position()
    with open_records(source) as f:
        while lines := f.readlines(COPY_CHUNK_BYTES):
            block = b"".join(lines)
            if on_bytes:
                on_bytes(len(block))
            quoted = _quoted_lines(lines, block)
            if not at.pending and quoted is not None and b"\x00" not in block:
                # Every quote closes on its line: one line is one record.
                first = at.line_no + 1
                at.line_no += len(lines)
                if only is not None:
                    yield _picked_rows(lines, first, only, landing_row)
                else:
                    yield _block_rows(
                        lines, block, first, quoted, n - 1, sent, landing_row
                    )
                continue
            yield _walked_rows(lines, at, landing_row)
        if at.pending:
            row = landing_row(at.first_line, b"".join(at.pending))
            if row is not None:
                yield row


def _landing_row(
    first: int,
    record: bytes,
    n_columns: int,
    *,
    wanted: set[int] | None,
    sent: array | None,
) -> bytes | None:
    """The landing row of the record starting on line `first`: the record as is
    when it splits into its fields, else its problem and its text (shown
    readable), with empty fields."""
    if not record.strip():
        return None  # blank line: not a record
    if wanted is not None and first not in wanted:
        return None
    if sent is not None:
        sent.append(first)
    problem = _shape_problem(record, n_columns)
    if problem is None:
        # every row ends in LF: COPY takes the line ending of its first row
        return b"%d,,,%s\n" % (first, _body(record))
    shown = record.rstrip(b"\r\n").decode("utf-8", "backslashreplace")
    shown = shown.replace("\x00", "\\x00")
    return b"%d,%s,%s%s\n" % (
        first,
        _csv_field(problem),
        _csv_field(shown),
        b"," * n_columns,
    )


def _picked_rows(
    lines: list[bytes], first: int, only: list[int], landing_row: _RowMaker
) -> bytes:
    """The rows of the `only` lines of a block where one line is one record."""
    last = first + len(lines) - 1
    picked = only[bisect_left(only, first) : bisect_right(only, last)]
    return b"".join(landing_row(i, lines[i - first]) or b"" for i in picked)


def _block_rows(
    lines: list[bytes],
    block: bytes,
    first: int,
    quoted: set[int],
    commas: int,
    sent: array | None,
    landing_row: _RowMaker,
) -> bytes:
    """The rows of a block where one line is one record."""
    stop = first + len(lines)
    # Take every line as good, then redo the few that are not.
    rows = [b"%d,,,%s" % (i, line) for i, line in enumerate(lines, first)]
    bad = {j for j, line in enumerate(lines) if line.count(b",") != commas}
    bad |= quoted  # its commas may be inside quotes: parsed as CSV
    if not block.isascii():
        bad |= {
            j
            for j, line in enumerate(lines)
            if not line.isascii() and not _is_utf8(line)
        }
    if not lines[-1].endswith(b"\n"):
        bad.add(len(lines) - 1)
    if b"\r" in block:
        # CRLF becomes LF (COPY wants one line ending); a CR elsewhere is a
        # line ending to COPY: landing_row sets such a record aside
        for j, line in enumerate(lines):
            body = _body(line)
            if b"\r" in body:
                bad.add(j)
            elif len(body) < len(line) - 1:
                rows[j] = b"%d,,,%s\n" % (first + j, body)
    if sent is not None:  # the bad ones are added by landing_row
        sent.extend(
            range(first, stop)
            if not bad
            else (i for i in range(first, stop) if i - first not in bad)
        )
    for j in bad:
        rows[j] = landing_row(first + j, lines[j]) or b""
    return b"".join(rows)


def _walked_rows(lines: list[bytes], at: _Position, landing_row: _RowMaker) -> bytes:
    """The rows of a block walked record by record: a quoted field may hold
    newlines, so a record goes on until its quotes close."""
    out = []
    for line in lines:
        at.line_no += 1
        if not at.pending:
            at.first_line = at.line_no
        at.pending.append(line)
        at.quotes += line.count(b'"')
        if at.quotes % 2:  # inside a quoted field: the record goes on
            continue
        row = landing_row(at.first_line, b"".join(at.pending))
        at.pending, at.quotes = [], 0
        if row is not None:
            out.append(row)
    return b"".join(out)


def _quoted_lines(lines: list[bytes], block: bytes) -> set[int] | None:
    """Indexes of the lines with quotes, or None when a quoted field goes on to
    the next line (an odd number of quotes on a line)."""
    if b'"' not in block:
        return set()
    quoted = {j for j, line in enumerate(lines) if b'"' in line}
    if any(lines[j].count(b'"') % 2 for j in quoted):
        return None
    return quoted


def _is_utf8(block: bytes) -> bool:
    try:
        block.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _body(record: bytes) -> bytes:
    """A record without its line ending (LF or CRLF)."""
    if record.endswith(b"\r\n"):
        return record[:-2]
    return record.removesuffix(b"\n")


def _shape_problem(record: bytes, n_columns: int) -> str | None:
    """Why a record can't even be split into fields, or None."""
    if b"\x00" in record:
        return "record contains a NUL byte"
    try:
        text = _body(record).decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"invalid UTF-8 (byte 0x{record[exc.start]:02x} at position {exc.start})"
    if b'"' in record:
        try:
            fields = next(csv.reader([text], strict=True))
        except (csv.Error, StopIteration):
            return "malformed quoting (or a carriage return outside quotes)"
        count = len(fields)
    elif "\r" in text:
        return "carriage return outside quotes (quote the field)"
    else:
        count = record.count(b",") + 1
    if count != n_columns:
        return f"wrong number of fields: expected {n_columns}, found {count}"
    return None
