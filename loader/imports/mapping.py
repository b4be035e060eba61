"""An import mapping: how the columns of one flat order-lines export become the
contract's fields, read from YAML and checked before any line is read.

Shape of a mapping file (every key but the tables' is optional):

    description: free text
    file:
      delimiter: ","              # one character
      encoding: utf-8             # any Python codec name; a BOM is skipped
      decimal_separator: "."      # "." or ","
      thousands_separator: ""     # removed from numbers when given
      timestamp_formats: ["%Y-%m-%d %H:%M:%S %z"]   # strptime, first match wins
      timezone: UTC               # for timestamps without an offset
      order_fields_on_first_line_only: false
    cancellations:                # orders that undo a sale (see CANCELLATION_KEYS)
      status: cancelled
      order_id_prefix: C
      negative_quantity: true
    <table>:                      # regions, channels, customers, products,
      <field>: <source column>    # orders, order_items
      <field>: {column: <source column or list, first non-empty wins>,
                values: {<source value>: <contract value>},   # enumerations
                drop_decimal_zero: true}                       # '13085.0' -> '13085'
      <field>: {constant: <value>}

Every problem is an EcomError of one line that names the mapping and the key.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from core import enums
from core.errors import EcomError

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"

# The contract fields an export can feed, per table, in the files' column order.
# order_items.order_id and order_items.product_id come from the line's order and
# product; order_item_id is generated when not mapped.
FIELDS: dict[str, tuple[str, ...]] = {
    "regions": ("region_id", "region_name"),
    "channels": ("channel_id", "channel_name", "channel_type"),
    "customers": (
        "customer_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "city",
        "country_code",
        "region_id",
        "segment",
        "acquisition_channel_id",
        "signup_at",
    ),
    "products": (
        "product_id",
        "sku",
        "product_name",
        "category",
        "subcategory",
        "brand",
        "unit_cost",
        "list_price",
        "stock_quantity",
        "reorder_point",
    ),
    "orders": (
        "order_id",
        "customer_id",
        "channel_id",
        "ship_region_id",
        "ordered_at",
        "status",
        "payment_status",
        "payment_method",
        "shipping_amount",
        "tax_amount",
    ),
    "order_items": (
        "order_item_id",
        "quantity",
        "unit_price",
        "line_amount",
        "discount_amount",
    ),
}
# tables whose fields belong to the order (read once per order), the others to
# the line
ORDER_LEVEL_TABLES = ("regions", "channels", "customers", "orders")

MONEY_FIELDS = frozenset(
    {
        "unit_cost",
        "list_price",
        "shipping_amount",
        "tax_amount",
        "unit_price",
        "line_amount",
        "discount_amount",
    }
)
INTEGER_FIELDS = frozenset({"quantity", "stock_quantity", "reorder_point"})
TIMESTAMP_FIELDS = frozenset({"ordered_at", "signup_at"})
# field -> the seed holding its allowed values
ENUM_FIELDS = {
    "status": "order_statuses",
    "payment_status": "payment_statuses",
    "payment_method": "payment_methods",
    "channel_type": "channel_types",
    "segment": "customer_segments",
}
# (table, field) that refer to another table's id -> (parent table, its id)
PARENTS = {
    ("orders", "customer_id"): ("customers", "customer_id"),
    ("orders", "channel_id"): ("channels", "channel_id"),
    ("orders", "ship_region_id"): ("regions", "region_id"),
    ("customers", "region_id"): ("regions", "region_id"),
    ("customers", "acquisition_channel_id"): ("channels", "channel_id"),
}
TABLE_IDS = {
    "regions": "region_id",
    "channels": "channel_id",
    "customers": "customer_id",
    "products": "product_id",
    "orders": "order_id",
}
FILE_KEYS = (
    "delimiter",
    "encoding",
    "decimal_separator",
    "thousands_separator",
    "timestamp_formats",
    "timezone",
    "order_fields_on_first_line_only",
)
CANCELLATION_KEYS = ("status", "order_id_prefix", "negative_quantity")
FIELD_KEYS = ("column", "constant", "values", "drop_decimal_zero")


@dataclass(frozen=True)
class Field:
    """Where one contract field's value comes from."""

    columns: tuple[str, ...] = ()  # the first non-empty one wins
    constant: str | None = None
    values: dict[str, str] | None = None  # source value -> contract value
    drop_decimal_zero: bool = False


@dataclass(frozen=True)
class Cancellations:
    """Orders that undo a sale: the status they get, and how they are told."""

    status: str
    order_id_prefix: str = ""
    negative_quantity: bool = False


