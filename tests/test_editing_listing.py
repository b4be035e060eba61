"""Lists and selectors of the editing layer (core.editing): search words,
filters, sort and pages compared with independent SQL, and the
search-as-you-type options."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import editing_support
import pytest
from editing_support import (
    USER,
    ids,
    sql_one,
    sql_rows,
    valid,
)

from core import editing

# The fixtures of editing_support: a small shop in this module's own database.
shop = editing_support.shop
env = editing_support.env


def test_search_matches_every_word_in_any_column(env):
    frame, total = editing.list_rows("customers", "ma SAL", page_size=100)
    expected = sql_rows(
        env,
        """
        select customer_id from raw.customers
        where
            concat_ws('|', first_name, last_name, email, phone, city, country_code)
            ~* %(first)s
            and concat_ws('|', first_name, last_name, email, phone, city,
                country_code) ~* %(second)s
        order by customer_id
        """,
        {"first": "ma", "second": "sal"},
    )
    assert total == len(expected) > 0
    assert ids(frame, "customer_id") == [r[0] for r in expected]


def test_search_by_id_is_an_exact_text_match(env):
    frame, _ = editing.list_rows("customers", "#17", page_size=100)
    assert "17" in ids(frame, "customer_id")
    frame, _ = editing.list_rows("customers", "17", page_size=100)
    assert "17" in ids(frame, "customer_id")
    # an id is not a number: "017" and "17.0" are other ids
    for other in ("017", "17.0"):
        frame, _ = editing.list_rows("customers", other, page_size=100)
        assert "17" not in ids(frame, "customer_id"), other
    frame, _ = editing.list_rows("orders", "#5", filters={"deleted": "include"})
    assert "5" in ids(frame, "order_id")


def test_search_wildcards_are_literal(env):
    odd = editing.create_row(
        "customers", valid("customers") | {"city": "100%_real\\city"}, USER
    )
    plain = editing.create_row(
        "customers", valid("customers") | {"city": "1000 real"}, USER
    )
    for text in ("%", "_", "0%_r", "\\"):
        frame, total = editing.list_rows("customers", text, page_size=100)
        found = ids(frame, "customer_id")
        assert odd["customer_id"] in found, text
        assert plain["customer_id"] not in found, text
        expected = sql_one(
            env,
            """
            select count(*) from raw.customers
            where strpos(lower(concat_ws(' ', first_name, last_name, email, phone,
                city, country_code)), lower(%s)) > 0
            """,
            [text],
        )
        assert total == expected, text


def test_filters_sort_and_pages_equal_sql(env):
    expected = [
        r[0]
        for r in sql_rows(
            env,
            """
            select customer_id from raw.customers
            where segment = any(%s) and region_id = any(%s) and is_active
            order by last_name desc nulls last, customer_id desc
            """,
            [["consumer", "corporate"], ["1", "2", "3"]],
        )
    ]
    assert len(expected) > 14
    filters = {
        "segment": ["consumer", "corporate"],
        "region_id": ["1", "2", "3"],
        "is_active": True,
    }
    seen: list[str] = []
    page = 1
    while True:
        frame, total = editing.list_rows(
            "customers", "", filters, "last_name", True, page=page, page_size=7
        )
        assert total == len(expected)
        if frame.empty:
            break
        assert len(frame) <= 7
        seen += ids(frame, "customer_id")
        page += 1
    assert seen == expected
    assert page - 1 == editing.page_count(len(expected), 7)


def test_product_filters_and_reorder_flag(env):
    frame, total = editing.list_rows(
        "products",
        filters={"category": ["electronics", "toys"], "low_stock": True},
        sort="stock_quantity",
        page_size=100,
    )
    expected = sql_rows(
        env,
        """
        select product_id from raw.products
        where category in ('electronics', 'toys') and stock_quantity < reorder_point
        order by stock_quantity, product_id
        """,
    )
    assert total == len(expected)
    assert ids(frame, "product_id") == [r[0] for r in expected]
    assert frame["below_reorder_point"].all() if total else True
    everything, _ = editing.list_rows("products", page_size=100)
    flags = dict(
        zip(everything["product_id"], everything["below_reorder_point"], strict=True)
    )
    for product_id, stock, reorder in sql_rows(
        env, "select product_id, stock_quantity, reorder_point from raw.products"
    ):
        if product_id in flags:
            assert flags[product_id] == (stock < reorder)


def test_order_filters_and_totals_equal_sql(env):
    start, end = date(2024, 1, 1), date(2024, 6, 30)
    frame, total = editing.list_rows(
        "orders",
        filters={
            "status": ["delivered", "shipped"],
            "payment_status": ["paid"],
            "ordered_from": start,
            "ordered_to": end,
            "deleted": "hide",
        },
        sort="ordered_at",
        page_size=50,
    )
    expected = sql_rows(
        env,
        """
        select
            o.order_id,
            coalesce(sum(i.quantity * i.unit_price), 0) - coalesce(
                sum(i.discount_amount), 0
            ) + o.shipping_amount + o.tax_amount
        from raw.orders as o
        left join raw.order_items as i on o.order_id = i.order_id
        where o.status in ('delivered', 'shipped') and o.payment_status = 'paid'
          and o.ordered_at >= %s and o.ordered_at < %s and o.deleted_at is null
        group by o.order_id
        order by o.ordered_at, o.order_id
        """,
        [
            datetime.combine(start, datetime.min.time(), UTC),
            datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC),
        ],
    )
    assert total == len(expected) > 0
    assert ids(frame, "order_id") == [r[0] for r in expected[:50]]
    assert [Decimal(v) for v in frame["total"]] == [r[1] for r in expected[:50]]


def test_unknown_sort_or_filter_is_refused(env):
    with pytest.raises(ValueError):
        editing.list_rows("customers", sort="email; drop table raw.customers")
    with pytest.raises(ValueError):
        editing.list_rows("customers", filters={"1=1": True})
    with pytest.raises(ValueError):
        editing.list_rows("nope")


def test_search_options_for_selectors(env):
    options = editing.search_options("customers", "maggie")
    assert options and len(options) <= 20
    key, label = options[0]
    row = editing.get_row("customers", key)
    assert label == (
        f"{row['first_name']} {row['last_name']} <{row['email']}> (#{key})"
    )
    assert editing.search_options("customers", str(key))[0][0] == key
    assert len(editing.search_options("products", "")) == 20
    assert (
        editing.label_for("regions", 1) == editing.search_options("regions", "#1")[0][1]
    )
    # inactive rows are not offered for new orders
    inactive = editing.create_row(
        "products", valid("products") | {"is_active": False}, USER
    )
    sku = inactive["sku"]
    assert editing.search_options("products", sku) == []
    assert (
        editing.search_options("products", sku, active_only=False)[0][0]
        == (inactive["product_id"])
    )
