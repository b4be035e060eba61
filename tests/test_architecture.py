"""The layout's rules, checked on every run: imports go one way (import-linter's
contracts in pyproject.toml), and no module or function outgrows the size rules
without a named reason."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cli", "core", "loader", "predict", "streamlit_app", "bench", "tests")
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
# A module or function may break a size rule when a comment names the reason:
# `# size: <reason>` in the module's first lines, or on the line above the def.
EXCEPTION_MARK = "# size:"


def python_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_imports_follow_the_layers():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_modules_and_functions_keep_the_size_rules():
    too_big = []
    for path in python_files():
        lines = path.read_text(encoding="utf-8").splitlines()
        name = path.relative_to(ROOT)
        head = "\n".join(lines[:30])
        if len(lines) > MAX_MODULE_LINES and EXCEPTION_MARK not in head:
            too_big.append(f"{name}: {len(lines)} lines")
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = node.end_lineno - node.lineno + 1
            marked = first >= 2 and EXCEPTION_MARK in lines[first - 2]
            if length > MAX_FUNCTION_LINES and not marked:
                too_big.append(f"{name}:{node.lineno} {node.name}: {length} lines")
    assert not too_big, "over the size rules:\n" + "\n".join(too_big)


def test_every_module_is_listed_in_the_architecture_doc():
    """docs/architecture.md names every package and module of the code with its
    job (a package's modules may be listed on the package's line)."""
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = []
    for package in ("cli", "core", "loader", "predict", "streamlit_app"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "__init__.py":
                path = path.parent
            relative = path.relative_to(ROOT).as_posix()
            listed = f"`{relative}" in doc or f"`{path.stem}`" in doc
            if not listed:
                missing.append(relative)
    assert not missing, "not in docs/architecture.md: " + ", ".join(sorted(missing))