@dataclass(frozen=True)
class Mapping:
    name: str
    tables: dict[str, dict[str, Field]]
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    decimal_separator: str = "."
    thousands_separator: str = ""
    timestamp_formats: tuple[str, ...] = ("%Y-%m-%dT%H:%M:%S%z",)
    timezone: str = "UTC"
    order_fields_on_first_line_only: bool = False
    cancellations: Cancellations | None = None
    description: str = ""
    source_columns: frozenset[str] = field(default=frozenset())


def bundled_mappings() -> list[str]:
    """The names of the mappings shipped with the loader."""
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.yml"))


def load_mapping(name_or_path: str) -> Mapping:
    """A bundled mapping by name (e.g. 'shopify') or a YAML file by path."""
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = MAPPINGS_DIR / f"{name_or_path}.yml"
        if not path.is_file():
            raise EcomError(
                f"mapping '{name_or_path}': no such mapping (bundled: "
                f"{', '.join(bundled_mappings())}; or give a path to a .yml file)"
            )
    if not path.is_file():
        raise EcomError(f"mapping {path}: no such file")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise EcomError(f"mapping {path.name}: not valid YAML{line}") from None
    return parse_mapping(document, path.name)


def parse_mapping(document: object, name: str) -> Mapping:
    """Check a mapping's YAML document; one-line errors that name the key."""
    top = _as_dict(document, name, "the document")
    known = ("description", "file", "cancellations", *FIELDS)
    _no_unknown_keys(top, known, name, "")
    tables = {
        table: _table_fields(top[table], name, table)
        for table in FIELDS
        if top.get(table) is not None
    }
    _check_required(tables, name)
    settings = _file_settings(top.get("file") or {}, name)
    columns = frozenset(
        c for fs in tables.values() for f in fs.values() for c in f.columns
    )
    return Mapping(
        name=name,
        tables=tables,
        cancellations=_cancellations(top.get("cancellations"), name),
        description=str(top.get("description") or ""),
        source_columns=columns,
        **settings,
    )


def _as_dict(value: object, name: str, key: str) -> dict:
    if not isinstance(value, dict):
        raise EcomError(f"mapping {name}: {key} must be a mapping of keys to values")
    return value


def _no_unknown_keys(given: dict, known, name: str, prefix: str) -> None:
    for key in given:
        if key not in known:
            raise EcomError(
                f"mapping {name}: unknown key '{prefix}{key}' "
                f"(expected one of {', '.join(known)})"
            )


