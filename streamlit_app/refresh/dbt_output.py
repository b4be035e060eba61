"""Reading dbt: its "N of M START/OK/PASS/..." log lines (the progress and the
nodes running), its run_results.json (what was built, passed, failed) and its
error messages, each as one line without file paths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# "12:00:01  5 of 18 START sql view model staging.stg_shop__orders ..... [RUN]"
_PROGRESS_LINE = re.compile(
    r"^(?:\S+\s+)?(?P<index>\d+) of (?P<total>\d+) "
    r"(?P<status>START|OK|PASS|FAIL|ERROR|WARN|SKIP|NO-OP)\b\s*(?P<text>.*)$"
)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_NODE_NAME = re.compile(r"(?:(?:model|snapshot|seed|test|exposure)\s+)?(\S+)\s*$")
_ERROR_HEADER = re.compile(r"^(?P<kind>[\w ]*Error) in \w+ \S+ \(.*\)$")

_BUILT = {"model", "snapshot", "seed"}
_TESTS = {"test", "unit_test"}


# --------------------------------------------------------------------- log lines


def plain(line: str) -> str:
    """A line of output without terminal colour codes and trailing blanks."""
    return _ANSI.sub("", line).rstrip()


@dataclass(frozen=True)
class ProgressLine:
    """One "N of M STATUS node" line of dbt's log."""

    index: int
    total: int
    status: str  # START, OK, PASS, FAIL, ERROR, WARN, SKIP or NO-OP
    text: str  # what follows the status: the node and its timing

    @property
    def started(self) -> bool:
        return self.status == "START"


def progress_line(line: str) -> ProgressLine | None:
    """The progress a plain log line reports; None for other lines and hooks."""
    match = _PROGRESS_LINE.match(line)
    if not match or match["text"].startswith("hook:"):
        return None
    return ProgressLine(
        index=int(match["index"]),
        total=int(match["total"]),
        status=match["status"],
        text=match["text"],
    )


def node_name(text: str) -> str:
    """'sql view model staging.stg_shop__orders ..... [RUN]' -> 'stg_shop__orders'."""
    text = re.sub(r"\s*\[[^\]]*\]\s*$", "", text).rstrip(" .")
    match = _NODE_NAME.search(text)
    name = match.group(1) if match else text
    return name.split(".")[-1] if "::" not in name else name


# ------------------------------------------------------------------- run results


def count_results(results: dict[str, Any]) -> dict[str, Any]:
    """Models built, tests passed / failed, warnings, skips and one line per
    failing node, from dbt's run_results.json."""
    counts: dict[str, Any] = {
        "models_built": 0,
        "tests_passed": 0,
        "tests_failed": 0,
        "warnings": 0,
        "skipped": 0,
        "errors": [],
    }
    for result in results.get("results", []):
        unique_id = str(result.get("unique_id", ""))
        kind = unique_id.split(".", 1)[0]
        status = str(result.get("status", ""))
        if status == "skipped":
            counts["skipped"] += 1
        elif status == "warn":
            counts["warnings"] += 1
        elif kind in _BUILT and status == "success":
            counts["models_built"] += 1
        elif kind in _TESTS and status == "pass":
            counts["tests_passed"] += 1
        elif status in ("error", "fail", "runtime error"):
            if kind in _TESTS:
                counts["tests_failed"] += 1
            label = kind.replace("_", " ")
            text = error_line(str(result.get("message") or status))
            counts["errors"].append(f"{label} {_result_name(unique_id)}: {text}")
    return counts


def _result_name(unique_id: str) -> str:
    parts = unique_id.split(".")
    if parts[0] == "test" and len(parts) >= 3:
        return parts[2]  # test.<project>.<name>.<hash>
    if parts[0] == "unit_test" and len(parts) >= 4:
        return f"{parts[2]}::{parts[3]}"  # unit_test.<project>.<model>.<name>
    return parts[-1]


# ------------------------------------------------------------------------ errors


def error_line(message: str) -> str:
    """dbt's multi-line node message as one line, without file paths."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    lines = [line for line in lines if not line.lower().startswith("compiled code")]
    if lines and (header := _ERROR_HEADER.match(lines[0])) and len(lines) > 1:
        lines[0] = header["kind"] + ":"
    return re.sub(r"\s+", " ", " ".join(lines))[:400] or "failed"


def dbt_error(output: list[str]) -> str:
    """One line for a dbt run that ended without results (a bad selection, an
    unreachable database, a project error): its "Encountered an error" part."""
    lines = [line.strip() for line in output if line.strip()]
    lines = [re.sub(r"^\d\d:\d\d:\d\d\s+", "", line) for line in lines]
    for position, line in enumerate(lines):
        if line.startswith("Encountered an error"):
            rest = [text for text in lines[position + 1 :] if text]
            return error_line("\n".join(rest)) if rest else line
    errors = [line for line in lines if "error" in line.lower()]
    if errors:
        return error_line(errors[-1])
    return lines[-1][:400] if lines else "dbt ended without output"
