"""Orders with their lines: totals, reading an order, saving it with its lines
in one transaction, and the soft delete that keeps it (restorable).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg
from psycopg import errors, sql
from psycopg.rows import dict_row

from core.editing.connection import reading, signed_in_name, writing
from core.editing.database_errors import translate_error
from core.editing.entities import ITEM_FIELDS, ORDERS, PRODUCTS
from core.editing.errors import Conflict, Refused, ValidationError
from core.editing.fields import CENT
from core.editing.selectors import option_label
from core.editing.stored_rows import (
    DeleteOutcome,
    check_version,
    parse_key,
    select_row,
)
from core.editing.validation import check_keys, clean_id, validate_fields
from core.editing.values import same_value, to_decimal


def promotion_discount(quantity: Any, unit_price: Any, pct: Any) -> Decimal:
    """A line's discount for a promotion percentage, rounded half up to cents
    (as the generator computes it)."""
    q, p, d = to_decimal(quantity), to_decimal(unit_price), to_decimal(pct)
    if q is None or p is None or d is None:
        return Decimal("0.00")
    return (q * p * d / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def order_totals(
    items: Sequence[Mapping[str, Any]], shipping: Any = 0, tax: Any = 0
) -> dict[str, Any]:
    """Items subtotal (each line's amount: as given, else quantity × unit
    price), discounts, net, shipping, tax and total of an order; values that are
    not numbers count as 0. Exact: rounded only where shown."""
    subtotal = discounts = Decimal(0)
    units = 0
    for item in items:
        q = to_decimal(item.get("quantity")) or Decimal(0)
        subtotal += line_amount(item) or Decimal(0)
        discounts += to_decimal(item.get("discount_amount")) or Decimal(0)
        units += int(q)
    ship = to_decimal(shipping) or Decimal(0)
    taxes = to_decimal(tax) or Decimal(0)
    net = subtotal - discounts
    return {
        "lines": len(items),
        "units": units,
        "items_subtotal": subtotal,
        "discounts": discounts,
        "net_amount": net,
        "shipping": ship,
        "tax": taxes,
        "total": net + ship + taxes,
    }


def line_amount(item: Mapping[str, Any]) -> Decimal | None:
    """A line's amount before the discount: as given, else quantity × unit
    price (as staging computes it); None when neither is known."""
    given = to_decimal(item.get("line_amount"))
    if given is not None:
        return given
    q, p = to_decimal(item.get("quantity")), to_decimal(item.get("unit_price"))
    return None if q is None or p is None else q * p


_ITEMS_SQL = """
select
    i.order_item_id,
    i.order_id,
    i.product_id,
    i.quantity,
    i.unit_price,
    i.line_amount,
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


def _order_items(conn: psycopg.Connection, order_id: str) -> list[dict[str, Any]]:
    """The order's lines with their product's sku, name and selector label."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_ITEMS_SQL, [order_id]).fetchall()
    for row in rows:
        row["product_label"] = (
            option_label(PRODUCTS, row) if row["sku"] is not None else None
        )
    return rows


def get_order(order_id: Any) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The order row and its lines (with product sku, name and label)."""
    key = parse_key(order_id)
    with reading() as conn:
        order = select_row(conn, ORDERS, key)
        if order is None:
            return None, []
        return order, _order_items(conn, key)