def _text(value: object, name: str, key: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise EcomError(f"mapping {name}: {key} must be a text value")
    return str(value)


def _table_fields(section: object, name: str, table: str) -> dict[str, Field]:
    fields = _as_dict(section, name, table)
    _no_unknown_keys(fields, FIELDS[table], name, f"{table}.")
    return {
        key: _field(value, name, f"{table}.{key}", key) for key, value in fields.items()
    }


def _field(value: object, name: str, key: str, field_name: str) -> Field:
    if not isinstance(value, dict):
        value = {"column": value}
    _no_unknown_keys(value, FIELD_KEYS, name, f"{key}.")
    if ("column" in value) == ("constant" in value):
        raise EcomError(f"mapping {name}: {key} needs either 'column' or 'constant'")
    seed = ENUM_FIELDS.get(field_name)
    if "constant" in value:
        constant = _text(value["constant"], name, f"{key}.constant")
        if seed:
            _check_enum(constant, seed, name, f"{key}.constant")
        return Field(constant=constant)
    raw_columns = value["column"]
    if not isinstance(raw_columns, list):
        raw_columns = [raw_columns]
    columns = tuple(_text(c, name, f"{key}.column") for c in raw_columns)
    if not columns:
        raise EcomError(f"mapping {name}: {key}.column names no column")
    values = value.get("values")
    if seed and values is None:
        raise EcomError(
            f"mapping {name}: {key} reads a column, so it needs 'values' (source "
            "value -> one of " + ", ".join(enums.values(seed)) + ")"
        )
    if values is not None:
        values = {
            ("" if k is None else _text(k, name, f"{key}.values")): _text(
                v, name, f"{key}.values.{k}"
            )
            for k, v in _as_dict(values, name, f"{key}.values").items()
        }
        if seed:
            for source, target in values.items():
                _check_enum(target, seed, name, f"{key}.values.{source}")
    drop = value.get("drop_decimal_zero", False)
    if not isinstance(drop, bool):
        raise EcomError(
            f"mapping {name}: {key}.drop_decimal_zero must be true or false"
        )
    return Field(columns=columns, values=values, drop_decimal_zero=drop)


def _check_enum(value: str, seed: str, name: str, key: str) -> None:
    allowed = enums.values(seed)
    if value not in allowed:
        raise EcomError(
            f"mapping {name}: {key}: '{value}' is not one of {', '.join(allowed)}"
        )


def _check_required(tables: dict[str, dict[str, Field]], name: str) -> None:
    for table, key in (
        ("orders", "order_id"),
        ("orders", "ordered_at"),
        ("products", "product_id"),
        ("order_items", "quantity"),
    ):
        if key not in tables.get(table, {}):
            raise EcomError(f"mapping {name}: {table}.{key} is required")
    items = tables["order_items"]
    if "unit_price" not in items and "line_amount" not in items:
        raise EcomError(
            f"mapping {name}: order_items needs unit_price or line_amount (or both)"
        )
    for table, fields in tables.items():
        id_field = TABLE_IDS.get(table)
        if id_field and id_field not in fields:
            raise EcomError(f"mapping {name}: {table}.{id_field} is required")
        for key in fields:
            parent = PARENTS.get((table, key))
            if parent and parent[1] not in tables.get(parent[0], {}):
                raise EcomError(
                    f"mapping {name}: {table}.{key} is mapped but "
                    f"{parent[0]}.{parent[1]} is not (its rows would be missing)"
                )


def _file_settings(section: object, name: str) -> dict:
    given = _as_dict(section, name, "file")
    _no_unknown_keys(given, FILE_KEYS, name, "file.")
    out: dict = {}
    if "delimiter" in given:
        out["delimiter"] = _text(given["delimiter"], name, "file.delimiter")
        if len(out["delimiter"]) != 1:
            raise EcomError(f"mapping {name}: file.delimiter must be one character")
    if "encoding" in given:
        encoding = _text(given["encoding"], name, "file.encoding")
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise EcomError(
                f"mapping {name}: file.encoding: unknown encoding '{encoding}'"
            ) from None
        # a BOM is not part of the first column's name
        out["encoding"] = (
            "utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding
        )
    if "decimal_separator" in given:
        out["decimal_separator"] = _text(
            given["decimal_separator"], name, "file.decimal_separator"
        )
        if out["decimal_separator"] not in (".", ","):
            raise EcomError(
                f"mapping {name}: file.decimal_separator must be '.' or ','"
            )
    if "thousands_separator" in given:
        out["thousands_separator"] = _text(
            given["thousands_separator"] or "", name, "file.thousands_separator"
        )
        if out["thousands_separator"] == out.get("decimal_separator", "."):
            raise EcomError(
                f"mapping {name}: file.thousands_separator equals the decimal separator"
            )
    if "timestamp_formats" in given:
        formats = given["timestamp_formats"]
        formats = formats if isinstance(formats, list) else [formats]
        out["timestamp_formats"] = tuple(
            _text(f, name, "file.timestamp_formats") for f in formats
        )
    if "timezone" in given:
        out["timezone"] = check_timezone(
            _text(given["timezone"], name, "file.timezone"),
            f"mapping {name}: file.timezone",
        )
    if "order_fields_on_first_line_only" in given:
        flag = given["order_fields_on_first_line_only"]
        if not isinstance(flag, bool):
            raise EcomError(
                f"mapping {name}: file.order_fields_on_first_line_only must be "
                "true or false"
            )
        out["order_fields_on_first_line_only"] = flag
    return out


def check_timezone(zone: str, where: str) -> str:
    """The zone's name when Python's time zone database knows it."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise EcomError(f"{where}: unknown time zone '{zone}'") from None
    return zone


def _cancellations(section: object, name: str) -> Cancellations | None:
    if section is None:
        return None
    given = _as_dict(section, name, "cancellations")
    _no_unknown_keys(given, CANCELLATION_KEYS, name, "cancellations.")
    if "status" not in given:
        raise EcomError(f"mapping {name}: cancellations.status is required")
    status = _text(given["status"], name, "cancellations.status")
    _check_enum(status, "order_statuses", name, "cancellations.status")
    negative = given.get("negative_quantity", False)
    if not isinstance(negative, bool):
        raise EcomError(
            f"mapping {name}: cancellations.negative_quantity must be true or false"
        )
    prefix = _text(
        given.get("order_id_prefix", ""), name, "cancellations.order_id_prefix"
    )
    if not prefix and not negative:
        raise EcomError(
            f"mapping {name}: cancellations needs order_id_prefix or negative_quantity"
        )
    return Cancellations(
        status=status, order_id_prefix=prefix, negative_quantity=negative
    )
