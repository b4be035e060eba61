"""Property: whatever a file holds, every record it has is loaded or rejected
(rows read = loaded + rejected), and whatever the loader accepts builds.

Each example appends many hostile rows (`<table>__hostile.csv`) to a small
generated shop, loads it into a new database and runs a real `dbt build`. A row
is made of odd values that the tables accept (quotes, newlines, control and
direction characters, -0, many decimals, the largest amounts, the first and last
instants allowed, odd offsets and spellings, colliding ids), and some rows get a
few values that no table may accept (NaN, infinities, 1e309, far-off years,
impossible offsets, text ids, empty required cells, overlong text)."""

from __future__ import annotations

import csv
import io
import shutil
import uuid
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from core import db, enums
from core.dbt_runner import run_dbt
from core.schema import apply_schema
from loader.generate import generate
from loader.load import TABLES, Column, TableSpec, load_directory, read_table_spec

pytestmark = pytest.mark.slow

Values = st.SearchStrategy[str]

NEW_IDS = st.integers(5_000_000, 5_000_060).map(str)  # parents and children share
ODD_TEXT = ["a,b", 'say "hi"', '"', '""', "line\nbreak", "carriage\rreturn"]
ODD_TEXT += ["crlf\r\ninside", "tab\there", "\u202eevil\u202c", "\u200f\u200e"]
ODD_TEXT += ["\ufeffbom", "emoji 🛒", "Ωmega ß", "\\N", "NULL", "\x01\x1f\x7f", " "]
BAD_TEXT = ["", "x" * 300]
# Money is kept exactly up to 4 decimals and below 10^14 (more is rejected, not
# rounded); the marts' sums are numeric without a scale, so any accepted amount
# builds.
AMOUNTS = ["0", "-0", "0.00", "-0.00", "0.005", "0.0049", "1.2345", "1e2"]
AMOUNTS += ["99999.99", "99999.9949", " 5", "+5", "5 ", "99999999999999.9999"]
AMOUNTS += ["10000000000"]
BAD_NUMBERS = ["NaN", "nan", "Infinity", "-Infinity", "inf", "1e309", "-1e309"]
BAD_NUMBERS += ["100000000000000", "-1", "-0.01", "0x10", "1,5", "abc", ""]
BAD_NUMBERS += ["0.00001", "1.23456789"]
COUNTS = ["0", "-0", "1", " 7", "+7", "100000"]
BAD_INTEGERS = ["-1", "2147483648", "-2147483649", "9223372036854775808", "1.5"]
BAD_INTEGERS += ["1e3", "abc", ""]
# ids are text: these are the ones the tables refuse (spaces around, too long,
# control characters, kept for the app's own rows)
BAD_IDS = [" 7", "7 ", "", "x" * 65, "a\tb", "app-7", "APP-8"]
TIMESTAMPS = ["1970-01-01T00:00:00Z", "2099-12-31T23:59:59.999999Z", "epoch"]
TIMESTAMPS += ["2024-01-01T00:00:00+14:00", "2024-01-01T00:00:00-12:00"]
TIMESTAMPS += ["2024-01-01 00:00:00", "2024-01-01", "2024-02-29T12:00:00+05:45"]
BAD_TIMESTAMPS = ["infinity", "-infinity", "0001-01-01T00:00:00Z", "1969-12-31T23:59Z"]
BAD_TIMESTAMPS += ["9999-12-31T23:59:59Z", "2100-01-01T00:00:00Z", "2024-02-30T00:00Z"]
BAD_TIMESTAMPS += ["2024-01-01T00:00:00+25:00", "2024-01-01T24:00:01Z", "today?"]
BAD_TIMESTAMPS += ["294277-01-01T00:00:00Z", ""]
DATES = ["1900-01-01", "2099-12-31", "2024-02-29", "epoch"]
BAD_DATES = ["0001-01-01", "1899-12-31", "2100-01-01", "infinity", "-infinity"]
BAD_DATES += ["2023-02-29", "31/12/1990"]
BOOLEANS = ["t", "f", "TRUE", "yes", "no", "on", "off", "1", "0", "y", " true"]
BAD_BOOLEANS = ["tru", "maybe", "2", "-", ""]  # empty: null, not the default
ENUMS = {column: enums.values(seed) for seed, column in enums.ENUM_SEEDS.items()}