def _validate_order(
    order: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    current: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The order's header and lines cleaned, or one `ValidationError` naming
    every field (a line's fields as `items.<n>.<field>`)."""
    check_keys(ORDERS, order, extra=("items",))
    cleaned, problems = validate_fields(ORDERS.fields, order, current)
    lines: list[dict[str, Any]] = []
    if not items:
        problems["items"] = "Items: an order needs at least one line"
    for n, item in enumerate(items, start=1):
        prefix, label_prefix = f"items.{n}.", f"Line {n}, "
        # neither price nor amount given: the product's list price is filled in
        # when saving
        line, line_problems = validate_fields(
            ITEM_FIELDS, item, None, prefix=prefix, label_prefix=label_prefix
        )
        problems |= line_problems
        amount = None if line_problems else line_amount(line)
        if amount is not None and line["discount_amount"] > amount:
            problems[prefix + "discount_amount"] = (
                f"{label_prefix}Discount: must be between 0 and the line amount "
                f"({amount:,f})"
            )
        line_id, id_problem = clean_id(item.get("order_item_id"))
        if id_problem:
            problems[prefix + "order_item_id"] = f"{label_prefix}Line id: {id_problem}"
        line["order_item_id"] = line_id
        lines.append(line)
    if problems:
        raise ValidationError(problems)
    return cleaned, lines


def _line_changed(line: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """Whether a line as given differs from the stored one."""
    return any(not same_value(line[f.name], old[f.name]) for f in ITEM_FIELDS)


def save_order(
    order: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    user: Any,
    expected_updated_at: Any = None,
) -> str:
    """Create (no order_id) or change an order together with its lines, in one
    transaction; returns the order id.

    Lines with an order_item_id change that line; lines without one are added
    (with an id 'app-<n>'); the order's lines not listed are deleted. A line
    with neither unit_price nor line_amount takes the product's list price.
    Editing needs the order's `updated_at` seen when it was opened; any change
    (of the order or a line) moves it forward. A soft-deleted order cannot be
    edited (restore it first).
    """
    signed_in_name(user)
    order_id = order.get("order_id")
    if order_id is None:
        return _create_order(order, items, user)

    order_id = parse_key(order_id)
    if expected_updated_at is None:
        raise ValueError("expected_updated_at is needed to change an order")
    with writing(user, ORDERS, order) as conn:
        _change_order(conn, order_id, order, items, expected_updated_at)
    return order_id


def _create_order(
    order: Mapping[str, Any], items: Sequence[Mapping[str, Any]], user: Any
) -> str:
    header, lines = _validate_order(order, items, None)
    with writing(user, ORDERS, header) as conn:
        order_id = conn.execute(
            "select 'app-' || nextval('raw.orders_app_id_seq')"
        ).fetchone()[0]
        _insert_order(conn, order_id, header)
        _write_lines(conn, order_id, lines, {})
    return order_id


def _change_order(
    conn: psycopg.Connection,
    order_id: str,
    order: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    expected_updated_at: Any,
) -> None:
    """Inside the write transaction: the order and its lines as given, when
    anything differs from what is stored."""
    current = _current_order(conn, order_id, expected_updated_at)
    header, lines = _validate_order(order, items, current)
    old_lines = {row["order_item_id"]: row for row in _order_items(conn, order_id)}
    for line in lines:
        if line["order_item_id"] is not None and (
            line["order_item_id"] not in old_lines
        ):
            raise Conflict(current, ORDERS, list(old_lines.values()))
    header_changes = {
        k: v for k, v in header.items() if not same_value(v, current.get(k))
    }
    kept = {line["order_item_id"] for line in lines}
    lines_changed = any(k not in kept for k in old_lines) or any(
        line["order_item_id"] is None
        or _line_changed(line, old_lines[line["order_item_id"]])
        for line in lines
    )
    if not header_changes and not lines_changed:
        return
    _update_header(conn, order_id, current, header_changes)
    for old_id in old_lines:
        if old_id not in kept:
            conn.execute(
                "delete from raw.order_items "
                "where order_item_id = %s and order_id = %s",
                [old_id, order_id],
            )
    _write_lines(conn, order_id, lines, old_lines)


def _current_order(
    conn: psycopg.Connection, order_id: str, expected_updated_at: Any
) -> dict[str, Any]:
    """The order, locked, if it is still the version the form saw (else
    `Conflict` with its current lines) and not soft-deleted (else `Refused`)."""
    current = select_row(conn, ORDERS, order_id, lock=True)
    try:
        check_version(ORDERS, current, expected_updated_at)
    except Conflict:
        items_now = _order_items(conn, order_id) if current else None
        raise Conflict(current, ORDERS, items_now) from None
    if current["deleted_at"] is not None:
        raise Refused("This order is deleted; restore it before changing it.")
    return current


def _update_header(
    conn: psycopg.Connection,
    order_id: str,
    current: Mapping[str, Any],
    header_changes: Mapping[str, Any],
) -> None:
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
        raise Conflict(select_row(conn, ORDERS, order_id), ORDERS)


def _insert_order(
    conn: psycopg.Connection, order_id: str, header: Mapping[str, Any]
) -> None:
    columns = ["order_id", *header]
    statement = sql.SQL("insert into raw.orders ({}) values ({})").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder(k) for k in columns),
    )
    conn.execute(statement, {"order_id": order_id, **header})


_INSERT_LINE_SQL = """
insert into raw.order_items (
    order_item_id, order_id, product_id, quantity,
    unit_price, line_amount, discount_amount
)
values (
    'app-' || nextval('raw.order_items_app_id_seq'), %(order_id)s,
    %(product_id)s, %(quantity)s, %(unit_price)s, %(line_amount)s,
    %(discount_amount)s
)
"""
_UPDATE_LINE_SQL = """
update raw.order_items
set
    product_id = %(product_id)s,
    quantity = %(quantity)s,
    unit_price = %(unit_price)s,
    line_amount = %(line_amount)s,
    discount_amount = %(discount_amount)s
where order_item_id = %(order_item_id)s
    and order_id = %(order_id)s
"""


def _write_lines(
    conn: psycopg.Connection,
    order_id: str,
    lines: Sequence[dict[str, Any]],
    old_lines: Mapping[str, Mapping[str, Any]],
) -> None:
    """Insert the new lines and update the changed ones; a database error
    becomes a message naming the line."""
    for n, line in enumerate(lines, start=1):
        prefix, label_prefix = f"items.{n}.", f"Line {n}, "
        old = old_lines.get(line["order_item_id"])
        if old is not None and not _line_changed(line, old):
            continue
        try:
            if line["unit_price"] is None and line["line_amount"] is None:
                _fill_list_price(conn, line, prefix, label_prefix)
            params = {**line, "order_id": order_id}
            with conn.transaction():  # a savepoint: the error names this line
                statement = _INSERT_LINE_SQL if old is None else _UPDATE_LINE_SQL
                conn.execute(statement, params)
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


def _fill_list_price(
    conn: psycopg.Connection, line: dict[str, Any], prefix: str, label_prefix: str
) -> None:
    """A line with neither price nor amount takes the product's list price."""
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
    if found[0] is None:
        raise ValidationError(
            {
                prefix + "unit_price": f"{label_prefix}Unit price: give the unit "
                "price or the line amount (the product has no list price)"
            }
        )
    line["unit_price"] = found[0]
    amount = line_amount(line)
    if amount is not None and line["discount_amount"] > amount:
        raise ValidationError(
            {
                prefix + "discount_amount": f"{label_prefix}Discount: must be "
                f"between 0 and the line amount ({amount:,f})"
            }
        )


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


def set_order_deleted(
    order_id: str, expected_updated_at: Any, user: Any, deleted: bool
) -> DeleteOutcome:
    """Soft-delete an order (`deleted`) or restore it."""
    with writing(user, ORDERS) as conn:
        current = select_row(conn, ORDERS, order_id, lock=True)
        check_version(ORDERS, current, expected_updated_at)
        if (current["deleted_at"] is not None) == deleted:
            state = "deleted" if deleted else "not deleted"
            return DeleteOutcome(
                "unchanged", f"This order is already {state}.", current
            )
        statement = _SOFT_DELETE_SQL if deleted else _RESTORE_SQL
        with conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(statement, [order_id, current["updated_at"]]).fetchone()
        if row is None:
            raise Conflict(select_row(conn, ORDERS, order_id), ORDERS)
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
    signed_in_name(user)
    return set_order_deleted(
        parse_key(order_id), expected_updated_at, user, deleted=False
    )
