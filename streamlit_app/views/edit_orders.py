"""Edit orders with their lines: search and filter orders, create one, change
its header and lines (add, change, remove) with the totals shown before saving,
all saved in one transaction; delete (soft, restorable)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core import editing
from streamlit_app import auth
from streamlit_app.editing.editor import conflict_panel, delete_confirmation
from streamlit_app.editing.form import (
    display,
    field_input,
    money_input,
    money_text,
    prefill,
    read_form,
    ref_select,
)
from streamlit_app.editing.list_view import MONEY, WHEN, list_section
from streamlit_app.editing.messages import (
    action,
    flash,
    guard,
    show_flash,
    show_pending_error,
)
from streamlit_app.editing.state import close, field_key, k, mode, reset

P = "orders"
ADD = "orders.add"
ENT = editing.ORDERS

user = auth.require("editor")


# ------------------------------------------------------------------------- state


MONEY_COLUMNS = ("unit_price", "line_amount", "discount_amount")


def line_key(uid: int, name: str) -> str:
    return k(P, "line", str(uid), name)


def _lines() -> list[dict[str, Any]]:
    return st.session_state.setdefault(k(P, "lines"), [])


def _new_uid() -> int:
    uid = st.session_state.get(k(P, "line_seq"), 0) + 1
    st.session_state[k(P, "line_seq")] = uid
    return uid


def _add_line(item: dict[str, Any]) -> None:
    uid = _new_uid()
    _lines().append(
        {
            "uid": uid,
            "order_item_id": item.get("order_item_id"),
            "product_id": item["product_id"],
            "product_label": item.get("product_label") or f"#{item['product_id']}",
        }
    )
    st.session_state[line_key(uid, "quantity")] = int(item.get("quantity") or 1)
    for name in MONEY_COLUMNS:
        st.session_state[line_key(uid, name)] = money_text(item.get(name))


def _set_lines(items: list[dict[str, Any]]) -> None:
    st.session_state[k(P, "lines")] = []
    for item in items:
        _add_line(item)


def _reset_add() -> None:
    st.session_state[field_key(ADD, "product_id")] = None
    st.session_state[field_key(ADD, "product_id") + ".q"] = ""
    st.session_state[k(ADD, "quantity")] = 1


def _show(order: dict[str, Any] | None, items: list[dict[str, Any]]) -> None:
    reset(P)
    st.session_state[k(P, "mode")] = "edit" if order else "create"
    st.session_state[k(P, "row")] = order
    prefill(P, ENT.fields, order)
    _set_lines(items)
    _reset_add()


def read_lines() -> list[dict[str, Any]]:
    return [
        {
            "order_item_id": line["order_item_id"],
            "product_id": line["product_id"],
            "quantity": st.session_state.get(line_key(line["uid"], "quantity")),
            **{
                name: st.session_state.get(line_key(line["uid"], name))
                for name in MONEY_COLUMNS
            },
        }
        for line in _lines()
    ]


# ----------------------------------------------------------------------- actions


@action(P)
def open_order(order_id: Any) -> None:
    order, items = editing.get_order(order_id)
    if order is None:
        flash(P, "warning", "That order no longer exists.")
        close(P)
        return
    _show(order, items)


@action(P)
def new_order() -> None:
    _show(None, [])


@action(P)
def add_line() -> None:
    product_id = st.session_state.get(field_key(ADD, "product_id"))
    if product_id is None:
        raise editing.ValidationError({"product": "Product: choose one to add a line"})
    product = editing.get_row("products", product_id)
    if product is None:
        raise editing.ValidationError({"product": "Product: no such product"})
    quantity = st.session_state.get(k(ADD, "quantity")) or 1
    _add_line(
        {
            "product_id": product_id,
            "product_label": editing.option_label("products", product),
            "quantity": quantity,
            "unit_price": product["list_price"],
            "discount_amount": 0,
        }
    )
    _reset_add()


def remove_line(uid: int) -> None:
    st.session_state[k(P, "lines")] = [line for line in _lines() if line["uid"] != uid]


@action(P)
def apply_promotion() -> None:
    promotion_id = st.session_state.get(field_key(P, "promotion_id"))
    promotion = editing.get_row("promotions", promotion_id) if promotion_id else None
    if promotion is None:
        raise editing.ValidationError({"promotion_id": "Promotion: choose one first"})
    for line, values in zip(_lines(), read_lines(), strict=True):
        # the percentage of the line amount (as given, or quantity × unit price)
        discount = editing.promotion_discount(
            1, editing.line_amount(values), promotion["discount_pct"]
        )
        st.session_state[line_key(line["uid"], "discount_amount")] = money_text(
            discount
        )


@action(P)
def save() -> None:
    original = st.session_state.get(k(P, "row"))
    order = read_form(P, ENT.fields, original)
    if original is not None:
        order["order_id"] = original["order_id"]
    items = read_lines()
    try:
        order_id = editing.save_order(
            order,
            items,
            user,
            expected_updated_at=original["updated_at"] if original else None,
        )
    except editing.Conflict as exc:
        st.session_state[k(P, "conflict")] = {
            "current": exc.current,
            "items": exc.items,
            "mine": order,
        }
        return
    fresh, fresh_items = editing.get_order(order_id)
    if original is None:
        message = f"Created order #{order_id}."
    elif fresh and fresh["updated_at"] != original["updated_at"]:
        message = "Saved."
    else:
        message = "Nothing changed, nothing saved."
    _show(fresh, fresh_items)
    flash(P, "success", message)


def _delete_or_restore(restore: bool) -> None:
    @action(P)
    def run() -> None:
        original = st.session_state[k(P, "row")]
        st.session_state.pop(k(P, "confirm_delete"), None)
        change = editing.restore_order if restore else editing.delete_row
        args = () if restore else (ENT,)
        try:
            outcome = change(*args, original["order_id"], original["updated_at"], user)
        except editing.Conflict as exc:
            st.session_state[k(P, "conflict")] = {
                "current": exc.current,
                "items": exc.items,
                "mine": read_form(P, ENT.fields, original),
            }
            return
        order, items = editing.get_order(original["order_id"])
        _show(order, items)
        flash(P, "success", outcome.message)

    run()


def reload_current() -> None:
    conflict = st.session_state.get(k(P, "conflict")) or {}
    current = conflict.get("current")
    if current is None:
        close(P)
        return
    open_order(current["order_id"])
    flash(P, "info", "The form shows the current values now.")


def keep_mine() -> None:
    conflict = st.session_state.pop(k(P, "conflict"), None) or {}
    current = conflict.get("current")
    if current is None:
        return
    st.session_state[k(P, "row")] = dict(current)
    # lines removed meanwhile are added again as new lines
    still_there = {item["order_item_id"] for item in conflict.get("items") or []}
    for line in _lines():
        if line["order_item_id"] not in still_there:
            line["order_item_id"] = None
    flash(
        P,
        "info",
        "Your values are kept. Press Save to replace the current version with them.",
    )


# ------------------------------------------------------------------------ editor


def totals() -> dict[str, Any]:
    return editing.order_totals(
        read_lines(),
        st.session_state.get(field_key(P, "shipping_amount")),
        st.session_state.get(field_key(P, "tax_amount")),
    )


def lines_editor(editable: bool) -> None:
    st.markdown("**Lines**")
    lines = _lines()
    if not lines:
        st.info("No lines yet: add a product below.", icon=":material/info:")
    widths = [4, 1.2, 1.4, 1.4, 1.4, 1.4, 1]
    if lines:
        head = st.columns(widths)
        titles = ["Product", "Quantity", "Unit price", "Line amount", "Discount"]
        for col, title in zip(head, [*titles, "Net", ""], strict=True):
            col.caption(title)
    values = read_lines()
    for n, line in enumerate(lines, start=1):
        uid = line["uid"]
        cols = st.columns(widths, vertical_alignment="center")
        cols[0].text(f"{n}. {line['product_label']}")
        cols[1].number_input(
            f"Quantity, line {n}",
            key=line_key(uid, "quantity"),
            step=1,
            format="%d",
            value=None,
            label_visibility="collapsed",
            disabled=not editable,
        )
        for col, name, label in (
            (cols[2], "unit_price", "Unit price"),
            (cols[3], "line_amount", "Line amount (optional)"),
            (cols[4], "discount_amount", "Discount"),
        ):
            money_input(
                col,
                f"{label}, line {n}",
                line_key(uid, name),
                label_visibility="collapsed",
                disabled=not editable,
            )
        amount = editing.order_totals([values[n - 1]])  # the line less its discount
        cols[5].text(f"{amount['net_amount']:,.2f}")
        if editable:
            cols[6].button(
                "Remove",
                key=line_key(uid, "remove"),
                icon=":material/close:",
                on_click=remove_line,
                args=(uid,),
            )
    if not editable:
        return
    with st.container(border=True):
        st.caption("Add a line")
        ref_select(ADD, "product_id", "products", "Product")
        cols = st.columns([1, 1, 2], vertical_alignment="bottom")
        cols[0].number_input(
            "Quantity", key=k(ADD, "quantity"), step=1, format="%d", min_value=1
        )
        cols[1].button(
            "Add line", key=k(P, "add_line"), icon=":material/add:", on_click=add_line
        )
        cols[2].button(
            "Apply the promotion's discount to all lines",
            key=k(P, "apply_promotion"),
            icon=":material/percent:",
            on_click=apply_promotion,
        )


def totals_panel() -> None:
    t = totals()
    cols = st.columns(6)
    for col, (label, name) in zip(
        cols,
        [
            ("Items subtotal", "items_subtotal"),
            ("Discounts", "discounts"),
            ("Net", "net_amount"),
            ("Shipping", "shipping"),
            ("Tax", "tax"),
            ("Total", "total"),
        ],
        strict=True,
    ):
        col.metric(label, f"{t[name]:,.2f}")
    st.caption(f"{t['lines']:,} lines, {t['units']:,} units. Amounts before saving.")


def conflict_items() -> None:
    conflict = st.session_state.get(k(P, "conflict"))
    if not conflict or conflict.get("current") is None:
        return
    items = conflict.get("items") or []
    st.caption("Its current lines:")
    frame = pd.DataFrame(
        [
            {
                "product": item.get("product_label") or f"#{item['product_id']}",
                "quantity": item["quantity"],
                "unit price": money_text(item["unit_price"]),
                "line amount": money_text(item.get("line_amount")),
                "discount": money_text(item["discount_amount"]),
            }
            for item in items
        ],
        columns=["product", "quantity", "unit price", "line amount", "discount"],
    )
    st.dataframe(frame, hide_index=True, width="stretch")


def editor() -> None:
    original = st.session_state.get(k(P, "row"))
    deleted = bool(original and original.get("deleted_at"))
    with st.container(border=True):
        if original is None:
            st.subheader("New order")
        else:
            st.subheader(f"Order #{original['order_id']}")
            st.caption(f"Last changed {display(None, original.get('updated_at'))}")
        if deleted:
            st.warning(
                "This order is deleted: it is kept for its history but left out of "
                "the reports. Restore it to change it.",
                icon=":material/delete:",
            )
        conflict_panel(ENT, P, ENT.fields, reload=reload_current, keep=keep_mine)
        conflict_items()
        show_pending_error(P)
        for name in ("customer_id", "channel_id", "ship_region_id", "promotion_id"):
            field_input(P, ENT.field(name), container=st.container())
        cols = st.columns(3)
        for i, name in enumerate(
            (
                "ordered_at",
                "status",
                "payment_status",
                "payment_method",
                "shipping_amount",
                "tax_amount",
            )
        ):
            field_input(P, ENT.field(name), container=cols[i % 3])
        lines_editor(editable=not deleted)
        totals_panel()
        buttons = st.columns(3)
        if deleted:
            buttons[0].button(
                "Restore",
                key=k(P, "restore"),
                type="primary",
                icon=":material/restore_from_trash:",
                on_click=_delete_or_restore,
                args=(True,),
            )
        else:
            buttons[0].button(
                "Create order" if original is None else "Save changes",
                key=k(P, "save"),
                type="primary",
                icon=":material/save:",
                on_click=save,
            )
        buttons[1].button("Close", key=k(P, "close"), on_click=close, args=(P,))
        if original is not None and not deleted:
            buttons[2].button(
                "Delete…",
                key=k(P, "delete"),
                icon=":material/delete:",
                on_click=lambda: st.session_state.__setitem__(
                    k(P, "confirm_delete"), True
                ),
            )
            delete_confirmation(
                ENT,
                P,
                "Delete this order? It is marked deleted and left out of the "
                "reports, and can be restored later.",
                lambda: _delete_or_restore(False),
            )


def customer_filter() -> dict[str, Any]:
    with st.expander("Orders of one customer"):
        chosen = ref_select(
            k(P, "list"),
            "customer_id",
            "customers",
            "Customer",
            required=False,
            active_only=False,
        )
    return {"customer_id": chosen}


# -------------------------------------------------------------------------- page

st.title("Edit orders")
st.caption(
    "Orders and their lines (raw.orders, raw.order_items). An order and its lines "
    "are saved together; deleting an order marks it deleted (it can be restored)."
)
show_flash(P)
if mode(P) == "list":
    show_pending_error(P)
else:
    with guard():
        editor()


def _list() -> None:
    list_section(
        ENT,
        extra_filters=customer_filter,
        on_open=open_order,
        on_new=new_order,
        column_config={
            "ordered_at": WHEN,
            "items_subtotal": MONEY,
            "discounts": MONEY,
            "shipping_amount": MONEY,
            "tax_amount": MONEY,
            "total": MONEY,
            "is_deleted": st.column_config.CheckboxColumn("deleted"),
            "deleted_at": WHEN,
            "updated_at": WHEN,
        },
    )


with guard():
    _list()
