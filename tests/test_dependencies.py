"""The install is the locked one: every package pinned in requirements.lock is
installed at exactly that version, and the lock covers every dependency that
pyproject.toml declares (runtime and dev)."""

from __future__ import annotations

import importlib.metadata as metadata
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def optional_extra_only() -> set[str]:
    """Locked packages that only the optional `spark` extra pulls in: the
    Quickstart install leaves them out, so they may be absent."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extra = {
        _normal(re.split(r"[\[<>=!~ ;]", r, maxsplit=1)[0])
        for r in project["optional-dependencies"]["spark"]
    }
    vias: dict[str, set[str]] = {}
    current = None
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = _normal(match.group(1))
            vias[current] = set()
        elif current and line.strip().startswith("#") and "via" not in line:
            vias[current].add(_normal(line.strip("# ").split(" ")[0]))
        elif current and line.strip().startswith("# via "):
            vias[current].add(_normal(line.split("# via ", 1)[1].split(" ")[0]))
    only = set(extra)
    grew = True
    while grew:
        grew = False
        for name, sources in vias.items():
            if name not in only and sources and sources <= only:
                only.add(name)
                grew = True
    return only


def locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        match = PIN.match(line)
        if match:
            pins[_normal(match.group(1))] = match.group(2)
    return pins


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    return {_normal(re.split(r"[\[<>=!~ ;]", r, maxsplit=1)[0]) for r in requirements}


def test_the_lock_covers_every_declared_dependency():
    missing = declared() - set(locked())
    assert not missing, f"not in requirements.lock: {sorted(missing)}"


def test_installed_versions_are_the_locked_ones():
    pins = locked()
    assert len(pins) > 100
    optional = optional_extra_only()
    wrong = {}
    for name, version in pins.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed is None and name in optional:
            continue
        if installed != version:
            wrong[name] = (installed, version)
    assert not wrong, f"installed (found, locked): {wrong}"
