"""Editing the raw tables: every SQL statement of the app's editing pages.

Rules:
- read and write only the `raw` schema (and read `app.audit_log`); one connection
  per operation from `conninfo(read_only=False)`, one transaction per write,
  and every write transaction names the signed-in user for the audit trigger
  (`set_config('ecom.app_user', ...)`);
- values always travel as psycopg parameters; identifiers come from the entity
  definitions below (`sql.Identifier`), sort columns and filters from whitelists;
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
"""

from __future__ import annotations

import json
import numbers
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import pandas as pd
import psycopg
from psycopg import errors, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from core.db import conninfo, describe_database
from core.enums import (
    CHANNEL_TYPES,
    ORDER_STATUSES,
    PAYMENT_METHODS,
    PAYMENT_STATUSES,
    SEGMENTS,
)
from core.errors import WarehouseError, WarehouseUnavailable, one_line

APPLICATION_NAME = "ecom-editor"
PAGE_SIZES = (10, 25, 50, 100)
MAX_PAGE_SIZE = 500
OPTIONS_LIMIT = 20
MAX_SEARCH_WORDS = 6
INT_MAX = 2_147_483_647
BIGINT_MAX = 9_223_372_036_854_775_807
MONEY_LIMIT = Decimal("10000000000")  # numeric(12, 2): below 10^10
CENT = Decimal("0.01")
# Same pattern as the email_format constraint of raw.customers.
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
COUNTRY_PATTERN = re.compile(r"[A-Z]{2}")
EARLIEST_DATE = date(1900, 1, 1)
EARLIEST_TIMESTAMP = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIMESTAMP = datetime(2100, 1, 1, tzinfo=UTC)

AUDIT_ACTIONS = ("insert", "update", "delete")


# --------------------------------------------------------------------------- errors


