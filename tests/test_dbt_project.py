"""The dbt project as a whole: a build with zero errors and zero warnings, docs for
every model and column, and SQL that passes sqlfluff."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from core.db import child_env
from core.dbt_runner import DBT_PROJECT_DIR, run_dbt


def test_build_has_no_errors_or_warnings(built_warehouse):
    summary = re.search(
        r"PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)", built_warehouse["build_output"]
    )
    assert summary, built_warehouse["build_output"][-2000:]
    passed, warned, errored, skipped = map(int, summary.groups())
    assert passed > 100
    assert (warned, errored, skipped) == (0, 0, 0)
    assert "[WARNING]" not in built_warehouse["build_output"]


def test_docs_generate_cleanly_and_cover_every_column(built_warehouse, tmp_path):
    target = built_warehouse["target_path"]
    result = run_dbt(
        ["docs", "generate"], built_warehouse["env"], target_path=target, capture=True
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "[WARNING]" not in result.stdout and " WARN " not in result.stdout
    for kind in ("doc", "test"):
        coverage = subprocess.run(
            [
                str(Path(sys.executable).with_name("dbt-coverage")),
                "compute",
                kind,
                "--run-artifacts-dir",
                str(target),
                "--cov-report",
                str(tmp_path / f"{kind}.json"),
                "--cov-fail-under",
                "1.0" if kind == "doc" else "0.0",
            ],
            cwd=DBT_PROJECT_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        assert coverage.returncode == 0, (
            coverage.stdout[-3000:] + coverage.stderr[-2000:]
        )
    report = json.loads((tmp_path / "doc.json").read_text())
    assert report["covered"] == report["total"] > 0


def test_every_model_seed_and_snapshot_has_a_tested_key(built_warehouse):
    """Every model, seed and snapshot has a key test: unique_key (unique and not
    null), or unique + not_null, or a unique combination of columns."""
    manifest = json.loads(
        (built_warehouse["target_path"] / "manifest.json").read_text()
    )
    keyed = set()
    for node in manifest["nodes"].values():
        name = (node.get("test_metadata") or {}).get("name")
        if name in ("unique_key", "unique", "unique_combination_of_columns"):
            keyed.add(node["attached_node"])
    tested = {
        unique_id
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed", "snapshot")
        and node["package_name"] == "ecom"
    }
    assert len(tested) > 40
    assert sorted(tested - keyed) == []


def test_sql_passes_sqlfluff(built_warehouse):
    sqlfluff = Path(sys.executable).with_name("sqlfluff")
    result = subprocess.run(
        [
            str(sqlfluff),
            "lint",
            "dbt_project",
            "--disable-progress-bar",
            "--processes",
            "2",
        ],
        cwd=DBT_PROJECT_DIR.parent,
        env=child_env(built_warehouse["env"])
        | {"DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
