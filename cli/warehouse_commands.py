"""`ecom build`, `ecom dbt`, `ecom docs` and `ecom predict`: the warehouse's dbt
runs and the prediction models."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.base import app, console, step_progress
from core import db
from core.errors import EcomError

NO_EMPTY_SELECTION = '{"error": ["NoNodesForSelectionCriteria"]}'


@app.command()
def build(
    select: Annotated[
        str | None, typer.Option("--select", "-s", help="dbt selection.")
    ] = None,
    full_refresh: Annotated[
        bool, typer.Option(help="Rebuild incremental models.")
    ] = False,
    test_all_rows: Annotated[
        bool,
        typer.Option(
            help="Tests read every row, not only the rows the incremental models"
            " wrote in their latest build."
        ),
    ] = False,
    target: Annotated[
        str,
        typer.Option(
            help="Engine: postgres (the resolved database) or spark (the local"
            " Spark warehouse, see docs/spark.md)."
        ),
    ] = "postgres",
) -> None:
    """Run `dbt build` (seeds, models, snapshots, tests) on the resolved database."""
    from core.dbt_runner import run_dbt

    env, args = _target_env(target), ["build"]
    if select:
        # a selection that matches nothing is an error, not an empty success
        args += ["--select", select, "--warn-error-options", NO_EMPTY_SELECTION]
    if full_refresh:
        args.append("--full-refresh")
    if test_all_rows:
        args += ["--vars", "{test_all_rows: true}"]
    result = run_dbt(args, env)
    if result.returncode != 0:
        raise EcomError(
            f"dbt build failed (exit {result.returncode}); see the log above"
            if not select
            else f"dbt build -s {select} failed (exit {result.returncode}): a"
            " selection that matches no node, or a failing node; see the log above"
        )


def _target_env(target: str) -> dict[str, str]:
    """The environment of a dbt run on `target`: the resolved database's libpq
    variables, or the Spark warehouse folder and the profile's `spark` target
    (dbt's own files in target/spark, so the two engines' runs don't mix)."""
    if target == "postgres":
        return db.connection_env()
    if target != "spark":
        raise EcomError(f"--target: unknown engine {target!r}; use postgres or spark")
    from core.dbt_runner import DBT_PROJECT_DIR
    from core.spark_session import (
        SPARK_DIR_VARIABLE,
        check_spark_available,
        default_spark_dir,
    )

    check_spark_available()
    files = DBT_PROJECT_DIR / "target" / "spark"
    return {
        SPARK_DIR_VARIABLE: str(default_spark_dir()),
        "DBT_TARGET": "spark",
        "DBT_TARGET_PATH": str(files),
        "DBT_LOG_PATH": str(files / "logs"),
    }


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def dbt(ctx: typer.Context) -> None:
    """Run any dbt command on the resolved database: ecom dbt test -s fct_orders."""
    from core.dbt_runner import run_dbt

    raise typer.Exit(run_dbt(list(ctx.args), db.connection_env()).returncode)


@app.command()
def docs(
    port: Annotated[
        int, typer.Option(help="Port for the docs site.", min=1, max=65535)
    ] = 8080,
) -> None:
    """Generate the dbt docs and serve them on localhost."""
    from core.dbt_runner import run_dbt, serve_dbt

    env = db.connection_env()
    if run_dbt(["docs", "generate"], env).returncode != 0:
        raise EcomError("dbt docs generate failed; see the log above")
    raise typer.Exit(
        serve_dbt(["docs", "serve", "--port", str(port), "--host", "127.0.0.1"], env)
    )


@app.command()
def predict(
    seed: Annotated[int, typer.Option(help="Random seed for the models.")] = 42,
) -> None:
    """Fit the forecast, CLV and segment models on the marts; write schema ml.

    Prints one line per model: fitted, fallback (a simpler model, and why) or
    skipped (and why)."""
    from predict.summary import report

    summary = run_predictions(db.connection_env(), seed)
    for line in report(summary):
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def run_predictions(env: dict[str, str], seed: int) -> dict:
    from predict import run_predictions

    with step_progress() as progress:
        task = progress.add_task("predictions", total=1)

        def report(step: str, done: int, total: int) -> None:
            progress.update(task, description=step, completed=done, total=total)

        return run_predictions(env, seed=seed, progress=report)