class CrudError(WarehouseError):
    """A problem to show on the page: `message` is fixed text (labels and numbers,
    never data); `detail`, when set, comes from the database: show it as text.

    A WarehouseError, so the app's page handler shows one that a page did not
    catch as a message, never as a traceback."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class ValidationError(CrudError):
    """Input that cannot be saved: `errors` maps a field to its message
    (the message starts with the field's label, e.g. "Email: ...")."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


class Conflict(CrudError):
    """The row changed (or vanished) since the form was opened; nothing was saved.

    `current` is the row as it is now (None when it was deleted meanwhile); for
    an order `items` holds its current lines.
    """

    def __init__(
        self,
        current: dict[str, Any] | None,
        entity: Entity | None = None,
        items: list[dict[str, Any]] | None = None,
    ) -> None:
        self.current = current
        self.entity = entity
        self.items = items
        noun = entity.singular if entity is not None else "row"
        if current is None:
            message = (
                f"This {noun} was deleted by someone else meanwhile; nothing was saved."
            )
        else:
            message = (
                f"This {noun} was changed by someone else after you opened it; "
                "nothing was saved. Its current values are shown: apply your changes "
                "again to them."
            )
        super().__init__(message)


class Refused(CrudError):
    """An action the rules do not allow (e.g. deleting a region still in use)."""


class Unavailable(CrudError, WarehouseUnavailable):
    """The database cannot be reached."""


# ------------------------------------------------------------------- definitions


@dataclass(frozen=True)
class Field:
    """An editable column and its rules (sizes as in loader/sql/001)."""

    name: str
    label: str
    kind: str  # text email country choice int money percent date datetime bool ref
    required: bool = True
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    ref: str | None = None  # entity of a foreign key
    minimum: Decimal | int | None = None
    exclusive_minimum: bool = False
    maximum: Decimal | int | None = None
    not_future: bool = False
    default: Any = None
    help: str | None = None


@dataclass(frozen=True)
class Filter:
    """A list filter. `clause` is fixed SQL with `{p}` for the value:
    multi (a list, empty = all), bool (True/False, None = all), flag (only when
    True), choice (a key of `clauses`), date_from / date_to, equals."""

    name: str
    label: str
    kind: str
    clause: str = ""
    choices: tuple[str, ...] = ()
    clauses: Mapping[str, str] = field(default_factory=dict)
    ref: str | None = None


@dataclass(frozen=True)
class Entity:
    name: str
    table: str
    key: str
    alias: str
    singular: str
    title: str
    fields: tuple[Field, ...]
    list_columns: str
    joins: str
    search: str  # fixed SQL for one search word, `{p}` = the ILIKE pattern
    sorts: Mapping[str, str]  # sort name -> column label (sorted by alias.name)
    default_sort: str
    default_descending: bool
    filters: tuple[Filter, ...] = ()
    option_columns: str = ""
    option_search: tuple[str, ...] = ()  # the first one is the main label
    option_order: str = ""
    option_active: str = ""
    unique: Mapping[str, str] = field(default_factory=dict)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


def _ilike(*columns: str) -> str:
    """Fixed SQL: the pattern `{p}` in any of the columns. The columns are joined
    with spaces and searched once (about three times faster than one ILIKE per
    column); a search word has no spaces, so it never matches across columns."""
    if len(columns) == 1:
        return f"{columns[0]} ilike {{p}}"
    return f"concat_ws(' ', {', '.join(columns)}) ilike {{p}}"


REGIONS = Entity(
    name="regions",
    table="regions",
    key="region_id",
    alias="r",
    singular="region",
    title="Regions",
    fields=(Field("region_name", "Region name", "text", max_length=100),),
    list_columns="r.region_id, r.region_name, r.updated_at",
    joins="",
    search=_ilike("r.region_name"),
    sorts={"region_name": "Name", "region_id": "Id", "updated_at": "Last change"},
    default_sort="region_name",
    default_descending=False,
    option_columns="region_id, region_name",
    option_search=("region_name",),
    option_order="region_name",
    unique={"region_name": "another region"},
)

CHANNELS = Entity(
    name="channels",
    table="channels",
    key="channel_id",
    alias="h",
    singular="channel",
    title="Channels",
    fields=(
        Field("channel_name", "Channel name", "text", max_length=100),
        Field("channel_type", "Channel type", "choice", choices=CHANNEL_TYPES),
    ),
    list_columns="h.channel_id, h.channel_name, h.channel_type, h.updated_at",
    joins="",
    search=_ilike("h.channel_name", "h.channel_type"),
    sorts={
        "channel_name": "Name",
        "channel_type": "Type",
        "channel_id": "Id",
        "updated_at": "Last change",
    },
    default_sort="channel_name",
    default_descending=False,
    filters=(
        Filter(
            "channel_type",
            "Type",
            "multi",
            "h.channel_type = any({p}::text[])",
            choices=CHANNEL_TYPES,
        ),
    ),
    option_columns="channel_id, channel_name",
    option_search=("channel_name",),
    option_order="channel_name",
    unique={"channel_name": "another channel"},
)

CUSTOMERS = Entity(
    name="customers",
    table="customers",
    key="customer_id",
    alias="c",
    singular="customer",
    title="Customers",
    fields=(
        Field("first_name", "First name", "text", max_length=100),
        Field("last_name", "Last name", "text", max_length=100),
        Field("email", "Email", "email", max_length=254),
        Field("phone", "Phone", "text", required=False, max_length=40),
        Field(
            "birth_date",
            "Birth date",
            "date",
            required=False,
            not_future=True,
        ),
        Field("city", "City", "text", required=False, max_length=100),
        Field(
            "country_code",
            "Country code",
            "country",
            max_length=2,
            help="Two capital letters (ISO 3166), like DE or FR.",
        ),
        Field("region_id", "Region", "ref", ref="regions"),
        Field("segment", "Segment", "choice", choices=SEGMENTS, default="consumer"),
        Field(
            "acquisition_channel_id",
            "Acquisition channel",
            "ref",
            ref="channels",
        ),
        Field("signup_at", "Signed up at", "datetime", default="now"),
        Field("is_active", "Active", "bool", default=True),
    ),
    list_columns="""
        c.customer_id,
        c.first_name,
        c.last_name,
        c.email,
        c.phone,
        c.city,
        c.country_code,
        reg.region_name as region,
        c.segment,
        chn.channel_name as acquisition_channel,
        c.birth_date,
        c.signup_at,
        c.is_active,
        c.updated_at
    """,
    joins="""
        left join raw.regions as reg on c.region_id = reg.region_id
        left join raw.channels as chn on c.acquisition_channel_id = chn.channel_id
    """,
    search=_ilike(
        "c.first_name",
        "c.last_name",
        "c.email",
        "c.phone",
        "c.city",
        "c.country_code",
    ),
    sorts={
        "customer_id": "Id",
        "last_name": "Last name",
        "first_name": "First name",
        "email": "Email",
        "city": "City",
        "country_code": "Country",
        "segment": "Segment",
        "signup_at": "Signed up",
        "updated_at": "Last change",
    },
    default_sort="customer_id",
    default_descending=True,
    filters=(
        Filter(
            "segment",
            "Segment",
            "multi",
            "c.segment = any({p}::text[])",
            choices=SEGMENTS,
        ),
        Filter(
            "region_id",
            "Region",
            "multi",
            "c.region_id = any({p}::integer[])",
            ref="regions",
        ),
        Filter(
            "acquisition_channel_id",
            "Acquisition channel",
            "multi",
            "c.acquisition_channel_id = any({p}::integer[])",
            ref="channels",
        ),
        Filter("is_active", "Active", "bool", "c.is_active = {p}"),
    ),
    option_columns="customer_id, first_name, last_name, email, is_active",
    option_search=("first_name", "last_name", "email"),
    option_order="last_name, first_name",
    option_active="is_active",
    unique={"email": "another customer"},
)

PRODUCTS = Entity(
    name="products",
    table="products",
    key="product_id",
    alias="p",
    singular="product",
    title="Products",
    fields=(
        Field("sku", "SKU", "text", max_length=40),
        Field("product_name", "Product name", "text", max_length=200),
        Field("category", "Category", "text", max_length=50),
        Field("subcategory", "Subcategory", "text", max_length=50),
        Field("brand", "Brand", "text", max_length=100),
        Field("unit_cost", "Unit cost", "money", minimum=Decimal(0)),
        Field(
            "list_price",
            "List price",
            "money",
            minimum=Decimal(0),
            exclusive_minimum=True,
        ),
        Field("stock_quantity", "Stock quantity", "int", minimum=0, maximum=INT_MAX),
        Field(
            "reorder_point",
            "Reorder point",
            "int",
            minimum=0,
            maximum=INT_MAX,
            help="Reorder when the stock falls below this quantity.",
        ),
        Field("is_active", "Active", "bool", default=True),
    ),
    list_columns="""
        p.product_id,
        p.sku,
        p.product_name,
        p.category,
        p.subcategory,
        p.brand,
        p.unit_cost,
        p.list_price,
        p.stock_quantity,
        p.reorder_point,
        p.stock_quantity < p.reorder_point as below_reorder_point,
        p.is_active,
        p.updated_at
    """,
    joins="",
    search=_ilike("p.sku", "p.product_name", "p.brand", "p.category", "p.subcategory"),
    sorts={
        "product_id": "Id",
        "sku": "SKU",
        "product_name": "Name",
        "category": "Category",
        "brand": "Brand",
        "list_price": "List price",
        "stock_quantity": "Stock",
        "reorder_point": "Reorder point",
        "updated_at": "Last change",
    },
    default_sort="product_id",
    default_descending=True,
    filters=(
        Filter("category", "Category", "multi", "p.category = any({p}::text[])"),
        Filter("is_active", "Active", "bool", "p.is_active = {p}"),
        Filter(
            "low_stock",
            "Below reorder point",
            "flag",
            "p.stock_quantity < p.reorder_point",
        ),
    ),
    option_columns="product_id, sku, product_name, list_price, is_active",
    option_search=("sku", "product_name", "brand"),
    option_order="product_name, sku",
    option_active="is_active",
    unique={"sku": "another product"},
)

PROMOTIONS = Entity(
    name="promotions",
    table="promotions",
    key="promotion_id",
    alias="m",
    singular="promotion",
    title="Promotions",
    fields=(
        Field("promo_code", "Promo code", "text", max_length=40),
        Field("description", "Description", "text", required=False, max_length=200),
        Field(
            "discount_pct",
            "Discount %",
            "percent",
            minimum=Decimal(0),
            exclusive_minimum=True,
            maximum=Decimal(100),
        ),
        Field("starts_at", "Starts at", "datetime"),
        Field("ends_at", "Ends at", "datetime"),
    ),
    list_columns="""
        m.promotion_id,
        m.promo_code,
        m.description,
        m.discount_pct,
        m.starts_at,
        m.ends_at,
        case
            when now() < m.starts_at then 'upcoming'
            when now() > m.ends_at then 'ended'
            else 'running'
        end as state,
        m.updated_at
    """,
    joins="",
    search=_ilike("m.promo_code", "m.description"),
    sorts={
        "starts_at": "Start",
        "ends_at": "End",
        "promo_code": "Code",
        "discount_pct": "Discount",
        "promotion_id": "Id",
        "updated_at": "Last change",
    },
    default_sort="starts_at",
    default_descending=True,
    filters=(
        Filter(
            "state",
            "State",
            "choice",
            clauses={
                "running": "now() between m.starts_at and m.ends_at",
                "upcoming": "m.starts_at > now()",
                "ended": "m.ends_at < now()",
            },
        ),
    ),
    option_columns="promotion_id, promo_code, discount_pct, starts_at, ends_at",
    option_search=("promo_code", "description"),
    option_order="starts_at desc",
    unique={"promo_code": "another promotion"},
)

ORDERS = Entity(
    name="orders",
    table="orders",
    key="order_id",
    alias="o",
    singular="order",
    title="Orders",
    fields=(
        Field("customer_id", "Customer", "ref", ref="customers"),
        Field("channel_id", "Channel", "ref", ref="channels"),
        Field("ship_region_id", "Ship to region", "ref", ref="regions"),
        Field("promotion_id", "Promotion", "ref", required=False, ref="promotions"),
        Field("ordered_at", "Ordered at", "datetime", default="now"),
        Field("status", "Status", "choice", choices=ORDER_STATUSES, default="placed"),
        Field(
            "payment_status",
            "Payment status",
            "choice",
            choices=PAYMENT_STATUSES,
            default="pending",
        ),
        Field(
            "payment_method",
            "Payment method",
            "choice",
            choices=PAYMENT_METHODS,
            default="card",
        ),
        Field(
            "shipping_amount",
            "Shipping",
            "money",
            minimum=Decimal(0),
            default=Decimal(0),
        ),
        Field("tax_amount", "Tax", "money", minimum=Decimal(0), default=Decimal(0)),
    ),
    list_columns="""
        o.order_id,
        o.ordered_at,
        cus.first_name || ' ' || cus.last_name as customer,
        cus.email as customer_email,
        chn.channel_name as channel,
        reg.region_name as ship_region,
        pro.promo_code,
        o.status,
        o.payment_status,
        o.payment_method,
        coalesce(lines.line_count, 0) as lines,
        coalesce(lines.subtotal, 0) as items_subtotal,
        coalesce(lines.discounts, 0) as discounts,
        o.shipping_amount,
        o.tax_amount,
        coalesce(lines.subtotal, 0) - coalesce(lines.discounts, 0)
        + o.shipping_amount + o.tax_amount as total,
        o.deleted_at is not null as is_deleted,
        o.deleted_at,
        o.updated_at
    """,
    joins="""
        left join raw.customers as cus on o.customer_id = cus.customer_id
        left join raw.channels as chn on o.channel_id = chn.channel_id
        left join raw.regions as reg on o.ship_region_id = reg.region_id
        left join raw.promotions as pro on o.promotion_id = pro.promotion_id
        left join lateral (
            select
                count(*) as line_count,
                sum(i.quantity * i.unit_price) as subtotal,
                sum(i.discount_amount) as discounts
            from raw.order_items as i
            where i.order_id = o.order_id
        ) as lines on true
    """,
    # the customer's name or email, or the promo code (status, payment and dates
    # are filters); each subquery runs once, then orders are matched by id
    search="""(
        o.customer_id in (
            select s.customer_id from raw.customers as s
            where concat_ws(' ', s.first_name, s.last_name, s.email) ilike {p}
        )
        or o.promotion_id in (
            select s.promotion_id from raw.promotions as s
            where s.promo_code ilike {p}
        )
    )""",
    sorts={
        "order_id": "Id",
        "ordered_at": "Ordered at",
        "status": "Status",
        "payment_status": "Payment status",
        "updated_at": "Last change",
    },
    default_sort="ordered_at",
    default_descending=True,
    filters=(
        Filter(
            "status",
            "Status",
            "multi",
            "o.status = any({p}::text[])",
            choices=ORDER_STATUSES,
        ),
        Filter(
            "payment_status",
            "Payment status",
            "multi",
            "o.payment_status = any({p}::text[])",
            choices=PAYMENT_STATUSES,
        ),
        Filter(
            "payment_method",
            "Payment method",
            "multi",
            "o.payment_method = any({p}::text[])",
            choices=PAYMENT_METHODS,
        ),
        Filter(
            "channel_id",
            "Channel",
            "multi",
            "o.channel_id = any({p}::integer[])",
            ref="channels",
        ),
        Filter(
            "ship_region_id",
            "Ship to region",
            "multi",
            "o.ship_region_id = any({p}::integer[])",
            ref="regions",
        ),
        Filter("ordered_from", "Ordered from", "date_from", "o.ordered_at >= {p}"),
        Filter("ordered_to", "Ordered up to", "date_to", "o.ordered_at < {p}"),
        Filter("customer_id", "Customer", "equals", "o.customer_id = {p}::bigint"),
        Filter(
            "deleted",
            "Deleted orders",
            "choice",
            clauses={
                "hide": "o.deleted_at is null",
                "include": "true",
                "only": "o.deleted_at is not null",
            },
        ),
    ),
)

ENTITIES: dict[str, Entity] = {
    e.name: e for e in (CUSTOMERS, PRODUCTS, ORDERS, PROMOTIONS, REGIONS, CHANNELS)
}

ITEM_FIELDS = (
    Field("product_id", "Product", "ref", ref="products"),
    Field("quantity", "Quantity", "int", minimum=1, maximum=INT_MAX),
    Field("unit_price", "Unit price", "money", minimum=Decimal(0)),
    Field(
        "discount_amount",
        "Discount",
        "money",
        minimum=Decimal(0),
        default=Decimal(0),
    ),
)

# Constraint name -> (field, message after the label). Messages are fixed text.
CONSTRAINTS: dict[str, tuple[str, str]] = {
    "regions_region_name_key": ("region_name", "already used by another region"),
    "channels_channel_name_key": ("channel_name", "already used by another channel"),
    "channel_type_known": (
        "channel_type",
        "must be one of " + ", ".join(CHANNEL_TYPES),
    ),
    "customers_email_key": ("email", "already used by another customer"),
    "email_format": ("email", "not a valid email address"),
    "country_code_format": ("country_code", "use two capital letters, like DE"),
    "segment_known": ("segment", "must be one of " + ", ".join(SEGMENTS)),
    "customers_region_id_fkey": (
        "region_id",
        "no such region (it may have been deleted meanwhile)",
    ),
    "customers_acquisition_channel_id_fkey": (
        "acquisition_channel_id",
        "no such channel (it may have been deleted meanwhile)",
    ),
    "products_sku_key": ("sku", "already used by another product"),
    "unit_cost_not_negative": ("unit_cost", "must not be negative"),
    "list_price_not_negative": ("list_price", "must not be negative"),
    "stock_not_negative": ("stock_quantity", "must not be negative"),
    "reorder_point_not_negative": ("reorder_point", "must not be negative"),
    "promotions_promo_code_key": ("promo_code", "already used by another promotion"),
    "discount_pct_range": ("discount_pct", "must be more than 0 and at most 100"),
    "promotion_dates_in_order": ("ends_at", "must not be before Starts at"),
    "orders_customer_id_fkey": (
        "customer_id",
        "no such customer (it may have been deleted meanwhile)",
    ),
    "orders_channel_id_fkey": (
        "channel_id",
        "no such channel (it may have been deleted meanwhile)",
    ),
    "orders_ship_region_id_fkey": (
        "ship_region_id",
        "no such region (it may have been deleted meanwhile)",
    ),
    "orders_promotion_id_fkey": (
        "promotion_id",
        "no such promotion (it may have been deleted meanwhile)",
    ),
    "order_status_known": ("status", "must be one of " + ", ".join(ORDER_STATUSES)),
    "payment_status_known": (
        "payment_status",
        "must be one of " + ", ".join(PAYMENT_STATUSES),
    ),
    "payment_method_known": (
        "payment_method",
        "must be one of " + ", ".join(PAYMENT_METHODS),
    ),
    "shipping_not_negative": ("shipping_amount", "must not be negative"),
    "tax_not_negative": ("tax_amount", "must not be negative"),
    "order_items_order_id_fkey": ("order_id", "the order no longer exists"),
    "order_items_product_id_fkey": (
        "product_id",
        "no such product (it may have been deleted meanwhile)",
    ),
    "quantity_positive": ("quantity", "must be at least 1"),
    "unit_price_not_negative": ("unit_price", "must not be negative"),
    "discount_within_line_amount": (
        "discount_amount",
        "must be between 0 and the line amount (quantity × unit price)",
    ),
}

# What refers to a parent row: (table, column, plural noun).
REFERENCES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "regions": (
        ("orders", "ship_region_id", "orders"),
        ("customers", "region_id", "customers"),
    ),
    "channels": (
        ("orders", "channel_id", "orders"),
        ("customers", "acquisition_channel_id", "customers"),
    ),
    "promotions": (("orders", "promotion_id", "orders"),),
    "customers": (("orders", "customer_id", "orders"),),
    "products": (("order_items", "product_id", "order lines"),),
}


