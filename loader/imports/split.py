"""Order lines into the contract's tables, one order at a time.

The export is read as a stream and split order by order: an order's lines are
expected together, one after another (as Shopify's orders export and the UCI
Online Retail lines have them), and only the current order's lines are held.
When the next order begins, the finished order's orders and order_items rows
are written at once. An order id that comes back after other orders is not
merged with its earlier lines: those later lines are rejected, naming the line
the order started on. For this every order id met is kept with that line, the
one thing besides the merged rows below (and the rejected lines) that grows
with the file: by orders, not lines.

An order's fields, its customer's, region's and channel's come from the order's
first line when the export writes them only there, else from all its lines (a
later non-empty value wins). Products come from every line.

Customers, products, regions and channels repeat across lines: they are merged
by id in memory (one row per distinct id, written at the end), a later line's
non-empty values replacing earlier ones (an empty value never erases one), and
the number of rows merged is counted.

A line with a problem is rejected with its reason, and so is the rest of its
order: an order is imported whole or not at all. Nothing of a rejected order
is written, not even its customer or products: an order's rows are merged
only once the whole order is accepted.

Line ids, unless mapped: `<order id>-<n>`, n the line's position in its order in
the file, so importing the same export again gives the same ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from loader.imports.mapping import FIELDS, ORDER_LEVEL_TABLES, TABLE_IDS, Mapping
from loader.imports.source import ExportFile, Reject, SourceLine
from loader.imports.values import BadValue, convert, parse_integer, raw_value

MERGED_TABLES = ("regions", "channels", "customers", "products")
NOT_TOGETHER = "its order's lines are not together"

WriteRow = Callable[[str, dict[str, str]], None]  # (table, row) -> its file


@dataclass
class Split:
    """What splitting wrote (table -> rows written, per table in file order,
    with its columns), rejected and merged."""

    columns: dict[str, tuple[str, ...]]
    rows: dict[str, int]
    lines_read: int = 0
    rejects: list[Reject] = field(default_factory=list)
    merged: dict[str, int] = field(default_factory=dict)
    export: ExportFile | None = None  # the file the lines were read from


class _OrderRejected(Exception):
    def __init__(self, reject: Reject) -> None:
        self.reject = reject


def split_lines(
    lines: Iterable[SourceLine | Reject],
    mapping: Mapping,
    zone: ZoneInfo,
    write: WriteRow,
) -> Split:
    """Split order lines (and records already rejected) into the contract's
    tables, each row passed to `write` (see the module's doc)."""
    splitter = _Splitter(mapping, zone, write)
    for line in lines:
        splitter.add(line)
    return splitter.finish()


def table_columns(mapping: Mapping) -> dict[str, tuple[str, ...]]:
    """Each written table's header: its mapped fields, plus the keys of a line."""
    columns = {}
    for table, fields in FIELDS.items():
        if table not in mapping.tables:
            continue
        names = [f for f in fields if f in mapping.tables[table]]
        if table == "orders" and mapping.cancellations and "status" not in names:
            names.insert(names.index("ordered_at") + 1, "status")
        if table == "order_items":
            names = ["order_item_id", "order_id", "product_id"] + [
                f for f in names if f != "order_item_id"
            ]
        columns[table] = tuple(names)
    return columns


class _Splitter:
    """The split in progress: the current order's lines, the merged rows and
    the line each order id met started on."""

    def __init__(self, mapping: Mapping, zone: ZoneInfo, write: WriteRow) -> None:
        self.mapping, self.zone, self.write = mapping, zone, write
        columns = table_columns(mapping)
        self.out = Split(columns=columns, rows=dict.fromkeys(columns, 0))
        self.merged_rows: dict[str, dict[str, dict[str, str]]] = {
            t: {} for t in MERGED_TABLES
        }
        self.seen = dict.fromkeys(MERGED_TABLES, 0)
        self.id_field = mapping.tables["orders"]["order_id"]
        self.started: dict[str, int] = {}  # order id -> the line it started on
        self.order_id = ""
        self.order_lines: list[SourceLine] = []

    def add(self, line: SourceLine | Reject) -> None:
        self.out.lines_read += 1
        if isinstance(line, Reject):
            self.out.rejects.append(line)
            return
        column, order_id = raw_value(self.id_field, line.values)
        if not order_id:
            self.out.rejects.append(
                Reject(line.line, f"{column}: the order id is empty")
            )
        elif order_id == self.order_id:
            self.order_lines.append(line)
        else:
            self._finish_order()
            if order_id in self.started:
                self.order_id = ""  # the stray lines form no order
                self.out.rejects.append(
                    Reject(
                        line.line,
                        NOT_TOGETHER,
                        f"order {order_id} started on line {self.started[order_id]}",
                    )
                )
            else:
                self.started[order_id] = line.line
                self.order_id, self.order_lines = order_id, [line]

    def finish(self) -> Split:
        """The last order finished, the merged rows written."""
        self._finish_order()
        for table, rows in self.merged_rows.items():
            if table in self.out.columns:
                for row in rows.values():
                    self._write(table, row)
                self.out.merged[table] = self.seen[table] - len(rows)
        self.out.rejects.sort(key=lambda r: r.line)
        return self.out

    def _finish_order(self) -> None:
        lines, self.order_lines = self.order_lines, []
        if not lines:
            return
        try:
            order = _order_rows(lines, self.mapping, self.zone)
        except _OrderRejected as exc:
            self.out.rejects.append(exc.reject)
            self.out.rejects.extend(
                Reject(
                    line.line,
                    "another line of its order was rejected",
                    f"line {exc.reject.line}",
                )
                for line in lines
                if line.line != exc.reject.line
            )
            return
        for table, rows in order.items():
            if table in self.merged_rows:
                for row in rows:
                    self.seen[table] += 1
                    _merge(self.merged_rows[table], row, TABLE_IDS[table])
            else:
                for row in rows:
                    self._write(table, row)

    def _write(self, table: str, row: dict[str, str]) -> None:
        self.write(table, row)
        self.out.rows[table] += 1


def _order_rows(
    lines: list[SourceLine], mapping: Mapping, zone: ZoneInfo
) -> dict[str, list[dict[str, str]]]:
    """The rows one order gives every table; _OrderRejected on any problem."""
    head = lines[0]
    order_sources = lines[:1] if mapping.order_fields_on_first_line_only else lines
    rows: dict[str, list[dict[str, str]]] = {}
    for table in ORDER_LEVEL_TABLES:
        if table in mapping.tables:
            merged: dict[str, str] = {}
            for line in order_sources:
                _merge_values(merged, _row(table, line, mapping, zone))
            rows[table] = [merged] if merged.get(TABLE_IDS[table]) else []
    order = rows["orders"][0]
    quantities = [_quantity(line, mapping) for line in lines]
    cancelled = _is_cancellation(order["order_id"], quantities, head, mapping)
    if cancelled:
        order["status"] = mapping.cancellations.status
        quantities = [abs(q) for q in quantities]
    rows["products"], rows["order_items"] = [], []
    for position, (line, quantity) in enumerate(zip(lines, quantities, strict=True), 1):
        if quantity <= 0:
            raise _OrderRejected(
                Reject(line.line, "order_items.quantity: not positive", str(quantity))
            )
        product = _row("products", line, mapping, zone)
        if not product.get("product_id"):
            raise _OrderRejected(Reject(line.line, "products.product_id: empty"))
        item = _row("order_items", line, mapping, zone)
        item["order_item_id"] = (
            item.get("order_item_id") or f"{order['order_id']}-{position}"
        )
        item.update(
            order_id=order["order_id"],
            product_id=product["product_id"],
            quantity=str(quantity),
        )
        rows["products"].append(product)
        rows["order_items"].append(item)
    return rows


def _row(
    table: str, line: SourceLine, mapping: Mapping, zone: ZoneInfo
) -> dict[str, str]:
    row = {}
    for name, source in mapping.tables.get(table, {}).items():
        try:
            row[name] = convert(name, source, line.values, mapping, zone)
        except BadValue as exc:
            problem = f"{table}.{name}: {exc.column} {exc.problem}"
            raise _OrderRejected(Reject(line.line, problem, exc.value)) from None
    return row


def _quantity(line: SourceLine, mapping: Mapping) -> int:
    column, text = raw_value(mapping.tables["order_items"]["quantity"], line.values)
    if not text:
        raise _OrderRejected(
            Reject(line.line, f"order_items.quantity: {column} is empty")
        )
    try:
        return parse_integer(text, mapping)
    except BadValue as exc:
        problem = f"order_items.quantity: {column} {exc.problem}"
        raise _OrderRejected(Reject(line.line, problem, text)) from None


def _is_cancellation(
    order_id: str, quantities: list[int], head: SourceLine, mapping: Mapping
) -> bool:
    """Whether the order undoes a sale; an order that mixes sold and returned
    lines is rejected rather than read one way or the other."""
    rule = mapping.cancellations
    negative = [q < 0 for q in quantities]
    if rule is None:
        return False
    by_prefix = bool(rule.order_id_prefix) and order_id.upper().startswith(
        rule.order_id_prefix.upper()
    )
    if rule.negative_quantity and any(negative) and not all(negative):
        raise _OrderRejected(
            Reject(
                head.line, "the order mixes negative and positive quantities", order_id
            )
        )
    return by_prefix or (rule.negative_quantity and all(negative))


def _merge_values(target: dict[str, str], row: dict[str, str]) -> None:
    """Later non-empty values win; an empty one never erases a value."""
    for key, value in row.items():
        if value or key not in target:
            target[key] = value


def _merge(rows: dict[str, dict[str, str]], row: dict[str, str], id_field: str) -> None:
    key = row.get(id_field, "")
    if not key:
        return
    if key in rows:
        _merge_values(rows[key], row)
    else:
        rows[key] = dict(row)