def odd_text() -> Values:
    chars = st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")
    return st.one_of(st.sampled_from(ODD_TEXT), st.text(chars, min_size=1, max_size=20))


def timestamps() -> Values:
    offsets = st.sampled_from(["Z", "+00:00", "+05:45", "-09:30", "+14:00", ""])
    moments = st.datetimes(datetime(1971, 1, 1), datetime(2098, 12, 31))
    built = st.builds(lambda m, o: m.isoformat() + o, moments, offsets)
    return st.one_of(st.sampled_from(TIMESTAMPS), built)


def amounts() -> Values:
    decimals = st.decimals(min_value=0, max_value=10**5, places=6)
    return st.one_of(st.sampled_from(AMOUNTS), decimals.map(str))


def emails(keys: dict[str, list[str]]) -> Values:
    local = st.text(
        st.characters(blacklist_categories=["Cs", "Z", "Cc"], blacklist_characters="@"),
        min_size=1,
        max_size=20,
    )
    new = local.map(lambda s: f"{s}@example.com")
    taken = st.sampled_from(keys["email"])  # its own, or another customer's
    return st.one_of(new, new, new, new, new, taken, taken.map(str.swapcase))


def by_role(spec: TableSpec, column: Column, keys: dict[str, list[str]]):
    """(odd values the column accepts, values it must refuse) for a key, a
    parent, an enumeration, an email or a country; None for other columns."""
    name = column.name
    parents = {c: fk.ref_table for fk in spec.foreign_keys for c in fk.columns}
    bad_ids = st.sampled_from(BAD_IDS)
    if name in spec.primary_key:
        return st.one_of(NEW_IDS, st.sampled_from(keys[spec.name])), bad_ids
    if name in parents:  # mostly a parent of the shop, else maybe a new one
        known = st.sampled_from(keys[parents[name]])
        return st.one_of(known, known, known, known, known, NEW_IDS), bad_ids
    if name in ENUMS:
        odd = [v.upper() for v in ENUMS[name]] + [" placed", "unknown", ""]
        return st.sampled_from(ENUMS[name]), st.sampled_from(odd)
    if name == "email":
        return emails(keys), st.sampled_from(["no-at-sign", "a@b", "", "a b@c.de"])
    if name == "country_code":
        return st.just("NO"), st.sampled_from(["no", "N", "NOR", "ÉÉ", "  ", ""])
    return None


def column_values(spec: TableSpec, column: Column, keys: dict[str, list[str]]):
    """(odd values the column accepts, values it must refuse), by its role,
    else by its type."""
    role = by_role(spec, column, keys)
    if role is not None:
        return role
    kind = column.sql_type
    if kind.startswith(("integer", "bigint")):
        ok = COUNTS if column.name != "quantity" else ["1", " 7", "+7", "100000"]
        return st.sampled_from(ok), st.sampled_from(BAD_INTEGERS)
    if kind.startswith("numeric"):
        if column.name == "discount_pct":
            ok = st.sampled_from(["0.01", "100", "99.999", "1e1", " 50"])
        elif column.name == "discount_amount":
            ok = st.sampled_from(["0", "-0", "0.001", "0.00"])
        else:
            ok = amounts()
        bad = st.one_of(
            st.sampled_from(BAD_NUMBERS),
            st.floats(allow_nan=True, allow_infinity=True).map(repr),
        )
        return ok, bad
    if kind.startswith("timestamp"):
        return timestamps(), st.sampled_from(BAD_TIMESTAMPS)
    if kind == "date":
        days = st.dates(date(1901, 1, 1), date(2098, 12, 31)).map(str)
        return st.one_of(st.sampled_from(DATES), days), st.sampled_from(BAD_DATES)
    if kind == "boolean":
        return st.sampled_from(BOOLEANS), st.sampled_from(BAD_BOOLEANS)
    return odd_text(), st.sampled_from(BAD_TEXT)