def entity(name: str | Entity) -> Entity:
    if isinstance(name, Entity):
        return name
    try:
        return ENTITIES[name]
    except KeyError:
        raise ValueError(f"unknown entity {name!r}") from None


# ---------------------------------------------------------------------- connection


def _username(user: Any) -> str:
    name = getattr(user, "username", user)
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a signed-in user is needed to write")
    return name


def _one_line(exc: BaseException) -> str:
    return one_line(exc) or type(exc).__name__


@contextmanager
def _connect() -> Iterator[psycopg.Connection]:
    """A connection of its own for one operation (autocommit; writes open a
    transaction); an unreachable server becomes `Unavailable`."""
    dsn = conninfo(read_only=False, application_name=APPLICATION_NAME)
    try:
        conn = psycopg.connect(dsn, autocommit=True)
    except psycopg.OperationalError as exc:
        raise Unavailable(
            f"Cannot reach the database at {describe_database(dsn)}: {_one_line(exc)}"
        ) from None
    try:
        conn.execute("set time zone 'UTC'")
        yield conn
    except errors.QueryCanceled:
        raise CrudError(
            "The database took too long and the query was stopped."
        ) from None
    except psycopg.OperationalError as exc:
        raise Unavailable(
            f"Lost the connection to the database at {describe_database(dsn)}",
            detail=_one_line(exc),
        ) from None
    finally:
        conn.close()


@contextmanager
def _reading() -> Iterator[psycopg.Connection]:
    with _connect() as conn:
        try:
            yield conn
        except (errors.QueryCanceled, psycopg.OperationalError):
            raise
        except psycopg.Error as exc:
            raise CrudError(
                "Could not read from the database.", detail=_one_line(exc)
            ) from None


@contextmanager
def _writing(
    user: Any, ent: Entity | None = None, values: Mapping[str, Any] | None = None
) -> Iterator[psycopg.Connection]:
    """One transaction that names the user for the audit trail; any database
    error rolls it back and becomes a CrudError naming the field."""
    username = _username(user)
    with _connect() as conn:
        try:
            with conn.transaction():
                conn.execute("select set_config('ecom.app_user', %s, true)", [username])
                yield conn
        except (errors.QueryCanceled, psycopg.OperationalError):
            raise
        except psycopg.Error as exc:
            raise translate_error(exc, ent, values) from None


# ---------------------------------------------------------------- error messages


def _label(ent: Entity | None, name: str, fields: Sequence[Field] = ()) -> str:
    for f in (*fields, *(ent.fields if ent else ())):
        if f.name == name:
            return f.label
    return name.replace("_", " ").capitalize()


def _guess_field(
    exc: psycopg.Error, fields: Sequence[Field], values: Mapping[str, Any]
) -> tuple[str, str] | None:
    """The field a value error without a column name is about: the first value
    that breaks its field's size, range or text rules."""
    message = str(exc)
    for f in fields:
        value = values.get(f.name)
        if value is None:
            continue
        if isinstance(value, str):
            if "\x00" in value:
                return f.name, "must not contain a NUL character"
            if f.max_length and len(value) > f.max_length:
                return f.name, f"use at most {f.max_length} characters"
            if "encod" in message.lower() or "byte sequence" in message.lower():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    return f.name, "contains characters that cannot be stored"
        elif isinstance(value, numbers.Number) and not isinstance(value, bool):
            limit = MONEY_LIMIT if f.kind in ("money", "percent") else INT_MAX
            if f.kind == "ref":
                limit = BIGINT_MAX
            try:
                if abs(Decimal(str(value))) >= limit:
                    return f.name, "is too large"
            except InvalidOperation:
                return f.name, "must be a number"
    return None


