"""The date spine cannot run away: whatever bounds it is given (an infinite or
absurd date), it stays within 1970-01-01 .. 2100-01-01."""

from __future__ import annotations

import json
from datetime import date

from core.dbt_runner import run_dbt


def test_the_date_spine_is_bounded_whatever_its_inputs(fresh_db, tmp_path):
    spine = "{{ date_spine(\"'-infinity'\", \"'infinity'\") }}"
    inline = f"select count(*) as days, min(date_day), max(date_day) from ({spine}) s"
    result = run_dbt(
        ["show", "--inline", inline, "--output", "json", "--log-format", "json"],
        fresh_db,
        target_path=tmp_path,
        capture=True,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    shown = next(
        json.loads(line)["data"]["preview"]
        for line in result.stdout.splitlines()
        if '"preview"' in line
    )
    (row,) = json.loads(shown)
    days, first, last = row.values()
    assert (first, last) == ("1970-01-01", "2099-12-31")
    assert days == (date(2100, 1, 1) - date(1970, 1, 1)).days
