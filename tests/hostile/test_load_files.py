"""Files that used to load the wrong bytes, crash with a traceback or leak what
they point to: a BOM, CR-only line endings, a header that is not CSV, a link to
a file outside the directory, a file that changes while it is loaded."""

from __future__ import annotations

import codecs

import pytest
from conftest import query
from test_load import load_directory  # without the reject limit

from core.errors import EcomError

from .load_support import (
    HEADERS,
    TS,
    customer,
    ecom,
    landing_fixture,  # noqa: F401  (the `landing` fixture)
    one_line_error,
    raw_fingerprint,
    write_dataset,
)


def test_a_bom_is_ignored_and_no_byte_of_the_first_record_is_skipped(
    fresh_db, tmp_path, landing
):
    data = write_dataset(tmp_path / "d")
    load_directory(fresh_db, data)
    before = query(fresh_db, "select * from raw.customers where customer_id = '5'")
    bom = codecs.BOM_UTF8
    # direct path: one clean row
    (data / "customers__bom.csv").write_bytes(
        bom + f"{HEADERS['customers']}\n{customer(900005)}\n".encode()
    )
    # sifted path: a first row, then a bad one
    (data / "customers__bom_sifted.csv").write_bytes(
        bom
        + f"{HEADERS['customers']}\r\n{customer(900006)}\r\n"
        f"{customer(900007, email='bad')}\r\n".encode()
    )
    results = {r.file: r for r in load_directory(fresh_db, data)}
    assert results["customers__bom.csv"].method == "direct"
    assert results["customers__bom_sifted.csv"].method == "sifted"
    ids = {r[0] for r in query(fresh_db, "select customer_id from raw.customers")}
    assert {"900005", "900006"} <= ids and "900007" not in ids
    assert query(fresh_db, "select * from raw.customers where customer_id = '5'") == (
        before
    )
    assert query(
        fresh_db,
        "select line_number, record from raw.load_rejects "
        "where file_name = 'customers__bom_sifted.csv'",
    ) == [(3, customer(900007, email="bad"))]


def test_a_header_only_file_with_a_bom_and_no_newline_is_an_empty_batch(
    fresh_db, tmp_path
):
    data = write_dataset(tmp_path / "d")
    (data / "orders__empty.csv").write_bytes(
        codecs.BOM_UTF8 + HEADERS["orders"].encode()
    )
    results = {r.file: r for r in load_directory(fresh_db, data)}
    empty = results["orders__empty.csv"]
    assert (empty.rows_read, empty.rows_loaded, empty.rows_rejected) == (0, 0, 0)


def test_mixed_line_endings_and_a_stray_cr_are_rows_not_crashes(
    fresh_db, tmp_path, landing
):
    """COPY takes the line ending of a file's first row: a file that mixes CRLF
    and LF, or holds a CR outside quotes, used to stop the sifted path."""
    data = write_dataset(tmp_path / "d")
    stray_cr = customer(62).replace("Oslo", "Os\rlo")  # a CR outside quotes
    quoted_cr = customer(63).replace("Oslo", '"Os\rlo"')  # one inside
    rows = [
        customer(60) + "\r\n",
        customer(61) + "\n",
        stray_cr + "\n",
        quoted_cr + "\r\n",
        customer(64, email="bad") + "\r\n",
        customer(65),
    ]
    (data / "customers__mixed.csv").write_bytes(
        (HEADERS["customers"] + "\r\n" + "".join(rows)).encode()
    )
    results = {r.file: r for r in load_directory(fresh_db, data)}
    mixed = results["customers__mixed.csv"]
    assert (mixed.rows_read, mixed.rows_loaded, mixed.rows_rejected) == (6, 4, 2)
    reasons = dict(query(fresh_db, "select line_number, reason from raw.load_rejects"))
    assert reasons.keys() == {4, 6}
    assert "carriage return outside quotes" in reasons[4]
    assert query(
        fresh_db,
        "select city from raw.customers where customer_id in ('60', '63', '65')",
    ) == [("Oslo",), ("Os\rlo",), ("Oslo",)]