def translate_error(
    exc: psycopg.Error,
    ent: Entity | None,
    values: Mapping[str, Any] | None = None,
    *,
    fields: Sequence[Field] | None = None,
    prefix: str = "",
    label_prefix: str = "",
) -> CrudError:
    """A database error as a message naming the field (`ValidationError`), else
    a CrudError with the database's own words as `detail`.

    `prefix` / `label_prefix` name an order line ("items.2." / "Line 2, ").
    """
    values = values or {}
    fields = tuple(fields if fields is not None else (ent.fields if ent else ()))
    diag = exc.diag
    constraint = diag.constraint_name
    column = diag.column_name
    found: tuple[str, str] | None = None

    if isinstance(exc, errors.UniqueViolation) and constraint in CONSTRAINTS:
        found = CONSTRAINTS[constraint]
    elif isinstance(exc, errors.UniqueViolation) and (constraint or "").endswith(
        "_pkey"
    ):
        return CrudError(
            "A new id collided with an existing row; please save again.",
            detail=_one_line(exc),
        )
    elif isinstance(exc, errors.ForeignKeyViolation) and (
        "still referenced" in (diag.message_detail or "")
    ):
        return Refused(
            f"This {ent.singular if ent else 'row'} is still used by other rows, "
            "so it cannot be deleted."
        )
    elif (
        isinstance(exc, errors.CheckViolation | errors.ForeignKeyViolation)
        and constraint in CONSTRAINTS
    ):
        found = CONSTRAINTS[constraint]
    elif isinstance(exc, errors.NotNullViolation) and column:
        found = (column, "required")
    elif isinstance(exc, psycopg.DataError) or exc.sqlstate in (
        "22001",
        "22003",
        "22021",
        "22P02",
        "22P05",
        "54000",
    ):
        found = _guess_field(exc, fields, values)

    if found is None:
        noun = ent.singular if ent else "row"
        return CrudError(f"Could not save the {noun}.", detail=_one_line(exc))
    name, message = found
    return ValidationError(
        {prefix + name: f"{label_prefix}{_label(ent, name, fields)}: {message}"}
    )


# ---------------------------------------------------------------------- validation


def _clean_text(f: Field, value: Any) -> tuple[Any, str | None]:
    if value is None:
        return None, ("required" if f.required else None)
    if not isinstance(value, str):
        if isinstance(value, numbers.Number) and not isinstance(value, bool):
            value = str(value)
        else:
            return None, "must be text"
    if "\x00" in value:
        return None, "must not contain a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None, "contains characters that cannot be stored"
    if f.kind == "country":
        value = value.strip().upper()
    if not value.strip():
        return None, ("required" if f.required else None)
    if f.max_length and len(value) > f.max_length:
        return None, f"use at most {f.max_length} characters (this has {len(value):,})"
    if f.kind == "email" and not EMAIL_PATTERN.fullmatch(value):
        return None, "not a valid email address"
    if f.kind == "country" and not COUNTRY_PATTERN.fullmatch(value):
        return None, "use two capital letters, like DE"
    if f.kind == "choice" and value not in f.choices:
        return None, "must be one of " + ", ".join(f.choices)
    return value, None


def _clean_int(f: Field, value: Any) -> tuple[Any, str | None]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, ("required" if f.required else None)
    if isinstance(value, bool):
        return None, "must be a whole number"
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[+-]?\d{1,19}", text):
            return None, "must be a whole number"
        value = int(text)
    elif isinstance(value, numbers.Integral):
        value = int(value)
    elif isinstance(value, numbers.Real | Decimal):
        if not (isinstance(value, Decimal) or float(value) == float(value)):
            return None, "must be a whole number"
        try:
            if value != int(value):
                return None, "must be a whole number"
            value = int(value)
        except (ValueError, OverflowError, InvalidOperation):
            return None, "must be a whole number"
    else:
        return None, "must be a whole number"
    if f.kind == "ref":
        if not 0 < value <= BIGINT_MAX:
            return None, "choose one from the list"
        return value, None
    if f.minimum is not None and value < f.minimum:
        word = "at least"
        return None, f"must be {word} {f.minimum:,}"
    maximum = f.maximum if f.maximum is not None else INT_MAX
    if value > maximum:
        return None, f"must be at most {maximum:,}"
    return value, None


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, numbers.Integral):
            number = Decimal(int(value))
        elif isinstance(value, numbers.Real):
            number = Decimal(repr(float(value)))
        elif isinstance(value, str):
            number = Decimal(value.strip().replace(",", ""))
        else:
            return None
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    return number


def _clean_decimal(f: Field, value: Any) -> tuple[Any, str | None]:
    if value is None or (isinstance(value, str) and not value.strip()):
        if f.default is not None:
            return f.default, None
        return None, ("required" if f.required else None)
    number = _decimal(value)
    if number is None:
        return None, "must be a number"
    if abs(number) >= MONEY_LIMIT:
        return None, "is too large"
    number = number.quantize(CENT, rounding=ROUND_HALF_UP)
    if f.minimum is not None:
        if f.exclusive_minimum and number <= f.minimum:
            return None, f"must be more than {f.minimum}"
        if number < f.minimum:
            return None, "must not be negative" if f.minimum == 0 else (
                f"must be at least {f.minimum}"
            )
    if f.maximum is not None and number > f.maximum:
        return None, f"must be at most {f.maximum}"
    return number, None


def _clean_date(f: Field, value: Any) -> tuple[Any, str | None]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, ("required" if f.required else None)
    if isinstance(value, datetime):
        value = value.date()
    elif isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            return None, "not a date (use YYYY-MM-DD)"
    elif not isinstance(value, date):
        return None, "not a date (use YYYY-MM-DD)"
    if value < EARLIEST_DATE:
        return None, f"must not be before {EARLIEST_DATE:%Y-%m-%d}"
    if f.not_future and value > datetime.now(UTC).date():
        return None, "must not be in the future"
    return value, None


def as_utc(value: Any) -> datetime | None:
    """A datetime (naive ones are UTC), a date (midnight UTC) or an ISO string
    as an aware UTC datetime; None when it is none of these."""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    return None


def _clean_datetime(f: Field, value: Any) -> tuple[Any, str | None]:
    if value is None or (isinstance(value, str) and not value.strip()):
        if f.default == "now":
            return datetime.now(UTC), None
        return None, ("required" if f.required else None)
    moment = as_utc(value)
    if moment is None:
        return None, "not a date and time"
    if not EARLIEST_TIMESTAMP <= moment < LATEST_TIMESTAMP:
        return None, "must be between 1970 and 2099"
    return moment, None


def _clean_bool(f: Field, value: Any) -> tuple[Any, str | None]:
    if value is None:
        return (f.default, None) if f.default is not None else (None, "required")
    if isinstance(value, bool):
        return value, None
    return None, "must be yes or no"


_CLEANERS = {
    "text": _clean_text,
    "email": _clean_text,
    "country": _clean_text,
    "choice": _clean_text,
    "int": _clean_int,
    "ref": _clean_int,
    "money": _clean_decimal,
    "percent": _clean_decimal,
    "date": _clean_date,
    "datetime": _clean_datetime,
    "bool": _clean_bool,
}


def clean_value(f: Field, value: Any) -> tuple[Any, str | None]:
    """One field's value as it will be stored, or an error message."""
    if value is None and f.default is not None and f.kind in ("choice", "bool"):
        value = f.default
    return _CLEANERS[f.kind](f, value)


def _validate_fields(
    fields: Sequence[Field],
    values: Mapping[str, Any],
    current: Mapping[str, Any] | None,
    *,
    prefix: str = "",
    label_prefix: str = "",
) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean `values`; with `current` (an edit) a field left as it is is not
    checked again (rows loaded in bulk may predate a rule), and fields not given
    keep their current value."""
    cleaned: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for f in fields:
        if current is not None and (
            f.name not in values or _same(values[f.name], current.get(f.name))
        ):
            cleaned[f.name] = current.get(f.name)
            continue
        if current is not None and f.required and values[f.name] is None:
            # defaults are for new rows: emptying a field on an edit is an error
            problems[prefix + f.name] = f"{label_prefix}{f.label}: required"
            continue
        value, problem = clean_value(f, values.get(f.name))
        if problem:
            problems[prefix + f.name] = f"{label_prefix}{f.label}: {problem}"
        else:
            cleaned[f.name] = value
    return cleaned, problems


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, datetime | pd.Timestamp) or isinstance(b, datetime):
        return as_utc(a) is not None and as_utc(a) == as_utc(b)
    if isinstance(b, Decimal) and not isinstance(a, bool):
        return _decimal(a) == b
    return type(a) is type(b) and a == b


def _check_keys(
    ent: Entity, values: Mapping[str, Any], extra: Sequence[str] = ()
) -> None:
    known = set(ent.field_names) | {
        ent.key,
        "updated_at",
        "created_at",
        "deleted_at",
        *extra,
    }
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown fields for {ent.name}: {', '.join(unknown)}")


def validate(
    ent: str | Entity,
    values: Mapping[str, Any],
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The values to write (every editable field), or ValidationError."""
    ent = entity(ent)
    _check_keys(ent, values)
    cleaned, problems = _validate_fields(ent.fields, values, current)
    if ent.name == "promotions" and not {"starts_at", "ends_at"} & problems.keys():
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        changed = current is None or any(
            k in values and not _same(values[k], current.get(k))
            for k in ("starts_at", "ends_at")
        )
        if changed and starts and ends and ends < starts:
            problems["ends_at"] = "Ends at: must not be before Starts at"
    if problems:
        raise ValidationError(problems)
    return cleaned


