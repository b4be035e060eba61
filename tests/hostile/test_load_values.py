"""Values the raw tables used to accept that broke the build: NaN amounts,
infinite or absurd timestamps and dates, an email that differs from another one
only by case. Both load paths reject them with the constraint's name, and
databases created before get the constraints too."""

from __future__ import annotations

import pytest
from conftest import query
from test_load import load_directory  # without the reject limit

from core import db
from core.schema import apply_schema

from .load_support import (
    TS,
    customer,
    item,
    landing_fixture,  # noqa: F401  (the `landing` fixture)
    order,
    write_dataset,
)

LATER = "2024-02-01T00:00:00Z"

# table -> (row, constraint its reason must name); the rows follow the base rows
HOSTILE = {
    "regions": [("3,East,infinity", "updated_at_in_range")],
    "customers": [
        (customer(60).replace("1990-01-01", "1899-12-31"), "birth_date_in_range"),
        (customer(61).replace("1990-01-01", "2100-01-01"), "birth_date_in_range"),
        (customer(62).replace(TS, "infinity", 1), "signup_at_in_range"),
        (customer(63).replace(TS, "1969-12-31T23:59:59Z", 1), "signup_at_in_range"),
    ],
    "products": [
        (
            f"2,SKU-2,Lamp,home,lighting,Acme,NaN,9.99,10,5,true,{TS},{TS}",
            "unit_cost_is_a_number",
        ),
        (
            f"3,SKU-3,Lamp,home,lighting,Acme,5.00,nan,10,5,true,{TS},{TS}",
            "list_price_is_a_number",
        ),
        (
            f"4,SKU-4,Lamp,home,lighting,Acme,5.00,9.99,10,5,true,-infinity,{TS}",
            "created_at_in_range",
        ),
    ],
    "promotions": [
        (f"2,P2,Odd,NaN,{TS},{LATER},{TS}", "discount_pct_is_a_number"),
        (f"3,P3,Odd,5,{TS},infinity,{TS}", "ends_at_in_range"),
    ],
    "orders": [
        (order(12, ts="infinity"), "ordered_at_in_range"),
        (order(13, ts="-infinity"), "ordered_at_in_range"),
        (order(14, ts="0001-01-01T00:00:00Z"), "ordered_at_in_range"),
        (order(15, ts="9999-12-31T00:00:00Z"), "ordered_at_in_range"),
        (order(16, ts="2100-01-01T00:00:00+00:00"), "ordered_at_in_range"),
        (
            f"17,1,1,1,,{TS},delivered,paid,card,NaN,1.00,{TS},",
            "shipping_amount_is_a_number",
        ),
        (f"18,1,1,1,,{TS},delivered,paid,card,1,NaN,{TS},", "tax_amount_is_a_number"),
        (
            f"19,1,1,1,,{TS},cancelled,paid,card,1,1,{TS},infinity",
            "deleted_at_in_range",
        ),
        (order(20).replace(f",{TS},", ",infinity,", 1), "ordered_at_in_range"),
    ],
    "order_items": [
        (item(30, price="NaN"), "unit_price_is_a_number"),
        (f"31,1,1,1,10.00,NaN,{TS}", "discount_amount_is_a_number"),
        ("32,1,1,1,10.00,0,infinity", "updated_at_in_range"),
    ],
}
# the names of the bounds added to existing databases (21 constraints)
NEW_CONSTRAINTS = (
    r"where conname like '%%\_in\_range' or conname like '%%\_is\_a\_number'"
    r" or conname like '%%\_below\_1e14'"
)
BASE_ROWS = {
    "regions": 2,
    "customers": 5,
    "products": 1,
    "promotions": 1,
    "orders": 10,
    "order_items": 20,
}


def test_nan_and_out_of_range_times_are_rejected_by_name(fresh_db, tmp_path, landing):
    extra = {table: [row for row, _ in rows] for table, rows in HOSTILE.items()}
    load_directory(fresh_db, write_dataset(tmp_path / "d", extra))
    reasons = dict(
        query(
            fresh_db,
            "select table_name || ':' || line_number, reason from raw.load_rejects",
        )
    )
    expected = {
        f"{table}:{BASE_ROWS[table] + 2 + n}": name
        for table, rows in HOSTILE.items()
        for n, (_, name) in enumerate(rows)
    }
    assert reasons.keys() == expected.keys()
    for key, name in expected.items():
        assert f"violates {name}:" in reasons[key], (key, reasons[key])
    for table, column in [
        ("products", "unit_cost"),
        ("products", "list_price"),
        ("order_items", "unit_price"),
    ]:
        assert query(
            fresh_db, f"select count(*) from raw.{table} where {column} = 'NaN'"
        ) == [(0,)]