@st.composite
def hostile_file(draw, spec: TableSpec, keys: dict[str, list[str]]) -> tuple[str, int]:
    """A CSV file of hostile rows for one table (columns in any order, line
    endings LF or CRLF, some records with the wrong number of fields); its text
    and its record count. Each column draws a few accepted and refused values,
    and a seeded random assembles many rows from them (an example stays small
    enough for Hypothesis)."""
    columns = draw(st.permutations(spec.column_names))
    by_name = {c.name: c for c in spec.columns}
    pools = {}
    for c in columns:
        accepted, refused = column_values(spec, by_name[c], keys)
        pools[c] = (
            draw(st.lists(accepted, min_size=1, max_size=3)),
            draw(st.lists(refused, min_size=1, max_size=2)),
        )
    rng = draw(st.randoms(use_true_random=True))
    unique = {*spec.primary_key, *(c for key in spec.unique_keys for c in key)}
    unique |= {c for index in spec.unique_indexes for c in index.columns}
    rows = []
    for n in range(rng.randint(15, 40)):
        row = [rng.choice(pools[c][0]) for c in columns]
        for at, c in enumerate(columns):
            if c in unique and rng.random() < 0.8:  # else it may collide
                row[at] = _made_unique(row[at], n, by_name[c])
        for _ in range(rng.choice([0, 0, 0, 1, 2])):  # a few refused values
            at = rng.randrange(len(columns))
            row[at] = rng.choice(pools[columns[at]][1])
        rows.append(row)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=rng.choice(["\n", "\r\n"]))
    writer.writerow(columns)
    writer.writerows(rows)
    short = rng.sample(["1", "1,2", ",,,"], rng.randint(0, 2))
    text = out.getvalue() + "".join(line + "\n" for line in short)
    return text, len(rows) + len(short)


def _made_unique(value: str, n: int, column: Column) -> str:
    """A key of row `n` no other row of the file has: a new id, or the value
    with the row number added."""
    if column.sql_type in ("integer", "bigint"):
        return str(5_000_000 + n)
    if "@" in value:
        return value.replace("@", f"+{n}@", 1)
    return f"{value}#{n}"


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("shop")
    generate(folder, scale=0.01, seed=1)
    return folder


@pytest.fixture(scope="module")
def specs(module_db) -> dict[str, TableSpec]:
    with db.connect(module_db) as conn:
        apply_schema(conn)
        return {t: read_table_spec(conn, t) for t in TABLES}


def shop_keys(shop: Path) -> dict[str, list[str]]:
    """Some ids of each table of the shop, and some of its customers' emails."""
    keys: dict[str, list[str]] = {}
    for table in TABLES:
        with (shop / f"{table}.csv").open(newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))[1:]
        keys[table] = [r[0] for r in rows[:50]]
        if table == "customers":
            keys["email"] = [r[3] for r in rows[:50]]
    return keys


def load_and_build(
    pg_env: dict[str, str], shop: Path, hostile: dict[str, tuple[str, int]], tmp: Path
) -> None:
    """The shop plus the hostile files into a new database, then `dbt build`."""
    folder = tmp / "data"
    folder.mkdir()
    for path in shop.glob("*.csv"):
        shutil.copy(path, folder)
    for table, (text, _) in hostile.items():
        (folder / f"{table}__hostile.csv").write_text(text, encoding="utf-8")
    env = db.create_database(pg_env, f"ecom_prop_{uuid.uuid4().hex[:10]}")
    try:
        results = load_directory(env, folder, max_reject_rate=1.0)
        for r in results:
            assert r.rows_read == r.rows_loaded + r.rows_rejected, r
            if r.file.endswith("__hostile.csv"):
                assert r.rows_read == hostile[r.table][1], r
        assert sum(r.rows_loaded for r in results if "hostile" in r.file) > 0
        built = run_dbt(["build"], env, target_path=tmp / "target", capture=True)
        summary = built.stdout[built.stdout.rfind("Completed with") :]
        assert built.returncode == 0, summary[-6000:] or built.stdout[-6000:]
    finally:
        db.drop_database(pg_env, env["PGDATABASE"])


def test_any_rows_the_loader_accepts_build(pg_env, shop, specs, tmp_path_factory):
    keys = shop_keys(shop)
    files = st.fixed_dictionaries({t: hostile_file(specs[t], keys) for t in TABLES})

    @settings(
        max_examples=3,
        deadline=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a build per step
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(files)
    def loads_and_builds(hostile: dict[str, tuple[str, int]]) -> None:
        tmp = tmp_path_factory.mktemp("hostile")
        try:
            load_and_build(pg_env, shop, hostile, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    loads_and_builds()
