"""The files' side of the raw data contract: each table's columns, in DDL order.

The header of every generated CSV is its table's tuple here, and the tables are
listed in load order (parents before children).
"""

from __future__ import annotations

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "regions": ("region_id", "region_name", "updated_at"),
    "channels": ("channel_id", "channel_name", "channel_type", "updated_at"),
    "promotions": (
        "promotion_id",
        "promo_code",
        "description",
        "discount_pct",
        "starts_at",
        "ends_at",
        "updated_at",
    ),
    "customers": (
        "customer_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "birth_date",
        "city",
        "country_code",
        "region_id",
        "segment",
        "acquisition_channel_id",
        "signup_at",
        "is_active",
        "updated_at",
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
        "is_active",
        "created_at",
        "updated_at",
    ),
    "orders": (
        "order_id",
        "customer_id",
        "channel_id",
        "ship_region_id",
        "promotion_id",
        "ordered_at",
        "status",
        "payment_status",
        "payment_method",
        "shipping_amount",
        "tax_amount",
        "updated_at",
        "deleted_at",
    ),
    "order_items": (
        "order_item_id",
        "order_id",
        "product_id",
        "quantity",
        "unit_price",
        "discount_amount",
        "updated_at",
    ),
}
LOAD_ORDER: tuple[str, ...] = tuple(TABLE_COLUMNS)
