"""Import one flat export (one row per order line, the customer's and product's
columns repeated on every line) through a YAML mapping: the lines are split into
the contract's files (customers, products, orders, order_items; regions and
channels when mapped), customers and products merged by id, and the files loaded
by `loader.load` like any directory.

Modules: `mapping` (the YAML, checked before any line is read), `source` (the
export's header and records), `values` (one value into the contract's form),
`split` (lines into tables, merged and keyed), `batch` (the export's own
raw.load_batches row, the lines rejected before loading kept in
raw.load_rejects) and `run` (the import as a whole).
Bundled mappings live in `mappings/` (`ecom import FILE --mapping shopify`).
"""

from loader.imports.mapping import Mapping, bundled_mappings, load_mapping
from loader.imports.run import ImportResult, import_file, split_file
from loader.imports.source import Reject

__all__ = [
    "ImportResult",
    "Mapping",
    "Reject",
    "bundled_mappings",
    "import_file",
    "load_mapping",
    "split_file",
]
