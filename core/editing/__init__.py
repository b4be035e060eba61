"""Editing the raw tables: every SQL statement of the app's editing pages, kept
free of any user interface so that other clients can share it.

Rules:
- read and write only the `raw` schema (and read `app.audit_log`); one connection
  per operation from `conninfo(read_only=False)`, one transaction per write,
  and every write transaction names the signed-in user for the audit trigger
  (`set_config('ecom.app_user', ...)`);
- row ids are the source's text ids (1 to 64 printable characters), matched
  exactly, never cast to numbers; rows created here get 'app-<n>' from the
  table's `raw.<table>_app_id_seq` (the loader refuses such ids in files);
- money is exact: at most 4 decimals, refused (never rounded) beyond;
- values always travel as psycopg parameters; identifiers come from the entity
  definitions (`sql.Identifier`), sort columns and filters from whitelists;
- input is validated before anything is written (`ValidationError`, one message
  per field); the database constraints stay the last guard, and any error they
  raise becomes a message naming the field, with the transaction rolled back;
- edits and deletes carry the `updated_at` seen when the form was opened
  (optimistic concurrency): a row changed meanwhile raises `Conflict` with the
  current values, nothing is overwritten;
- nothing loses history: orders are soft-deleted, customers and products that
  appear on orders are deactivated, and regions, channels and promotions that
  are still used cannot be deleted.

Messages (`CrudError.message`) are fixed text with field labels and numbers only,
never data, so a page may show them as they are; `CrudError.detail` may hold
text from the database and must be shown as plain text.

Callers use the names below: `from core import editing`, then
`editing.list_rows(...)`, `editing.ENTITIES`, `editing.CrudError`.
"""

from __future__ import annotations

from core.editing.audit import (
    AUDIT_ACTIONS,
    AUDIT_KEYS,
    AUDIT_TABLES,
    audit_changes,
    audit_users,
    get_audit,
    list_audit,
)
from core.editing.connection import APPLICATION_NAME
from core.editing.database_errors import CONSTRAINTS, translate_error
from core.editing.entities import (
    CHANNELS,
    CUSTOMERS,
    ENTITIES,
    ITEM_FIELDS,
    ORDERS,
    PRODUCTS,
    PROMOTIONS,
    REFERENCES,
    REGIONS,
    entity,
)
from core.editing.errors import (
    Conflict,
    CrudError,
    Refused,
    Unavailable,
    ValidationError,
)
from core.editing.fields import (
    CENT,
    ID_MAX_CHARS,
    INT_MAX,
    MONEY_DECIMALS,
    MONEY_LIMIT,
    Entity,
    Field,
    Filter,
)
from core.editing.listing import (
    MAX_PAGE_SIZE,
    MAX_SEARCH_CHARS,
    MAX_SEARCH_WORDS,
    PAGE_SIZES,
    distinct_values,
    like_pattern,
    list_rows,
    page_count,
)
from core.editing.orders import (
    get_order,
    line_amount,
    order_totals,
    promotion_discount,
    restore_order,
    save_order,
)
from core.editing.rows import create_row, delete_row, get_row, update_row, usage
from core.editing.selectors import (
    OPTIONS_LIMIT,
    label_for,
    option_label,
    search_options,
)
from core.editing.stored_rows import DeleteOutcome, parse_key
from core.editing.validation import (
    COUNTRY_PATTERN,
    EARLIEST_DATE,
    EARLIEST_TIMESTAMP,
    EMAIL_PATTERN,
    LATEST_TIMESTAMP,
    clean_id,
    clean_value,
    validate,
)
from core.editing.values import as_utc

__all__ = [
    "APPLICATION_NAME",
    "AUDIT_ACTIONS",
    "AUDIT_KEYS",
    "AUDIT_TABLES",
    "CENT",
    "CHANNELS",
    "CONSTRAINTS",
    "COUNTRY_PATTERN",
    "CUSTOMERS",
    "EARLIEST_DATE",
    "EARLIEST_TIMESTAMP",
    "EMAIL_PATTERN",
    "ENTITIES",
    "ID_MAX_CHARS",
    "INT_MAX",
    "ITEM_FIELDS",
    "LATEST_TIMESTAMP",
    "MAX_PAGE_SIZE",
    "MAX_SEARCH_CHARS",
    "MAX_SEARCH_WORDS",
    "MONEY_DECIMALS",
    "MONEY_LIMIT",
    "OPTIONS_LIMIT",
    "ORDERS",
    "PAGE_SIZES",
    "PRODUCTS",
    "PROMOTIONS",
    "REFERENCES",
    "REGIONS",
    "Conflict",
    "CrudError",
    "DeleteOutcome",
    "Entity",
    "Field",
    "Filter",
    "Refused",
    "Unavailable",
    "ValidationError",
    "as_utc",
    "audit_changes",
    "audit_users",
    "clean_id",
    "clean_value",
    "create_row",
    "delete_row",
    "distinct_values",
    "entity",
    "get_audit",
    "get_order",
    "get_row",
    "label_for",
    "like_pattern",
    "line_amount",
    "list_audit",
    "list_rows",
    "option_label",
    "order_totals",
    "page_count",
    "parse_key",
    "promotion_discount",
    "restore_order",
    "save_order",
    "search_options",
    "translate_error",
    "update_row",
    "usage",
    "validate",
]