# ------------------------------------------------------------------------ listing


def like_pattern(text: str) -> str:
    """`text` as an ILIKE pattern matching it anywhere, wildcards escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _search_words(text: str | None) -> list[str]:
    words = (text or "").replace("\x00", "").split()
    return words[:MAX_SEARCH_WORDS]


def _where(
    ent: Entity, search: str | None, filters: Mapping[str, Any] | None
) -> tuple[sql.Composable, dict[str, Any]]:
    clauses: list[sql.Composable] = []
    params: dict[str, Any] = {}
    key = sql.SQL("{}.{}").format(sql.Identifier(ent.alias), sql.Identifier(ent.key))
    for i, word in enumerate(_search_words(search)):
        name = f"w{i}"
        params[name] = like_pattern(word)
        clause = sql.SQL(ent.search).format(p=sql.Placeholder(name))
        if re.fullmatch(r"#?\d{1,18}", word):
            params[f"{name}_id"] = int(word.lstrip("#"))
            clause = sql.SQL("({} or {} = {})").format(
                clause, key, sql.Placeholder(f"{name}_id")
            )
        clauses.append(clause)
    known = {f.name: f for f in ent.filters}
    for name, value in (filters or {}).items():
        if name not in known:
            raise ValueError(f"unknown filter {name!r} for {ent.name}")
        flt = known[name]
        param = f"f_{name}"
        if flt.kind == "multi":
            if not value:
                continue
            params[param] = list(value)
        elif flt.kind == "bool":
            if value is None:
                continue
            params[param] = bool(value)
        elif flt.kind == "flag":
            if value:
                clauses.append(sql.SQL(flt.clause))
            continue
        elif flt.kind == "choice":
            if value is None:
                continue
            if value not in flt.clauses:
                raise ValueError(f"unknown choice {value!r} for filter {name!r}")
            clauses.append(sql.SQL(flt.clauses[value]))
            continue
        elif flt.kind in ("date_from", "date_to"):
            if value is None:
                continue
            day = as_utc(value)
            if day is None:
                raise ValueError(f"filter {name!r} needs a date")
            day = datetime.combine(day.date(), time(), tzinfo=UTC)
            params[param] = day + timedelta(days=1) if flt.kind == "date_to" else day
        elif flt.kind == "equals":
            if value is None:
                continue
            params[param] = value
        else:  # pragma: no cover - definitions above
            raise ValueError(flt.kind)
        clauses.append(sql.SQL(flt.clause).format(p=sql.Placeholder(param)))
    if not clauses:
        return sql.SQL(""), params
    return sql.SQL("where ") + sql.SQL(" and ").join(clauses), params


def _order(ent: Entity, sort: str | None, descending: bool) -> sql.Composable:
    sort = sort or ent.default_sort
    if sort not in ent.sorts:
        raise ValueError(f"cannot sort {ent.name} by {sort!r}")
    direction = sql.SQL("desc nulls last" if descending else "asc nulls first")
    columns = [sort] if sort == ent.key else [sort, ent.key]
    return sql.SQL("order by ") + sql.SQL(", ").join(
        sql.SQL("{}.{} {}").format(
            sql.Identifier(ent.alias), sql.Identifier(c), direction
        )
        for c in columns
    )


def list_rows(
    ent: str | Entity,
    search: str | None = "",
    filters: Mapping[str, Any] | None = None,
    sort: str | None = None,
    descending: bool = False,
    page: int = 1,
    page_size: int = 25,
) -> tuple[pd.DataFrame, int]:
    """One page of rows matching the search words (each word in any searched
    column; digits also match the id) and filters, and the total count."""
    ent = entity(ent)
    page = max(int(page), 1)
    page_size = min(max(int(page_size), 1), MAX_PAGE_SIZE)
    where, params = _where(ent, search, filters)
    order = _order(ent, sort, descending)
    table = sql.SQL("raw.{} as {}").format(
        sql.Identifier(ent.table), sql.Identifier(ent.alias)
    )
    count_sql = sql.SQL("select count(*) from {} {}").format(table, where)
    page_sql = sql.SQL(
        "select {columns} from ("
        "select {alias}.* from {table} {where} {order} "
        "limit %(limit)s offset %(offset)s"
        ") as {alias} {joins} {order}"
    ).format(
        columns=sql.SQL(ent.list_columns),
        alias=sql.Identifier(ent.alias),
        table=table,
        where=where,
        order=order,
        joins=sql.SQL(ent.joins),
    )
    params |= {"limit": page_size, "offset": (page - 1) * page_size}
    with _reading() as conn:
        total = conn.execute(count_sql, params).fetchone()[0]
        cur = conn.execute(page_sql, params)
        columns = [d.name for d in cur.description or []]
        frame = pd.DataFrame(cur.fetchall(), columns=columns)
    return frame, int(total)


def page_count(total: int, page_size: int) -> int:
    return max(1, -(-int(total) // max(int(page_size), 1)))


def distinct_values(ent: str | Entity, column: str) -> list[str]:
    """The values a text column holds (for filters and pickers of small sets:
    product categories, subcategories, brands)."""
    ent = entity(ent)
    if column not in ent.field_names or ent.field(column).kind != "text":
        raise ValueError(f"no text column {column!r} in {ent.name}")
    statement = sql.SQL(
        "select distinct {col} from raw.{table} where {col} is not null "
        "order by 1 limit 1000"
    ).format(col=sql.Identifier(column), table=sql.Identifier(ent.table))
    with _reading() as conn:
        return [row[0] for row in conn.execute(statement)]


# ---------------------------------------------------------------------- one row


def _select(
    conn: psycopg.Connection, ent: Entity, key: Any, lock: bool = False
) -> dict[str, Any] | None:
    statement = sql.SQL("select * from raw.{} where {} = %s{}").format(
        sql.Identifier(ent.table),
        sql.Identifier(ent.key),
        sql.SQL(" for update" if lock else ""),
    )
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(statement, [key]).fetchone()


def _key(value: Any) -> int:
    cleaned, problem = _clean_int(Field("key", "Id", "ref"), value)
    if problem:
        raise ValueError(f"not a row id: {value!r}")
    return cleaned


def get_row(ent: str | Entity, key: Any) -> dict[str, Any] | None:
    """The row as stored (every column), or None."""
    ent = entity(ent)
    with _reading() as conn:
        return _select(conn, ent, _key(key))


def create_row(ent: str | Entity, values: Mapping[str, Any], user: Any) -> dict:
    """Insert a row with an id from the app's sequence; returns it as stored.
    An order needs its lines: pass them as values["items"] (see save_order)."""
    ent = entity(ent)
    if ent.name == "orders":
        order = {k: v for k, v in values.items() if k != "items"}
        order_id = save_order(order, list(values.get("items") or []), user)
        return get_row(ent, order_id) or {}
    _username(user)
    cleaned = validate(ent, values)
    columns = [ent.key, *cleaned]
    statement = sql.SQL(
        "insert into raw.{table} ({columns}) values (nextval({seq}), {values}) "
        "returning *"
    ).format(
        table=sql.Identifier(ent.table),
        columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        seq=sql.Literal(f"raw.{ent.table}_app_id_seq"),
        values=sql.SQL(", ").join(sql.Placeholder(k) for k in cleaned),
    )
    with _writing(user, ent, cleaned) as conn, conn.cursor(row_factory=dict_row) as cur:
        _check_email_free(conn, ent, cleaned)
        return cur.execute(statement, cleaned).fetchone()


def _check_email_free(
    conn: psycopg.Connection, ent: Entity, values: Mapping[str, Any], key: Any = None
) -> None:
    """The warehouse lower-cases emails and keeps them unique: refuse an address
    that differs from another customer's only in case (the raw unique constraint
    compares them as typed)."""
    if ent.name != "customers" or not values.get("email"):
        return
    taken = conn.execute(
        "select 1 from raw.customers"
        " where lower(email) = lower(%s) and customer_id is distinct from %s limit 1",
        [values["email"], key],
    ).fetchone()
    if taken:
        raise ValidationError({"email": "Email: already used by another customer"})


def _check_version(
    ent: Entity, current: dict[str, Any] | None, expected_updated_at: Any
) -> None:
    expected = as_utc(expected_updated_at)
    if expected is None:
        raise ValueError("expected_updated_at: the updated_at seen when opening")
    if current is None or as_utc(current["updated_at"]) != expected:
        raise Conflict(current, ent)


def update_row(
    ent: str | Entity,
    key: Any,
    values: Mapping[str, Any],
    expected_updated_at: Any,
    user: Any,
) -> dict[str, Any]:
    """Change a row if it is still the version the user saw; returns the row as
    stored. Only the fields given change; nothing changed writes nothing."""
    ent = entity(ent)
    key = _key(key)
    if ent.name == "orders":
        order, items = get_order(key)
        if order is None:
            raise Conflict(None, ent)
        if "items" in values:
            items = list(values["items"])
        merged = {**order, **{k: v for k, v in values.items() if k != "items"}}
        save_order(merged, items, user, expected_updated_at)
        return get_row(ent, key) or {}
    _username(user)
    with _writing(user, ent, values) as conn:
        current = _select(conn, ent, key, lock=True)
        _check_version(ent, current, expected_updated_at)
        cleaned = validate(ent, values, current)
        changes = {k: v for k, v in cleaned.items() if not _same(v, current.get(k))}
        if not changes:
            return current
        _check_email_free(conn, ent, changes, key)
        statement = sql.SQL(
            "update raw.{table} set {assignments} "
            "where {key} = %(key)s and updated_at = %(expected)s returning *"
        ).format(
            table=sql.Identifier(ent.table),
            assignments=sql.SQL(", ").join(
                sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k))
                for k in changes
            ),
            key=sql.Identifier(ent.key),
        )
        params = changes | {"key": key, "expected": current["updated_at"]}
        with conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(statement, params).fetchone()
        if row is None:
            raise Conflict(_select(conn, ent, key), ent)
        return row


@dataclass(frozen=True)
class DeleteOutcome:
    """What a delete did: 'deleted', 'deactivated' (kept for its history),
    'soft_deleted' / 'restored' (orders), or 'unchanged'."""

    action: str
    message: str
    row: dict[str, Any] | None = None


def usage(ent: str | Entity, key: Any) -> dict[str, int]:
    """How many rows refer to this one, by kind ('orders', 'customers', ...)."""
    ent = entity(ent)
    with _reading() as conn:
        return _usage(conn, ent, _key(key))


def _usage(conn: psycopg.Connection, ent: Entity, key: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table, column, noun in REFERENCES.get(ent.name, ()):
        statement = sql.SQL("select count(*) from raw.{} where {} = %s").format(
            sql.Identifier(table), sql.Identifier(column)
        )
        counts[noun] = conn.execute(statement, [key]).fetchone()[0]
    return counts


def _is_used(conn: psycopg.Connection, ent: Entity, key: int) -> bool:
    for table, column, _noun in REFERENCES.get(ent.name, ()):
        statement = sql.SQL("select exists (select from raw.{} where {} = %s)").format(
            sql.Identifier(table), sql.Identifier(column)
        )
        if conn.execute(statement, [key]).fetchone()[0]:
            return True
    return False


def _describe_usage(counts: Mapping[str, int]) -> str:
    used = [f"{n:,} {noun if n != 1 else noun[:-1]}" for noun, n in counts.items() if n]
    if len(used) > 1:
        return ", ".join(used[:-1]) + " and " + used[-1]
    return used[0] if used else "nothing"


def delete_row(
    ent: str | Entity, key: Any, expected_updated_at: Any, user: Any
) -> DeleteOutcome:
    """Delete without losing history: orders are soft-deleted; customers and
    products on orders are deactivated; regions, channels and promotions still
    used are refused (`Refused`, saying what uses them)."""
    ent = entity(ent)
    key = _key(key)
    _username(user)
    if ent.name == "orders":
        return _set_order_deleted(key, expected_updated_at, user, deleted=True)
    with _writing(user, ent) as conn:
        # The lock also holds off new rows referring to this one until we commit.
        current = _select(conn, ent, key, lock=True)
        _check_version(ent, current, expected_updated_at)
        if ent.name in ("customers", "products"):
            used = (
                _usage(conn, ent, key)
                if ent.name == "customers"
                else ({"order lines": 1} if _is_used(conn, ent, key) else {})
            )
            if any(used.values()):
                why = (
                    f"has {_describe_usage(used)}"
                    if ent.name == "customers"
                    else "appears on orders"
                )
                if not current["is_active"]:
                    return DeleteOutcome(
                        "unchanged",
                        f"This {ent.singular} {why}, so it is kept for their history; "
                        "it was already deactivated.",
                        current,
                    )
                statement = sql.SQL(
                    "update raw.{} set is_active = false "
                    "where {} = %s and updated_at = %s returning *"
                ).format(sql.Identifier(ent.table), sql.Identifier(ent.key))
                with conn.cursor(row_factory=dict_row) as cur:
                    row = cur.execute(
                        statement, [key, current["updated_at"]]
                    ).fetchone()
                return DeleteOutcome(
                    "deactivated",
                    f"This {ent.singular} {why}, so it was deactivated instead of "
                    "deleted: the orders keep their history, and it no longer "
                    "appears among the choices for new orders.",
                    row,
                )
        elif _is_used(conn, ent, key):
            counts = _usage(conn, ent, key)
            raise Refused(
                f"This {ent.singular} cannot be deleted: it is used by "
                f"{_describe_usage(counts)}."
            )
        statement = sql.SQL(
            "delete from raw.{} where {} = %s and updated_at = %s returning *"
        ).format(sql.Identifier(ent.table), sql.Identifier(ent.key))
        with conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(statement, [key, current["updated_at"]]).fetchone()
        if row is None:
            raise Conflict(_select(conn, ent, key), ent)
        return DeleteOutcome("deleted", f"The {ent.singular} was deleted.", row)


# ------------------------------------------------------------------ selectors


def option_label(ent: str | Entity, row: Mapping[str, Any]) -> str:
    """A human label for a row, e.g. 'Ada Lovelace <ada@x.com> (#123)'."""
    ent = entity(ent)
    key = row[ent.key]
    if ent.name == "customers":
        text = f"{row['first_name']} {row['last_name']} <{row['email']}> (#{key})"
    elif ent.name == "products":
        text = f"{row['sku']} · {row['product_name']} (#{key})"
    elif ent.name == "promotions":
        text = (
            f"{row['promo_code']} · {_percent(row['discount_pct'])} · "
            f"{as_utc(row['starts_at']):%Y-%m-%d} to {as_utc(row['ends_at']):%Y-%m-%d}"
            f" (#{key})"
        )
    elif ent.name == "regions":
        text = f"{row['region_name']} (#{key})"
    elif ent.name == "channels":
        text = f"{row['channel_name']} (#{key})"
    else:
        text = f"#{key}"
    if "is_active" in row and row["is_active"] is False:
        text += " (inactive)"
    return text


def _percent(value: Any) -> str:
    number = _decimal(value) or Decimal(0)
    return f"{number.normalize():f}%"


def search_options(
    ent: str | Entity,
    text: str | None,
    limit: int = OPTIONS_LIMIT,
    active_only: bool = True,
) -> list[tuple[int, str]]:
    """The best `limit` matches for a search-as-you-type selector: an id typed
    as digits first, then labels starting with the text, then by name; with no
    text the newest rows."""
    ent = entity(ent)
    if not ent.option_columns:
        raise ValueError(f"{ent.name} has no selector")
    limit = min(max(int(limit), 1), 100)
    words = _search_words(text)
    clauses: list[sql.Composable] = []
    params: dict[str, Any] = {"limit": limit}
    key = sql.Identifier(ent.key)
    for i, word in enumerate(words):
        name = f"w{i}"
        params[name] = like_pattern(word)
        clause = sql.SQL(_ilike(*ent.option_search)).format(p=sql.Placeholder(name))
        if re.fullmatch(r"#?\d{1,18}", word):
            params[f"{name}_id"] = int(word.lstrip("#"))
            clause = sql.SQL("({} or {} = {})").format(
                clause, key, sql.Placeholder(f"{name}_id")
            )
        clauses.append(clause)
    if active_only and ent.option_active:
        clauses.append(sql.SQL(ent.option_active))
    where = (
        sql.SQL("where ") + sql.SQL(" and ").join(clauses) if clauses else sql.SQL("")
    )
    if words:
        first = words[0]
        params["exact_id"] = (
            int(first.lstrip("#")) if re.fullmatch(r"#?\d{1,18}", first) else None
        )
        params["prefix"] = like_pattern(first)[1:]
        main = ent.option_search[0]
        order = sql.SQL(
            "order by ({key} = %(exact_id)s) desc nulls last, "
            "({main} ilike %(prefix)s) desc, {order}, {key}"
        ).format(key=key, main=sql.SQL(main), order=sql.SQL(ent.option_order))
    else:
        order = sql.SQL("order by {} desc").format(key)
    statement = sql.SQL(
        "select {columns} from raw.{table} {where} {order} limit %(limit)s"
    ).format(
        columns=sql.SQL(ent.option_columns),
        table=sql.Identifier(ent.table),
        where=where,
        order=order,
    )
    with _reading() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(statement, params).fetchall()
    return [(row[ent.key], option_label(ent, row)) for row in rows]


def label_for(ent: str | Entity, key: Any) -> str | None:
    """The selector label of one row (None when it does not exist)."""
    ent = entity(ent)
    if key is None:
        return None
    statement = sql.SQL("select {} from raw.{} where {} = %s").format(
        sql.SQL(ent.option_columns), sql.Identifier(ent.table), sql.Identifier(ent.key)
    )
    with _reading() as conn, conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(statement, [_key(key)]).fetchone()
    return option_label(ent, row) if row else None


# -------------------------------------------------------------------------- orders


def promotion_discount(quantity: Any, unit_price: Any, pct: Any) -> Decimal:
    """A line's discount for a promotion percentage, rounded half up to cents
    (as the generator computes it)."""
    q, p, d = _decimal(quantity), _decimal(unit_price), _decimal(pct)
    if q is None or p is None or d is None:
        return Decimal("0.00")
    return (q * p * d / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def order_totals(
    items: Sequence[Mapping[str, Any]], shipping: Any = 0, tax: Any = 0
) -> dict[str, Any]:
    """Items subtotal (quantity × unit price), discounts, net, shipping, tax and
    total of an order; values that are not numbers count as 0."""
    subtotal = discounts = Decimal(0)
    units = 0
    for item in items:
        q = _decimal(item.get("quantity")) or Decimal(0)
        p = _decimal(item.get("unit_price")) or Decimal(0)
        subtotal += q * p
        discounts += _decimal(item.get("discount_amount")) or Decimal(0)
        units += int(q)
    ship = _decimal(shipping) or Decimal(0)
    taxes = _decimal(tax) or Decimal(0)
    net = subtotal - discounts
    return {
        "lines": len(items),
        "units": units,
        "items_subtotal": subtotal.quantize(CENT),
        "discounts": discounts.quantize(CENT),
        "net_amount": net.quantize(CENT),
        "shipping": ship.quantize(CENT),
        "tax": taxes.quantize(CENT),
        "total": (net + ship + taxes).quantize(CENT),
    }


_ITEMS_SQL = """
select
    i.order_item_id,
    i.order_id,
    i.product_id,
    i.quantity,
    i.unit_price,
    i.discount_amount,
    i.updated_at,
    p.sku,
    p.product_name,
    p.is_active
