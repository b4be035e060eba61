"""Run dbt against the resolved database, with no manual profile set-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core import processes
from core.db import child_env
from core.settings import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


def dbt_command(args: list[str]) -> list[str]:
    """The dbt CLI of this interpreter's environment, pointed at our project."""
    dbt = Path(sys.executable).with_name("dbt")
    base = [str(dbt)] if dbt.exists() else [sys.executable, "-m", "dbt.cli.main"]
    return [*base, *args]


def dbt_env(env: dict[str, str], target_path: Path | None = None) -> dict[str, str]:
    """The environment of a dbt process: the libpq variables of `env`, our
    profile, and the target folder when given."""
    process_env = child_env(env)
    process_env["DBT_PROFILES_DIR"] = str(DBT_PROJECT_DIR)
    process_env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    if target_path is not None:
        process_env["DBT_TARGET_PATH"] = str(target_path)
        process_env["DBT_LOG_PATH"] = str(target_path / "logs")
    return process_env


def run_dbt(
    args: list[str],
    env: dict[str, str],
    *,
    target_path: Path | None = None,
    capture: bool = False,
) -> subprocess.CompletedProcess:
    """Run `dbt <args>` in dbt_project/ with the libpq variables of `env`."""
    return subprocess.run(
        dbt_command(args),
        cwd=DBT_PROJECT_DIR,
        env=dbt_env(env, target_path),
        capture_output=capture,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def serve_dbt(args: list[str], env: dict[str, str]) -> int:
    """Run a dbt server (`dbt docs serve`) in the foreground; it stops with this
    process (core.processes)."""
    return processes.serve(dbt_command(args), env=dbt_env(env), cwd=DBT_PROJECT_DIR)


def dbt_env_exports(env: dict[str, str]) -> str:
    """Shell lines that point a plain `dbt` at the same database."""
    lines = [f"export {k}={_shell_quote(v)}" for k, v in sorted(env.items())]
    lines.append(f"export DBT_PROFILES_DIR={_shell_quote(str(DBT_PROJECT_DIR))}")
    return "\n".join(lines)


def _shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"
