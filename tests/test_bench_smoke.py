"""Smoke tests of the benchmark scripts: each runs as its own process at a tiny
scale, once, and must exit 0 and print (or write) the rows it reports. No
timing is checked. docs/benchmarks.md is left alone (`--no-write`, or an output
file in the test's folder); each script's working files go to the test's folder
(TMPDIR), and the databases the scripts make are dropped."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from core import db

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
TINY = "0.02"
# the steps bench/scale.py times (the first words of its rows)
SCALE_STEPS = (
    "generate",
    "load",
    "full build",
    "one appended day",
    "… appended day: incremental build",
    "unchanged build",
    "predict",
    "dashboard pages",
)
PAGES = (
    "Overview",
    "Sales",
    "Products",
    "Customers",
    "Retention",
    "Market basket",
    "Inventory",
    "Data quality",
)


def run_bench(script: str, args: list[str], pg_env, tmp_path: Path) -> str:
    """Run bench/<script> with the test server's libpq variables; its output."""
    env = db.child_env(pg_env) | {"TMPDIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, (
        f"bench/{script} exited {result.returncode}:\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout


def databases(pg_env, prefix: str) -> set[str]:
    with db.connect(pg_env | {"PGDATABASE": "postgres"}) as conn:
        rows = conn.execute(
            "select datname from pg_database where starts_with(datname, %s)", [prefix]
        ).fetchall()
    return {name for (name,) in rows}


def test_crud_bench_times_every_operation(pg_env, tmp_path):
    out = run_bench(
        "crud.py", ["--scales", TINY, "--repeat", "1", "--no-write"], pg_env, tmp_path
    )
    timed = re.findall(r"^scale 0\.02: (.+): p50 [\d.]+ ms, p95 [\d.]+ ms$", out, re.M)
    assert "open a customer by id (reference)" in timed
    assert "customers: search two words" in timed
    assert "create an order with one line" in timed
    assert len(timed) == len(set(timed)) >= 10


def test_load_bench_reports_every_loader(pg_env, tmp_path):
    out = run_bench("load.py", ["--scales", TINY, "--no-write"], pg_env, tmp_path)
    row = re.search(r"^\| 0\.02 \| [\d,]+ \| [\d,]+ \| .+\|$", out, re.M)
    assert row, out[-2000:]
    assert "not run" not in row.group(0)  # pandas and `ecom import` ran too


def test_dbt_build_bench_times_three_builds(pg_env, tmp_path):
    out = run_bench(
        "dbt_build.py",
        ["--scales", TINY, "--no-write", "--no-empty", "--skip-tests"],
        pg_env,
        tmp_path,
    )
    assert re.search(
        r"^scale 0\.02: full [\d.]+ s, incremental [\d.]+ s \(\d+%\), "
        r"unchanged [\d.]+ s$",
        out,
        re.M,
    ), out[-2000:]
    assert re.search(r"^\| 0\.02 \|", out, re.M)


def test_predict_bench_runs_the_predictions(pg_env, tmp_path):
    name = "ecom_predict_bench_s0_02"  # the database bench/predict.py builds
    try:
        out = run_bench(
            "predict.py",
            ["--scales", TINY, "--repeat", "1", "--no-write"],
            pg_env,
            tmp_path,
        )
    finally:
        db.drop_database(pg_env, name)
    assert re.search(r"^scale 0\.02: run 1/1: [\d.]+ s wall", out, re.M), out[-2000:]
    assert re.search(r"^\| 0\.02 \|", out, re.M)


def test_app_bench_times_every_page_in_both_views(pg_env, tmp_path):
    out = run_bench(
        "app.py",
        ["--scales", TINY, "--repeat", "1", "--no-write", "--drop"],
        pg_env,
        tmp_path,
    )
    for view in ("default", "channel + category"):
        for page in PAGES:
            assert re.search(
                rf"^scale 0\.02 {re.escape(view)} +{re.escape(page)} +\d+ queries "
                r" p50 +[\d.]+ ms",
                out,
                re.M,
            ), f"no row for {view} / {page}:\n{out[-2000:]}"
    assert "dropped database ecom_bench_app_s0_02" in out
    assert "ecom_bench_app_s0_02" not in databases(pg_env, "ecom_bench_app_s0_02")


def test_scale_bench_writes_its_section_and_chart(pg_env, tmp_path):
    output, chart = tmp_path / "benchmarks.md", tmp_path / "img" / "curve.png"
    # the section is replaced, the other sections are kept
    output.write_text(
        "# Benchmarks\n\n## Scale curve\n\nstale figures\n\n## Loading\n\nkept\n"
    )
    before = databases(pg_env, "ecom_bench_scale_")
    args = ["--scales", TINY, "--skip-tests", "--output", str(output)]
    run_bench("scale.py", [*args, "--chart", str(chart)], pg_env, tmp_path)
    text = output.read_text()
    assert "stale figures" not in text
    assert "## Loading\n\nkept" in text
    section = text.split("## Scale curve", 1)[1].split("\n## ", 1)[0]
    steps = re.findall(r"^\| (.+?) \| [\d.]+ \| ([\d]+|–) \|$", section, re.M)
    names = {name for name, _ in steps}
    for step in SCALE_STEPS:
        assert any(name.startswith(step) for name in names), (step, names)
    assert re.search(r"^\| 0\.02 \| [\d,]+ \| [\d,]+ \| [\d,]+ \|", section, re.M)
    assert "](img/curve.png)" in section
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert databases(pg_env, "ecom_bench_scale_") <= before  # its database dropped