from raw.order_items as i
left join raw.products as p on i.product_id = p.product_id
where i.order_id = %s
order by i.order_item_id
"""


def _order_items(conn: psycopg.Connection, order_id: int) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_ITEMS_SQL, [order_id]).fetchall()
    for row in rows:
        row["product_label"] = (
            option_label(PRODUCTS, row) if row["sku"] is not None else None
        )
    return rows


def get_order(order_id: Any) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The order row and its lines (with product sku, name and label)."""
    key = _key(order_id)
    with _reading() as conn:
        order = _select(conn, ORDERS, key)
        if order is None:
            return None, []
        return order, _order_items(conn, key)


def _validate_order(
    order: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    current: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    _check_keys(ORDERS, order, extra=("items",))
    cleaned, problems = _validate_fields(ORDERS.fields, order, current)
    lines: list[dict[str, Any]] = []
    if not items:
        problems["items"] = "Items: an order needs at least one line"
    for n, item in enumerate(items, start=1):
        prefix, label_prefix = f"items.{n}.", f"Line {n}, "
        # no price given: the product's list price is filled in when saving
        fill_price = item.get("unit_price") is None
        fields = [f for f in ITEM_FIELDS if not (fill_price and f.name == "unit_price")]
        line, line_problems = _validate_fields(
            fields, item, None, prefix=prefix, label_prefix=label_prefix
        )
        if fill_price:
            line["unit_price"] = None
        problems |= line_problems
        if not line_problems and line["unit_price"] is not None:
            amount = line["quantity"] * line["unit_price"]
            if line["discount_amount"] > amount:
                problems[prefix + "discount_amount"] = (
                    f"{label_prefix}Discount: must be between 0 and the line amount "
                    f"(quantity × unit price = {amount:,.2f})"
                )
        line["order_item_id"] = item.get("order_item_id")
        lines.append(line)
    if problems:
        raise ValidationError(problems)
    return cleaned, lines


def _line_changed(line: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    return any(not _same(line[f.name], old[f.name]) for f in ITEM_FIELDS)


def save_order(
    order: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    user: Any,
    expected_updated_at: Any = None,
) -> int:
    """Create (no order_id) or change an order together with its lines, in one
    transaction; returns the order id.

    Lines with an order_item_id change that line; lines without one are added;
    the order's lines not listed are deleted. A line without unit_price takes the
    product's list price. Editing needs the order's `updated_at` seen when it was
    opened; any change (of the order or a line) moves it forward. A soft-deleted
    order cannot be edited (restore it first).
    """
    _username(user)
    order_id = order.get("order_id")
    if order_id is None:
        header, lines = _validate_order(order, items, None)
        with _writing(user, ORDERS, header) as conn:
            order_id = conn.execute(
                "select nextval('raw.orders_app_id_seq')"
            ).fetchone()[0]
            _insert_order(conn, order_id, header)
            _write_lines(conn, order_id, lines, {})
        return order_id

    order_id = _key(order_id)
    if expected_updated_at is None:
        raise ValueError("expected_updated_at is needed to change an order")
    with _writing(user, ORDERS, order) as conn:
        current = _select(conn, ORDERS, order_id, lock=True)
        try:
            _check_version(ORDERS, current, expected_updated_at)
        except Conflict:
            items_now = _order_items(conn, order_id) if current else None
            raise Conflict(current, ORDERS, items_now) from None
        if current["deleted_at"] is not None:
            raise Refused("This order is deleted; restore it before changing it.")
        header, lines = _validate_order(order, items, current)
        old_lines = {row["order_item_id"]: row for row in _order_items(conn, order_id)}
        for line in lines:
            if line["order_item_id"] is not None and (
                line["order_item_id"] not in old_lines
            ):
                raise Conflict(current, ORDERS, list(old_lines.values()))
        header_changes = {
            k: v for k, v in header.items() if not _same(v, current.get(k))
        }
        kept = {line["order_item_id"] for line in lines}
        lines_changed = any(k not in kept for k in old_lines) or any(
            line["order_item_id"] is None
            or _line_changed(line, old_lines[line["order_item_id"]])
            for line in lines
        )
        if not header_changes and not lines_changed:
            return order_id
        # The order row is updated whenever anything changes, so its updated_at
        # (the version the next editor compares) moves forward.
        assignments = header_changes or {"status": current["status"]}
        statement = sql.SQL(
            "update raw.orders set {} "
            "where order_id = %(key)s and updated_at = %(expected)s "
            "returning order_id"
        ).format(
            sql.SQL(", ").join(
                sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k))
                for k in assignments
            )
        )
        params = assignments | {"key": order_id, "expected": current["updated_at"]}
        if conn.execute(statement, params).fetchone() is None:
            raise Conflict(_select(conn, ORDERS, order_id), ORDERS)
        for old_id in old_lines:
            if old_id not in kept:
                conn.execute(
                    "delete from raw.order_items "
                    "where order_item_id = %s and order_id = %s",
                    [old_id, order_id],
                )
        _write_lines(conn, order_id, lines, old_lines)
    return order_id


