"""The installed `ecom` script: usage errors are a short message with exit code 2
(never a traceback), every command has --help text, and every command and option
is in the README's CLI reference."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main

from cli.main import app

ECOM = Path(sys.executable).with_name("ecom")
README = Path(__file__).resolve().parent.parent / "README.md"
MAX_USAGE_LINES = 8  # the usage line, a hint and the framed problem


def run_ecom(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ECOM), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def commands() -> Iterator[tuple[list[str], object]]:
    """(path, click command) of every command, subcommands included."""

    def walk(command, path):
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                yield from walk(sub, [*path, name])
        else:
            yield path, command

    yield from walk(typer.main.get_command(app), [])


COMMANDS = list(commands())


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["nosuchcommand"], "No such command 'nosuchcommand'"),
        (["load", "--bogus"], "No such option: --bogus"),
        (["generate", "--scale", "abc", "--out", "x"], "Invalid value for '--scale'"),
        (["users", "add"], "Missing argument 'username'"),
        (["db"], "Missing command"),
        (["db", "nosuch"], "No such command 'nosuch'"),
        (["app", "--port", "99999"], "Invalid value for '--port'"),
        (["docs", "--port", "0"], "Invalid value for '--port'"),
        (["users", "add", "x", "--role"], "Option '--role' requires an argument"),
    ],
)
def test_usage_errors_are_short_and_exit_2(args, problem):
    result = run_ecom(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    output = result.stderr
    assert "Traceback" not in output + result.stdout
    assert problem in output
    assert len(output.strip().splitlines()) <= MAX_USAGE_LINES, output


def test_debug_still_shows_the_traceback_of_a_user_error(tmp_path):
    missing = str(tmp_path / "missing")
    plain = run_ecom("generate", "--append-days", "1", "--out", missing)
    assert plain.returncode == 1 and "Traceback" not in plain.stderr
    debug = run_ecom("--debug", "generate", "--append-days", "1", "--out", missing)
    assert debug.returncode == 1 and "Traceback" in debug.stderr


@pytest.mark.parametrize(
    "path", [p for p, _ in COMMANDS], ids=[" ".join(p) for p, _ in COMMANDS]
)
def test_every_command_has_help(path):
    result = run_ecom(*path, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage: ecom " + " ".join(path) in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_every_command_option_and_argument_has_help_text():
    for path, command in COMMANDS:
        assert (command.help or "").strip(), f"ecom {' '.join(path)} has no help"
        for param in command.params:
            assert (getattr(param, "help", None) or "").strip(), (path, param.name)


def readme_cli_rows() -> list[tuple[str, str]]:
    """(command cell, description cell) of each row of the README's CLI table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## CLI reference", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        match = re.match(r"\| `(ecom [^`]*)` \| (.*) \|$", line)
        if match:
            rows.append((match.group(1).replace("\\|", "|"), match.group(2)))
    return rows


def _rows_for(path: list[str], rows: list[tuple[str, str]]) -> list[str]:
    """The rows documenting `ecom <path>`: `ecom users list|disable NAME` counts
    for `users list` and `users disable`."""
    found = []
    for command, description in rows:
        words = command.split()[1:]
        prefix, rest = path[:-1], words[len(path) - 1 :]
        if words[: len(prefix)] != prefix or not rest:
            continue
        alternatives = {alt.split()[0] for alt in " ".join(rest).split("|") if alt}
        if path[-1] in alternatives or rest[0] == path[-1]:
            found.append(command + " " + description)
    return found


def test_every_command_and_option_is_in_the_readme():
    rows = readme_cli_rows()
    assert rows
    for path, command in COMMANDS:
        documented = _rows_for(path, rows)
        assert documented, f"`ecom {' '.join(path)}` is not in the README's CLI table"
        text = " ".join(documented)
        for param in command.params:
            if param.param_type_name != "option" or param.hidden:
                continue
            assert any(re.search(rf"{re.escape(o)}\b", text) for o in param.opts), (
                f"{'/'.join(param.opts)} of `ecom {' '.join(path)}` is not in its "
                "README row"
            )
