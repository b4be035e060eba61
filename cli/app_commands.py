"""`ecom app` and `ecom demo`: the Streamlit app, and the whole job from data to
app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.base import DEFAULT_DATA_DIR, app, console
from cli.data_commands import run_load
from cli.warehouse_commands import run_predictions
from core import db
from core.errors import EcomError


@app.command("app")
def app_command(
    port: Annotated[
        int | None,
        typer.Option(help="Port (default 8501 or a free one).", min=1, max=65535),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Start the Streamlit app on the resolved database."""
    from streamlit_app.launch import run

    raise typer.Exit(run(db.connection_env(), host=host, port=port))


@app.command()
def demo(
    scale: Annotated[
        float, typer.Option(help="Data size (1 ≈ 100 000 order items).")
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    out: Annotated[Path, typer.Option(help="Folder for the generated CSV files.")] = (
        DEFAULT_DATA_DIR
    ),
    no_app: Annotated[bool, typer.Option(help="Stop after the build.")] = False,
) -> None:
    """The whole job: generate → load → dbt build → predictions → open the app."""
    from core.dbt_runner import run_dbt
    from loader import generate as gen

    env = db.connection_env()
    console.rule("1/5 generate")
    if (out / "_manifest.json").exists():
        console.print(f"reusing the data in {out} (delete it to regenerate)")
    else:
        gen.generate(out, scale=scale, seed=seed)
        console.print(f"generated scale {scale} into {out}")
    console.rule("2/5 load")
    results = run_load(env, out, force=False, replace=False)
    loaded = sum(r.rows_loaded for r in results)
    console.print(f"{len(results)} files, {loaded:,} rows loaded")
    console.rule("3/5 dbt build")
    result = run_dbt(["build"], env)
    if result.returncode != 0:
        raise EcomError("dbt build failed; see the log above")
    console.rule("4/5 predictions")
    run_predictions(env, seed)
    console.print("forecast, CLV and segments written to schema ml")
    _demo_admin(env)
    if no_app:
        return
    console.rule("5/5 app")
    from streamlit_app.launch import run

    raise typer.Exit(run(env, open_browser=True))


def _demo_admin(env: dict[str, str]) -> None:
    """Create the local admin on the first demo and print its password once."""
    from core import accounts

    with db.connect(env) as conn:
        if accounts.has_admin(conn):
            console.print(
                "sign in with your admin account "
                "(forgot the password? `ecom users add admin --role admin --reset`)"
            )
            return
        password = accounts.new_password()
        accounts.add_user(conn, "admin", password, "admin")
    console.print(
        f"admin account created: username admin, password {password}\n"
        "(shown once; add more with `ecom users add NAME --role editor`)"
    )