def _insert_order(
    conn: psycopg.Connection, order_id: int, header: Mapping[str, Any]
) -> None:
    columns = ["order_id", *header]
    statement = sql.SQL("insert into raw.orders ({}) values ({})").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder(k) for k in columns),
    )
    conn.execute(statement, {"order_id": order_id, **header})


def _write_lines(
    conn: psycopg.Connection,
    order_id: int,
    lines: Sequence[dict[str, Any]],
    old_lines: Mapping[int, Mapping[str, Any]],
) -> None:
    for n, line in enumerate(lines, start=1):
        prefix, label_prefix = f"items.{n}.", f"Line {n}, "
        old = old_lines.get(line["order_item_id"])
        if old is not None and not _line_changed(line, old):
            continue
        try:
            if line["unit_price"] is None:
                found = conn.execute(
                    "select list_price from raw.products where product_id = %s",
                    [line["product_id"]],
                ).fetchone()
                if found is None:
                    raise ValidationError(
                        {
                            prefix + "product_id": f"{label_prefix}Product: no such "
                            "product (it may have been deleted meanwhile)"
                        }
                    )
                line["unit_price"] = found[0]
            params = {**line, "order_id": order_id}
            with conn.transaction():  # a savepoint: the error names this line
                if old is None:
                    conn.execute(
                        """
                        insert into raw.order_items (
                            order_item_id, order_id, product_id, quantity,
                            unit_price, discount_amount
                        )
                        values (
                            nextval('raw.order_items_app_id_seq'), %(order_id)s,
                            %(product_id)s, %(quantity)s, %(unit_price)s,
                            %(discount_amount)s
                        )
                        """,
                        params,
                    )
                else:
                    conn.execute(
                        """
                        update raw.order_items
                        set
                            product_id = %(product_id)s,
                            quantity = %(quantity)s,
                            unit_price = %(unit_price)s,
                            discount_amount = %(discount_amount)s
                        where order_item_id = %(order_item_id)s
                            and order_id = %(order_id)s
                        """,
                        params,
                    )
        except (errors.QueryCanceled, psycopg.OperationalError):
            raise
        except psycopg.Error as exc:
            raise translate_error(
                exc,
                ORDERS,
                line,
                fields=ITEM_FIELDS,
                prefix=prefix,
                label_prefix=label_prefix,
            ) from None


