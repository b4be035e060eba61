"""The raw tables as the Spark load sees them: each column's type, what an
empty field takes, the keys, the CHECK constraints (as Spark SQL, with the same
names and the same readable text as PostgreSQL's reject reasons) and the foreign
keys.

The tables are defined once, in core/sql/001_raw_tables.sql; there is no catalog
to read them from on Spark, so they are restated here, and
tests/test_spark_load.py compares this module with PostgreSQL's catalog (names,
types, required columns, defaults, constraints) so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core import enums

# Stored money: exact decimals, 4 decimals kept (values are below 10^14).
MONEY_TYPE = "decimal(38,4)"
# Parsed before the decimals are checked, so that nothing is rounded first.
PARSE_DECIMAL = "decimal(38,18)"


@dataclass(frozen=True)
class SparkColumn:
    name: str
    kind: str  # id, text, char, integer, numeric, timestamp, date, boolean
    length: int | None = None  # of text, char and id columns
    required: bool = False  # NOT NULL without a default
    default: str | None = None  # Spark SQL for an empty field (NOT NULL columns)
    decimals: int | None = None  # numeric: at most this many

    @property
    def pg_type(self) -> str:
        """The PostgreSQL type, as messages and the catalog name it."""
        return {
            "id": f"character varying({self.length})",
            "text": f"character varying({self.length})",
            "char": f"character({self.length})",
            "integer": "integer",
            "numeric": "numeric",
            "timestamp": "timestamp with time zone",
            "date": "date",
            "boolean": "boolean",
        }[self.kind]

    @property
    def spark_type(self) -> str:
        if self.kind == "numeric":
            return MONEY_TYPE if self.decimals == 4 else f"decimal(38,{self.decimals})"
        return {
            "integer": "int",
            "timestamp": "timestamp",
            "date": "date",
            "boolean": "boolean",
        }.get(self.kind, "string")


@dataclass(frozen=True)
class Check:
    name: str
    readable: str  # PostgreSQL's text of the constraint, as reasons quote it
    expression: str  # Spark SQL over the typed columns; null counts as passing


@dataclass(frozen=True)
class ForeignKey:
    column: str
    parent: str
    parent_column: str


@dataclass
class SparkTable:
    name: str
    columns: list[SparkColumn]
    primary_key: str
    unique_keys: list[str] = field(default_factory=list)
    # unique on an expression: (index name, Spark SQL, readable, column)
    unique_indexes: list[tuple[str, str, str, str]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def money(self) -> list[str]:
        return [c.name for c in self.columns if c.decimals == 4]

    def column(self, name: str) -> SparkColumn:
        return next(c for c in self.columns if c.name == name)


NOW = "current_timestamp()"


def _id(name: str, required: bool = False) -> SparkColumn:
    return SparkColumn(name, "id", 64, required=required)


def _text(name: str, length: int, required: bool = False, default=None):
    return SparkColumn(name, "text", length, required=required, default=default)


def _ts(name: str, required: bool = False, default: str | None = None):
    return SparkColumn(name, "timestamp", required=required, default=default)


def _money(name: str, default: str | None = None, decimals: int = 4):
    return SparkColumn(name, "numeric", default=default, decimals=decimals)


def _in_range(column: str) -> Check:
    return Check(
        f"{column}_in_range",
        f"({column} >= '1970-01-01 00:00:00+00') AND "
        f"({column} < '2100-01-01 00:00:00+00')",
        f"{column} >= timestamp'1970-01-01 00:00:00Z' and "
        f"{column} < timestamp'2100-01-01 00:00:00Z'",
    )


def _known(name: str, column: str, values: tuple[str, ...]) -> Check:
    listed = ", ".join(f"'{v}'" for v in values)
    return Check(name, f"{column} = ANY ((ARRAY[{listed}]))", f"{column} in ({listed})")


def _not_negative(name: str, column: str) -> Check:
    return Check(name, f"{column} >= 0", f"{column} >= 0")


def _printable(column: str) -> Check:
    return Check(
        f"{column}_printable",
        f"{column} ~ '^[^[:space:][:cntrl:]]([^[:cntrl:]]*[^[:space:][:cntrl:]])?$'",
        rf"{column} rlike '^[^\\s\\p{{Cntrl}}]([^\\p{{Cntrl}}]*[^\\s\\p{{Cntrl}}])?$'",
    )


def _money_checks(column: str, decimals: int = 4) -> list[Check]:
    """The rules of every money column. 'NaN' and infinities parse (as in
    PostgreSQL) but are not amounts: see landing.SPECIAL."""
    return [
        Check(
            f"{column}_at_most_{decimals}_decimals",
            f"{column} = round({column}, {decimals})",
            f"{column} = round({column}, {decimals})",
        ),
        Check(
            f"{column}_below_1e14",
            f"abs({column}) < ('100000000000000')",
            f"{column}__special is null and abs({column}) < 100000000000000",
        ),
        Check(
            f"{column}_is_a_number",
            f"{column} <> 'NaN'",
            f"coalesce({column}__special, '') <> 'nan'",
        ),
    ]


def _money_not_negative(name: str, column: str) -> Check:
    return Check(
        name,
        f"{column} >= 0",
        f"{column} >= 0 and coalesce({column}__special, '') <> '-inf'",
    )


def _unique_trim(table: str, column: str) -> tuple[str, str, str, str]:
    return (f"{table}_{column}_trim_key", f"trim({column})", f"trim({column})", column)


_REGIONS = SparkTable(
    "regions",
    [
        _id("region_id", True),
        _text("region_name", 100, True),
        _ts("updated_at", default=NOW),
    ],
    "region_id",
    unique_keys=["region_name"],
    unique_indexes=[_unique_trim("regions", "region_name")],
    checks=[_printable("region_id"), _in_range("updated_at")],
)
_CHANNELS = SparkTable(
    "channels",
    [
        _id("channel_id", True),
        _text("channel_name", 100, True),
        _text("channel_type", 20, default="'unknown'"),
        _ts("updated_at", default=NOW),
    ],
    "channel_id",
    unique_keys=["channel_name"],
    checks=[
        _printable("channel_id"),
        _known("channel_type_known", "channel_type", enums.CHANNEL_TYPES),
        _in_range("updated_at"),
    ],
)
_CUSTOMERS = SparkTable(
    "customers",
    [
        _id("customer_id", True),
        _text("first_name", 100),
        _text("last_name", 100),
        _text("email", 254),
        _text("phone", 40),
        SparkColumn("birth_date", "date"),
        _text("city", 100),
        SparkColumn("country_code", "char", 2),
        _id("region_id"),
        _text("segment", 20, default="'unknown'"),
        _id("acquisition_channel_id"),
        _ts("signup_at"),
        SparkColumn("is_active", "boolean", default="true"),
        _ts("updated_at", default=NOW),
    ],
    "customer_id",
    unique_keys=["email"],
    unique_indexes=[
        ("customers_email_lower_key", "lower(email)", "lower(email)", "email")
    ],
    checks=[
        Check(
            "birth_date_in_range",
            "(birth_date >= '1900-01-01') AND (birth_date < '2100-01-01')",
            "birth_date >= date'1900-01-01' and birth_date < date'2100-01-01'",
        ),
        Check(
            "country_code_format",
            "country_code ~ '^[A-Z]{2}$'",
            "country_code rlike '^[A-Z]{2}$'",
        ),
        _printable("customer_id"),
        Check(
            "email_format",
            r"email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'",
            r"email rlike '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$'",
        ),
        _known("segment_known", "segment", enums.SEGMENTS),
        _in_range("signup_at"),
        _in_range("updated_at"),
    ],
    foreign_keys=[
        ForeignKey("acquisition_channel_id", "channels", "channel_id"),
        ForeignKey("region_id", "regions", "region_id"),
    ],
)
_PRODUCTS = SparkTable(
    "products",
    [
        _id("product_id", True),
        _text("sku", 64),
        _text("product_name", 200),
        _text("category", 50),
        _text("subcategory", 50),
        _text("brand", 100),
        _money("unit_cost"),
        _money("list_price"),
        SparkColumn("stock_quantity", "integer"),
        SparkColumn("reorder_point", "integer"),
        SparkColumn("is_active", "boolean", default="true"),
        _ts("created_at", default=NOW),
        _ts("updated_at", default=NOW),
    ],
    "product_id",
    unique_keys=["sku"],
    unique_indexes=[_unique_trim("products", "sku")],
    checks=[
        _in_range("created_at"),
        *_money_checks("list_price"),
        _money_not_negative("list_price_not_negative", "list_price"),
        _printable("product_id"),
        _not_negative("reorder_point_not_negative", "reorder_point"),
        _not_negative("stock_not_negative", "stock_quantity"),
        *_money_checks("unit_cost"),
        _money_not_negative("unit_cost_not_negative", "unit_cost"),
        _in_range("updated_at"),
    ],
)
_PROMOTIONS = SparkTable(
    "promotions",
    [
        _id("promotion_id", True),
        _text("promo_code", 40, True),
        _text("description", 200),
        SparkColumn("discount_pct", "numeric", required=True, decimals=2),
        _ts("starts_at", True),
        _ts("ends_at", True),
        _ts("updated_at", default=NOW),
    ],
    "promotion_id",
    unique_keys=["promo_code"],
    unique_indexes=[_unique_trim("promotions", "promo_code")],
    checks=[
        *_money_checks("discount_pct", 2),
        Check(
            "discount_pct_range",
            "(discount_pct > 0) AND (discount_pct <= 100)",
            "discount_pct > 0 and discount_pct <= 100",
        ),
        _in_range("ends_at"),
        Check(
            "promotion_dates_in_order", "ends_at >= starts_at", "ends_at >= starts_at"
        ),
        _printable("promotion_id"),
        _in_range("starts_at"),
        _in_range("updated_at"),
    ],
)
_ORDERS = SparkTable(
    "orders",
    [
        _id("order_id", True),
        _id("customer_id"),
        _id("channel_id"),
        _id("ship_region_id"),
        _id("promotion_id"),
        _ts("ordered_at", True),
        _text("status", 20, default="'delivered'"),
        _text("payment_status", 20, default="'paid'"),
        _text("payment_method", 20, default="'unknown'"),
        _money("shipping_amount", default="0"),
        _money("tax_amount", default="0"),
        _ts("updated_at", default=NOW),
        _ts("deleted_at"),
    ],
    "order_id",
    checks=[
        _in_range("deleted_at"),
        _printable("order_id"),
        _known("order_status_known", "status", enums.ORDER_STATUSES),
        _in_range("ordered_at"),
        _known("payment_method_known", "payment_method", enums.PAYMENT_METHODS),
        _known("payment_status_known", "payment_status", enums.PAYMENT_STATUSES),
        *_money_checks("shipping_amount"),
        _money_not_negative("shipping_not_negative", "shipping_amount"),
        *_money_checks("tax_amount"),
        _money_not_negative("tax_not_negative", "tax_amount"),
        _in_range("updated_at"),
    ],
    foreign_keys=[
        ForeignKey("channel_id", "channels", "channel_id"),
        ForeignKey("customer_id", "customers", "customer_id"),
        ForeignKey("promotion_id", "promotions", "promotion_id"),
        ForeignKey("ship_region_id", "regions", "region_id"),
    ],
)
_ORDER_ITEMS = SparkTable(
    "order_items",
    [
        _id("order_item_id", True),
        _id("order_id", True),
        _id("product_id", True),
        SparkColumn("quantity", "integer", required=True),
        _money("unit_price"),
        _money("line_amount"),
        _money("discount_amount", default="0"),
        _ts("updated_at", default=NOW),
    ],
    "order_item_id",
    checks=[
        *_money_checks("discount_amount"),
        Check(
            "discount_within_line_amount",
            "(discount_amount >= 0) AND "
            "(discount_amount <= COALESCE(line_amount, (quantity * unit_price)))",
            "discount_amount >= 0 and "
            "discount_amount <= coalesce(line_amount, quantity * unit_price)",
        ),
        *_money_checks("line_amount"),
        _money_not_negative("line_amount_not_negative", "line_amount"),
        _printable("order_item_id"),
        Check(
            "price_given",
            "(unit_price IS NOT NULL) OR (line_amount IS NOT NULL)",
            "(unit_price is not null or unit_price__special is not null) "
            "or (line_amount is not null or line_amount__special is not null)",
        ),
        Check("quantity_positive", "quantity > 0", "quantity > 0"),
        *_money_checks("unit_price"),
        _money_not_negative("unit_price_not_negative", "unit_price"),
        _in_range("updated_at"),
    ],
    foreign_keys=[
        ForeignKey("order_id", "orders", "order_id"),
        ForeignKey("product_id", "products", "product_id"),
    ],
)

# in load order: parents first
SPARK_TABLES: dict[str, SparkTable] = {
    t.name: t
    for t in (
        _REGIONS,
        _CHANNELS,
        _CUSTOMERS,
        _PRODUCTS,
        _PROMOTIONS,
        _ORDERS,
        _ORDER_ITEMS,
    )
}
for _table in SPARK_TABLES.values():
    # PostgreSQL checks (and names the broken ones) in the order of their names
    _table.checks.sort(key=lambda c: c.name)
