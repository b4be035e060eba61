"""Write one section of docs/benchmarks.md, leaving the other sections alone."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
TITLE = (
    "# Benchmarks\n\n"
    "Every figure here is written by a script in `bench/`; re-run it to reproduce.\n"
)


def write_section(heading: str, body: str, path: Path = BENCHMARKS) -> None:
    """Replace (or add) the `## heading` section of docs/benchmarks.md (or of
    the Markdown file at `path`)."""
    text = path.read_text(encoding="utf-8") if path.exists() else TITLE
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    section = f"## {heading}\n\n_Last run: {stamp}._\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