def test_cr_only_line_endings_are_one_line_naming_the_fix(fresh_db, tmp_path):
    data = write_dataset(tmp_path / "d")
    text = (data / "orders.csv").read_text()
    (data / "orders.csv").write_bytes(text.replace("\n", "\r").encode())
    err = one_line_error(ecom(fresh_db, "load", str(data)))
    assert "orders.csv" in err and "LF or CRLF" in err
    assert query(fresh_db, "select count(*) from raw.load_batches") == [(0,)]


@pytest.mark.parametrize(
    "header",
    [
        'order_id,"customer_id"x,channel_id',  # text after a closing quote
        'order_id,"customer_id',  # a quote that never closes
        "order_id,customer_id\rchannel_id",  # a lone CR inside the header
    ],
)
def test_a_header_that_is_not_csv_is_one_line(fresh_db, tmp_path, header):
    data = write_dataset(tmp_path / "d")
    (data / "orders__odd.csv").write_text(header + "\n1,1,1\n")
    err = one_line_error(ecom(fresh_db, "load", str(data)))
    assert err.startswith("error: orders__odd.csv: ")
    assert "header" in err or "CR only" in err


def test_a_link_to_a_file_outside_the_directory_is_refused_unread(fresh_db, tmp_path):
    data = write_dataset(tmp_path / "d")
    secret = tmp_path / "elsewhere" / "shadow"
    secret.parent.mkdir()
    secret.write_text("root:SECRET-HASH-4711:19000:0:99999:7:::\n")
    (data / "customers__x.csv").symlink_to(secret)
    result = ecom(fresh_db, "load", str(data))
    err = one_line_error(result)
    assert "customers__x.csv" in err and "outside the directory" in err
    assert "SECRET" not in result.stdout + result.stderr
    assert "elsewhere" not in err  # names only the file
    # a link between files of the directory is fine (read, and skipped: it
    # holds the bytes of customers.csv, loaded with it)
    (data / "customers__x.csv").unlink()
    (data / "customers__again.csv").symlink_to(data / "customers.csv")
    results = {r.file: r for r in load_directory(fresh_db, data)}
    assert results["customers__again.csv"].method == "skipped"
    assert results["customers.csv"].rows_loaded == 5


def test_a_directory_named_like_a_csv_file_is_one_line(fresh_db, tmp_path):
    data = write_dataset(tmp_path / "d")
    (data / "orders__dir.csv").mkdir()
    err = one_line_error(ecom(fresh_db, "load", str(data)))
    assert "orders__dir.csv: not a regular file" in err


def big_items(rows: int) -> list[str]:
    return [f"{i},1,1,1,1.00,0,{TS}" for i in range(1000, 1000 + rows)]


@pytest.mark.parametrize("path", ["direct", "sifted"])
def test_a_file_changed_while_it_is_loaded_is_refused(fresh_db, tmp_path, path):
    """The file changes after its checksum was taken, while its later chunks
    are still to be read: nothing of it may be written under that checksum."""
    data = write_dataset(tmp_path / "d")
    load_directory(fresh_db, data)
    before = raw_fingerprint(fresh_db)
    rows = big_items(60_000)  # about 2.5 MB: read in several chunks
    if path == "sifted":
        rows[0] = rows[0].replace(",1,1,1.00,", ",1,-1,1.00,")  # a bad quantity
    target = data / "order_items__big.csv"
    target.write_text("\n".join([HEADERS["order_items"], *rows]) + "\n")
    seen = {"sifted": path == "direct", "changed": False}

    def on_bytes(name: str, n: int) -> None:
        if name != target.name:
            return
        if n < 0:  # the progress bar starts again: the sifted path reads now
            seen["sifted"] = True
        elif seen["sifted"] and not seen["changed"]:
            seen["changed"] = True
            with target.open("r+b") as f:  # the last row gets another price
                f.seek(-len(f"1.00,0,{TS}\n"), 2)
                f.write(b"9")

    with pytest.raises(EcomError) as caught:
        load_directory(fresh_db, data, on_bytes=on_bytes)
    assert seen["changed"]
    message = str(caught.value)
    assert message.startswith("order_items__big.csv: file changed while it was")
    assert len(message.splitlines()) == 1
    assert raw_fingerprint(fresh_db) == before