def test_an_email_that_differs_only_by_case_is_rejected(fresh_db, tmp_path, landing):
    data = write_dataset(tmp_path / "d")
    load_directory(fresh_db, data)
    # alone in its file: the direct COPY fails on the index, the sifted path says why
    (data / "customers__a.csv").write_text(
        "customer_id,first_name,last_name,email,country_code,region_id,segment,"
        f"acquisition_channel_id,signup_at\n70,A,B,C2@EXAMPLE.COM,NO,1,consumer,1,{TS}\n"
    )
    (data / "customers__b.csv").write_text(
        "customer_id,first_name,last_name,email,country_code,region_id,segment,"
        "acquisition_channel_id,signup_at\n"
        f"71,A,B,New@Example.com,NO,1,consumer,1,{TS}\n"
        f"72,A,B,new@example.COM,NO,1,consumer,1,{TS}\n"
        f"3,A,B,C3@Example.com,NO,1,consumer,1,{TS}\n"  # its own email, recased
        f"73,A,B,c1@EXAMPLE.com,NO,1,consumer,1,{TS}\n"
    )
    results = {r.file: r for r in load_directory(fresh_db, data)}
    assert results["customers__a.csv"].method == "sifted"
    assert (
        results["customers__b.csv"].rows_loaded,
        results["customers__b.csv"].rows_rejected,
    ) == (2, 2)
    reasons = dict(
        query(
            fresh_db,
            "select file_name || ':' || line_number, reason from raw.load_rejects",
        )
    )
    taken = "violates customers_email_lower_key: lower(email) already used by another"
    assert taken in reasons["customers__a.csv:2"]
    assert taken in reasons["customers__b.csv:5"]
    assert (
        "violates customers_email_lower_key: duplicate lower(email) in file "
        "(first on line 2)"
    ) in reasons["customers__b.csv:3"]
    emails = dict(query(fresh_db, "select customer_id, email from raw.customers"))
    assert emails["71"] == "New@Example.com" and emails["3"] == "C3@Example.com"
    assert "70" not in emails and "72" not in emails and "73" not in emails


def test_a_database_created_before_gets_the_constraints(fresh_db, tmp_path):
    """Drop the new constraints and index, store rows that break them, apply
    the schema again: it adds them (NOT VALID where old rows break them), the
    old rows stay, and new rows are checked."""
    data = write_dataset(tmp_path / "d")
    load_directory(fresh_db, data)
    notices = []
    with db.connect(fresh_db) as conn:
        names = conn.execute(
            "select conrelid::regclass::text, conname from pg_constraint "
            + NEW_CONSTRAINTS
        ).fetchall()
        assert len(names) == 30
        for table, name in names:
            conn.execute(f"alter table {table} drop constraint {name}")
        conn.execute("drop index raw.customers_email_lower_key")
        conn.execute("set ecom.bulk_load = on")
        conn.execute("update raw.products set unit_cost = 'NaN'")
        conn.execute(
            "update raw.customers set email = 'C2@EXAMPLE.COM' where customer_id = '1'"
        )
        conn.execute(
            "update raw.customers set email = 'c2@example.com' where customer_id = '2'"
        )
        conn.commit()
        conn.add_notice_handler(lambda d: notices.append(d.message_primary))
        apply_schema(conn)
        conn.commit()
        found = dict(
            conn.execute(
                "select conrelid::regclass::text || '.' || conname, convalidated "
                "from pg_constraint " + NEW_CONSTRAINTS
            ).fetchall()
        )
        lower_index = conn.execute(
            "select to_regclass('raw.customers_email_lower_key')"
        ).fetchone()[0]
    assert len(found) == 30
    assert found["raw.products.unit_cost_is_a_number"] is False
    assert found["raw.products.list_price_is_a_number"] is True
    assert lower_index is None
    assert any("customers_email_lower_key" in n for n in notices), notices
    assert any("unit_cost_is_a_number" in n for n in notices), notices
    # the old rows stay; new ones are checked, on both paths
    assert query(
        fresh_db, "select count(*) from raw.products where unit_cost = 'NaN'"
    ) == [(1,)]
    (data / "products__more.csv").write_text(
        (data / "products.csv").read_text().splitlines()[0]
        + f"\n5,SKU-5,Lamp,home,lighting,Acme,NaN,9.99,10,5,true,{TS},{TS}\n"
    )
    results = {r.file: r for r in load_directory(fresh_db, data)}
    assert results["products__more.csv"].rows_rejected == 1
    assert (
        "unit_cost_is_a_number"
        in query(
            fresh_db,
            "select reason from raw.load_rejects "
            "where file_name = 'products__more.csv'",
        )[0][0]
    )
    # the duplicates gone, the next run creates the index
    with db.connect(fresh_db) as conn:
        conn.execute("set ecom.bulk_load = on")
        conn.execute(
            "update raw.customers set email = 'c1@example.com' where customer_id = '1'"
        )
        conn.commit()
        apply_schema(conn)
    assert query(
        fresh_db, "select to_regclass('raw.customers_email_lower_key')::text"
    ) == [("raw.customers_email_lower_key",)]


@pytest.mark.parametrize(
    ("table", "row", "index"),
    [
        (
            "products",
            f"2, SKU-1 ,Lamp,home,lighting,Acme,5,9,1,1,true,{TS},{TS}",
            "products_sku_trim_key",
        ),
        (
            "promotions",
            f"2,SPRING ,Spring,10,{TS},{LATER},{TS}",
            "promotions_promo_code_trim_key",
        ),
        ("regions", f"3, North,{TS}", "regions_region_name_trim_key"),
    ],
)
def test_a_code_that_differs_only_by_spaces_is_rejected(
    fresh_db, tmp_path, table, row, index
):
    """Staging trims these codes and names and tests them unique."""
    load_directory(fresh_db, write_dataset(tmp_path / "d", {table: [row]}))
    (reason,) = query(fresh_db, "select reason from raw.load_rejects")[0]
    assert f"violates {index}: duplicate" in reason
