"""Load a directory of CSV files (the data contract) into the typed `raw` tables.

Each file is loaded in its own transaction, so a file is either fully loaded (good
rows in the table, bad rows in raw.load_rejects, one raw.load_batches row) or not at
all, even if the process is killed half-way; a replace is one transaction for all
the files. What is loaded is the file whose checksum is recorded: the bytes are
hashed as they are read.

Two paths:
- direct: stream the file's bytes into `COPY raw.<table>` inside a savepoint. This is
  as fast as `psql \\copy` and is taken whenever the whole file is valid.
- sifted: when the direct COPY fails (bad row, existing keys to update), roll back to
  the savepoint, stream the file into a text landing table (a light Python pass sets
  aside records with the wrong field count or bad encoding), then validate every row
  in SQL against the table's own constraints, read from the catalog: types, NOT NULL,
  CHECKs, foreign keys and unique keys. Valid rows are upserted, the others go to
  raw.load_rejects with their line number, original record and reason.

Modules, in the order a file goes through them: `catalog` (the raw tables and
their constraints), `files` (discovery, headers, checksums), `batches` (the
raw.load_batches bookkeeping), `direct` (the COPY path), `prescan`, `landing`,
`checks`, `upsert` and `sift` (the sifted path), `raw_table` and `sql_parts`
(helpers both paths share), `directory` (the whole load and its summary).
"""

from loader.load.batches import FileResult
from loader.load.catalog import (
    TABLES,
    Column,
    ForeignKey,
    TableSpec,
    UniqueIndex,
    read_table_spec,
)
from loader.load.directory import (
    LOAD_WORKERS,
    ProgressCallback,
    load_directory,
    money_rows,
    summary_rows,
)
from loader.load.files import (
    COPY_CHUNK_BYTES,
    HEADER_SAMPLE_BYTES,
    SourceFile,
    discover,
    file_checksum,
    read_header,
)

__all__ = [
    "COPY_CHUNK_BYTES",
    "HEADER_SAMPLE_BYTES",
    "LOAD_WORKERS",
    "TABLES",
    "Column",
    "FileResult",
    "ForeignKey",
    "ProgressCallback",
    "SourceFile",
    "TableSpec",
    "UniqueIndex",
    "discover",
    "file_checksum",
    "load_directory",
    "money_rows",
    "read_header",
    "read_table_spec",
    "summary_rows",
]
