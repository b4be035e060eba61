"""dbt's reports in its target folder, for the Data quality page: the results of
the last dbt command (run_results.json) and of `dbt source freshness`
(sources.json). Files only: no SQL here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from streamlit_app.warehouse import dbt_target_dir


@dataclass(frozen=True)
class BuildResults:
    """A summary of dbt's run_results.json (the last dbt command run)."""

    command: str
    generated_at: datetime | None
    elapsed_seconds: float | None
    nodes: pd.DataFrame


def build_results() -> BuildResults | None:
    """The last dbt run's results, or None when no run_results.json exists."""
    raw = read_json(dbt_target_dir() / "run_results.json")
    if raw is None:
        return None
    rows = []
    for result in raw.get("results", []):
        unique_id = str(result.get("unique_id", ""))
        kind = unique_id.split(".", 1)[0]
        rows.append(
            {
                "kind": kind,
                "name": unique_id.split(".")[-1]
                if kind != "test"
                else _test_name(unique_id),
                "status": str(result.get("status", "")),
                "seconds": result.get("execution_time"),
                "failures": result.get("failures"),
                "message": (result.get("message") or "")[:500],
                "unique_id": unique_id,
            }
        )
    metadata = raw.get("metadata", {})
    generated = metadata.get("generated_at")
    try:
        generated_at = datetime.fromisoformat(generated.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        generated_at = None
    args = raw.get("args", {})
    return BuildResults(
        command=str(args.get("which") or "dbt"),
        generated_at=generated_at,
        elapsed_seconds=raw.get("elapsed_time"),
        nodes=pd.DataFrame(
            rows,
            columns=[
                "kind",
                "name",
                "status",
                "seconds",
                "failures",
                "message",
                "unique_id",
            ],
        ),
    )


def _test_name(unique_id: str) -> str:
    parts = unique_id.split(".")
    # test.<project>.<name>.<hash>
    return parts[2] if len(parts) >= 3 else unique_id


def source_freshness() -> pd.DataFrame | None:
    """`dbt source freshness` results (target/sources.json), when it was run."""
    raw = read_json(dbt_target_dir() / "sources.json")
    if raw is None:
        return None
    rows = [
        {
            "source": str(r.get("unique_id", "")).split(".", 2)[-1],
            "status": r.get("status"),
            "max_loaded_at": r.get("max_loaded_at"),
            "age_hours": (r.get("max_loaded_at_time_ago_in_s") or 0) / 3600,
        }
        for r in raw.get("results", [])
    ]
    return pd.DataFrame(
        rows, columns=["source", "status", "max_loaded_at", "age_hours"]
    )


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in `path`, or None when the file is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