_SOFT_DELETE_SQL = """
update raw.orders set deleted_at = now()
where order_id = %s and updated_at = %s
returning *
"""
_RESTORE_SQL = """
update raw.orders set deleted_at = null
where order_id = %s and updated_at = %s
returning *
"""


def _set_order_deleted(
    order_id: int, expected_updated_at: Any, user: Any, deleted: bool
) -> DeleteOutcome:
    with _writing(user, ORDERS) as conn:
        current = _select(conn, ORDERS, order_id, lock=True)
        _check_version(ORDERS, current, expected_updated_at)
        if (current["deleted_at"] is not None) == deleted:
            state = "deleted" if deleted else "not deleted"
            return DeleteOutcome(
                "unchanged", f"This order is already {state}.", current
            )
        statement = _SOFT_DELETE_SQL if deleted else _RESTORE_SQL
        with conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(statement, [order_id, current["updated_at"]]).fetchone()
        if row is None:
            raise Conflict(_select(conn, ORDERS, order_id), ORDERS)
    if deleted:
        return DeleteOutcome(
            "soft_deleted",
            "The order was deleted. It is kept (marked deleted, out of the "
            "reports) and can be restored.",
            row,
        )
    return DeleteOutcome("restored", "The order was restored.", row)


def restore_order(order_id: Any, expected_updated_at: Any, user: Any) -> DeleteOutcome:
    """Undo the soft delete of an order."""
    _username(user)
    return _set_order_deleted(_key(order_id), expected_updated_at, user, deleted=False)


# --------------------------------------------------------------------------- audit

AUDIT_TABLES = (
    "customers",
    "products",
    "orders",
    "order_items",
    "promotions",
    "regions",
    "channels",
)
AUDIT_KEYS = {
    "customers": "customer_id",
    "products": "product_id",
    "orders": "order_id",
    "order_items": "order_item_id",
    "promotions": "promotion_id",
    "regions": "region_id",
    "channels": "channel_id",
}

_AUDIT_COLUMNS = """
    a.audit_id,
    a.changed_at,
    a.table_name,
    a.action,
    a.row_key::text as row_key,
    a.changed_by,
    a.database_role,
    case
        when a.action = 'update' then array_to_string(
            array(
                select k
                from jsonb_object_keys(a.new_values) as k
                where
                    k <> 'updated_at'
                    and a.old_values -> k is distinct from a.new_values -> k
                order by k
            ),
            ', '
        )
        else ''
    end as changed_fields
"""


def list_audit(
    table: str | None = None,
    action: str | None = None,
    user: str | None = None,
    key: str | int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[pd.DataFrame, int]:
    """One page of the audit trail, newest first, and the total count.

    `user` matches part of the name; `key` is a row id (any table's key column
    when no table is chosen); dates are inclusive days (UTC).
    """
    clauses: list[sql.Composable] = []
    params: dict[str, Any] = {}
    if table:
        if table not in AUDIT_TABLES:
            raise ValueError(f"unknown table {table!r}")
        clauses.append(sql.SQL("a.table_name = %(table)s"))
        params["table"] = table
    if action:
        if action not in AUDIT_ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        clauses.append(sql.SQL("a.action = %(action)s"))
        params["action"] = action
    user = (user or "").replace("\x00", "").strip()
    if user:
        clauses.append(sql.SQL("a.changed_by ilike %(user)s"))
        params["user"] = like_pattern(user)
    key_text = str(key if key is not None else "").replace("\x00", "").strip()
    key_text = key_text.lstrip("#")
    if key_text:
        if table and re.fullmatch(r"\d{1,18}", key_text):
            # uses the (table_name, row_key) index
            clauses.append(sql.SQL("a.row_key = %(row_key)s"))
            params["row_key"] = Jsonb({AUDIT_KEYS[table]: int(key_text)})
        else:
            clauses.append(
                sql.SQL(
                    "exists (select from jsonb_each_text(a.row_key) as k "
                    "where k.value = %(key)s)"
                )
            )
            params["key"] = key_text
    if date_from:
        clauses.append(sql.SQL("a.changed_at >= %(date_from)s"))
        params["date_from"] = as_utc(date_from)
    if date_to:
        clauses.append(sql.SQL("a.changed_at < %(date_to)s"))
        params["date_to"] = as_utc(date_to) + timedelta(days=1)
    where = (
        sql.SQL("where ") + sql.SQL(" and ").join(clauses) if clauses else sql.SQL("")
    )
    page = max(int(page), 1)
    page_size = min(max(int(page_size), 1), MAX_PAGE_SIZE)
    params |= {"limit": page_size, "offset": (page - 1) * page_size}
    count_sql = sql.SQL("select count(*) from app.audit_log as a {}").format(where)
    page_sql = sql.SQL(
        "select {} from app.audit_log as a {} "
        "order by a.changed_at desc, a.audit_id desc "
        "limit %(limit)s offset %(offset)s"
    ).format(sql.SQL(_AUDIT_COLUMNS), where)
    with _reading() as conn:
        total = conn.execute(count_sql, params).fetchone()[0]
        cur = conn.execute(page_sql, params)
        columns = [d.name for d in cur.description or []]
        frame = pd.DataFrame(cur.fetchall(), columns=columns)
    return frame, int(total)


def get_audit(audit_id: Any) -> dict[str, Any] | None:
    """One audit entry with its old and new values (dicts)."""
    with _reading() as conn, conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "select * from app.audit_log where audit_id = %s", [_key(audit_id)]
        ).fetchone()


def audit_users() -> list[str]:
    """Who appears in the audit trail (for the user filter)."""
    with _reading() as conn:
        rows = conn.execute(
            "select distinct changed_by from app.audit_log order by 1 limit 500"
        ).fetchall()
    return [row[0] for row in rows]


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False)


def audit_changes(entry: Mapping[str, Any]) -> pd.DataFrame:
    """Field by field: old value, new value (as JSON text) and whether it
    changed; changed fields first."""
    old = entry.get("old_values") or {}
    new = entry.get("new_values") or {}
    names = list(dict.fromkeys([*new.keys(), *old.keys()]))
    rows = [
        {
            "field": name,
            "old": _json_text(old.get(name)) if name in old else "",
            "new": _json_text(new.get(name)) if name in new else "",
            "changed": (name in old) != (name in new) or old.get(name) != new.get(name),
        }
        for name in names
    ]
    frame = pd.DataFrame(rows, columns=["field", "old", "new", "changed"])
    return frame.sort_values("changed", ascending=False, kind="stable").reset_index(
        drop=True
    )
