"""The editable tables of `raw`: one `Entity` each (fields, list columns, search,
sorts, filters, selector), the fields of an order line, and what refers to what.
"""

from __future__ import annotations

from decimal import Decimal

from core.editing.fields import INT_MAX, Entity, Field, Filter, ilike
from core.enums import (
    CHANNEL_TYPES,
    ORDER_STATUSES,
    PAYMENT_METHODS,
    PAYMENT_STATUSES,
    SEGMENTS,
)


def _unknown_or_first(choices: tuple[str, ...]) -> str:
    """The default of a choice the source may not give: 'unknown' (as in raw)."""
    return "unknown" if "unknown" in choices else choices[0]


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
    search=ilike("r.region_name"),
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
        Field(
            "channel_type",
            "Channel type",
            "choice",
            choices=CHANNEL_TYPES,
            default=_unknown_or_first(CHANNEL_TYPES),
        ),
    ),
    list_columns="h.channel_id, h.channel_name, h.channel_type, h.updated_at",
    joins="",
    search=ilike("h.channel_name", "h.channel_type"),
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
        Field("first_name", "First name", "text", required=False, max_length=100),
        Field("last_name", "Last name", "text", required=False, max_length=100),
        Field("email", "Email", "email", required=False, max_length=254),
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
            required=False,
            max_length=2,
            help="Two capital letters (ISO 3166), like DE or FR.",
        ),
        Field("region_id", "Region", "ref", required=False, ref="regions"),
        Field(
            "segment",
            "Segment",
            "choice",
            choices=SEGMENTS,
            default=_unknown_or_first(SEGMENTS),
        ),
        Field(
            "acquisition_channel_id",
            "Acquisition channel",
            "ref",
            required=False,
            ref="channels",
        ),
        # a new customer signs up now; left empty on an edit it is unknown
        Field("signup_at", "Signed up at", "datetime", required=False, default="now"),
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
    search=ilike(
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
            "c.region_id = any({p}::text[])",
            ref="regions",
        ),
        Filter(
            "acquisition_channel_id",
            "Acquisition channel",
            "multi",
            "c.acquisition_channel_id = any({p}::text[])",
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
        Field("sku", "SKU", "text", required=False, max_length=64),
        Field("product_name", "Product name", "text", required=False, max_length=200),
        Field("category", "Category", "text", required=False, max_length=50),
        Field("subcategory", "Subcategory", "text", required=False, max_length=50),
        Field("brand", "Brand", "text", required=False, max_length=100),
        Field(
            "unit_cost",
            "Unit cost",
            "money",
            required=False,
            minimum=Decimal(0),
            help="Leave empty when unknown: margins then say 'not available'.",
        ),
        Field(
            "list_price",
            "List price",
            "money",
            required=False,
            minimum=Decimal(0),
            exclusive_minimum=True,
        ),
        Field(
            "stock_quantity",
            "Stock quantity",
            "int",
            required=False,
            minimum=0,
            maximum=INT_MAX,
            help="Leave empty when the stock is not tracked.",
        ),
        Field(
            "reorder_point",
            "Reorder point",
            "int",
            required=False,
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
    search=ilike("p.sku", "p.product_name", "p.brand", "p.category", "p.subcategory"),
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
    search=ilike("m.promo_code", "m.description"),
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
        Field(
            "customer_id",
            "Customer",
            "ref",
            required=False,
            ref="customers",
            help="Leave empty for an anonymous order.",
        ),
        Field("channel_id", "Channel", "ref", required=False, ref="channels"),
        Field("ship_region_id", "Ship to region", "ref", required=False, ref="regions"),
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
        coalesce(
            nullif(concat_ws(' ', cus.first_name, cus.last_name), ''),
            cus.customer_id
        ) as customer,
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
                sum(coalesce(i.line_amount, i.quantity * i.unit_price)) as subtotal,
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
            "o.channel_id = any({p}::text[])",
            ref="channels",
        ),
        Filter(
            "ship_region_id",
            "Ship to region",
            "multi",
            "o.ship_region_id = any({p}::text[])",
            ref="regions",
        ),
        Filter("ordered_from", "Ordered from", "date_from", "o.ordered_at >= {p}"),
        Filter("ordered_to", "Ordered up to", "date_to", "o.ordered_at < {p}"),
        Filter("customer_id", "Customer", "equals", "o.customer_id = {p}::text"),
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
    # at least one of unit price and line amount (CHECK price_given); neither
    # given: the product's list price is filled in when saving
    Field("unit_price", "Unit price", "money", required=False, minimum=Decimal(0)),
    Field(
        "line_amount",
        "Line amount",
        "money",
        required=False,
        minimum=Decimal(0),
        help="Quantity × unit price before the discount, when the source gives it.",
    ),
    Field(
        "discount_amount",
        "Discount",
        "money",
        minimum=Decimal(0),
        default=Decimal(0),
    ),
)


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
    """The entity of that name (an Entity is returned as it is)."""
    if isinstance(name, Entity):
        return name
    try:
        return ENTITIES[name]
    except KeyError:
        raise ValueError(f"unknown entity {name!r}") from None
