"""Names from the data are shown as text, never as Markdown: a region, channel
and category named with emphasis, a link and a remote image appear literally in
every caption, title and message of the dashboards (no remote fetch)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import signed_in_viewer
from streamlit.testing.v1 import AppTest

from core import db
from core.dbt_runner import run_dbt
from loader.generate import generate
from loader.load import load_directory
from streamlit_app import ui

APP = Path(__file__).resolve().parents[2] / "streamlit_app" / "app.py"
HOSTILE = "**x** ![t](http://127.0.0.1:9/t.png) [a](http://127.0.0.1:9) :red[r] $y$"
PAGES = ["views/overview.py", "views/sales.py", "views/products.py"]
RENDERED = ("caption", "markdown", "title", "header", "subheader", "info", "warning")


def _rename_first(path: Path, column: str, suffix: str) -> str:
    """Rename the first row's `column` to HOSTILE (+ suffix); return the name."""
    with path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    name = HOSTILE + suffix
    rows[0][column] = name
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return name


@pytest.fixture(scope="module")
def hostile_shop(pg_env, tmp_path_factory):
    env = db.create_database(pg_env, "ecom_names_test")
    data = tmp_path_factory.mktemp("names_data")
    generate(data, scale=0.02, seed=5)
    names = {
        "region": _rename_first(data / "regions.csv", "region_name", " R"),
        "channel": _rename_first(data / "channels.csv", "channel_name", " C"),
        "category": _rename_first(data / "products.csv", "category", " K"),
    }
    load_directory(env, data)
    target = tmp_path_factory.mktemp("names_target")
    result = run_dbt(["build"], env, target_path=target, capture=True)
    assert result.returncode == 0, result.stdout[-3000:]
    yield env, target, names
    db.drop_database(pg_env, env["PGDATABASE"])


def _markdown_of(at: AppTest) -> list[str]:
    texts = []
    for kind in RENDERED:
        texts += [str(element.value) for element in getattr(at, kind)]
    for element in at.sidebar.caption:
        texts.append(str(element.value))
    return texts


@pytest.mark.parametrize("page", PAGES)
def test_hostile_names_are_escaped_wherever_markdown_renders(
    hostile_shop, monkeypatch, page
):
    env, target, names = hostile_shop
    user = signed_in_viewer(monkeypatch, env, target)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["user"] = user
    at.query_params.update({key: [name] for key, name in names.items()})
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = _markdown_of(at)
    assert any(ui.plain(names["region"]) in text for text in shown), shown
    for text in shown:
        # the raw Markdown of a name never reaches a Markdown element
        assert "![t](" not in text and "**x**" not in text and ":red[" not in text
