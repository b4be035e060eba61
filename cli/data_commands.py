"""`ecom generate`, `ecom load` and `ecom import`: shop data in as CSV files, CSV
files into the raw tables, one flat export split into them through a mapping."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from cli.base import (
    DEFAULT_DATA_DIR,
    app,
    console,
    err_console,
    parse_date,
    step_progress,
)
from core import db

TimezoneOption = Annotated[
    str,
    typer.Option(
        help="Zone in which timestamps without an offset, and dates, are read."
    ),
]
MaxRejectRateOption = Annotated[
    float,
    typer.Option(
        min=0.0,
        max=1.0,
        help="Largest share of a file's rows that may be rejected; above it "
        "nothing of the file is kept.",
    ),
]


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Folder to write the CSV files to.")] = (
        DEFAULT_DATA_DIR
    ),
    scale: Annotated[float, typer.Option(help="1 ≈ 100 000 order items.")] = 1.0,
    seed: Annotated[
        int, typer.Option(help="Random seed (same seed, same files).")
    ] = 42,
    start: Annotated[
        str | None, typer.Option(help="First order day, YYYY-MM-DD.")
    ] = None,
    end: Annotated[str | None, typer.Option(help="Last order day, YYYY-MM-DD.")] = None,
    dirty_rate: Annotated[
        float, typer.Option(help="Share of extra bad rows to inject (0-0.5).")
    ] = 0.0,
    append_days: Annotated[
        int, typer.Option(help="Continue the data in OUT by N more days instead.")
    ] = 0,
) -> None:
    """Generate realistic, reproducible e-commerce data as CSV files."""
    from loader import generate as gen

    started = time.perf_counter()
    with step_progress() as progress:
        task = progress.add_task("generating", total=1)

        def report(step: str, done: int, total: int) -> None:
            progress.update(task, description=step, completed=done, total=total)

        if append_days:
            manifest = gen.append_days(out, append_days, progress=report)
        else:
            kwargs = {"scale": scale, "seed": seed, "dirty_rate": dirty_rate}
            if (d := parse_date(start, "--start")) is not None:
                kwargs["start"] = d
            if (d := parse_date(end, "--end")) is not None:
                kwargs["end"] = d
            manifest = gen.generate(out, progress=report, **kwargs)
    seconds = time.perf_counter() - started
    table = Table("table", "rows", title=f"generated in {out} ({seconds:.1f} s)")
    for name, count in manifest.get("row_counts", {}).items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    injected = manifest.get("injected", [])
    if injected:
        console.print(
            f"{len(injected):,} dirty rows injected (listed in _manifest.json)"
        )


@app.command()
def load(
    directory: Annotated[Path, typer.Argument(help="Folder of <table>.csv files.")] = (
        DEFAULT_DATA_DIR
    ),
    force: Annotated[bool, typer.Option(help="Reload files already loaded.")] = False,
    replace: Annotated[
        bool, typer.Option(help="Empty the raw tables first (destroys their data).")
    ] = False,
    timezone: TimezoneOption = "UTC",
    max_reject_rate: MaxRejectRateOption = 0.1,
    target: Annotated[
        str,
        typer.Option(
            help="postgres, or spark: the local Spark warehouse (ECOM_SPARK_DIR; "
            "each table with files is replaced)."
        ),
    ] = "postgres",
) -> None:
    """Load CSV files into the raw tables; bad rows go to raw.load_rejects."""
    from loader.load import load_directory

    if target == "spark":
        load_spark(directory, timezone, max_reject_rate)
        return
    if target != "postgres":
        raise typer.BadParameter(
            f"unknown target '{target}' (postgres or spark)", param_hint="--target"
        )
    env = db.connection_env()
    results = with_load_progress(
        load_directory,
        env,
        directory,
        force=force,
        replace=replace,
        timezone=timezone,
        max_reject_rate=max_reject_rate,
    )
    print_load_summary(results)


def load_spark(directory: Path, timezone: str, max_reject_rate: float) -> None:
    """`ecom load --target spark`: every table with files is replaced, so
    `--force` and `--replace` change nothing; timestamps are read in UTC."""
    from core.errors import EcomError
    from core.spark_session import check_spark_available, default_spark_dir
    from loader.spark import load_directory_spark

    if timezone != "UTC":
        raise EcomError(
            "--timezone: the Spark target reads timestamps without an offset as UTC"
        )
    check_spark_available()  # one line naming what is missing
    spark_dir = default_spark_dir()
    results = with_load_progress(
        load_directory_spark, directory, spark_dir, max_reject_rate=max_reject_rate
    )
    print_load_summary(results)
    console.print(f"Spark warehouse: {spark_dir}", highlight=False)


@app.command("import")
def import_export(
    file: Annotated[
        Path, typer.Argument(help="The export: one row per order line, as CSV.")
    ],
    mapping: Annotated[
        str,
        typer.Option(
            help="A bundled mapping (shopify, uci_online_retail) or a .yml file."
        ),
    ],
    timezone: Annotated[
        str | None,
        typer.Option(
            help="Zone of timestamps without an offset (default: the mapping's)."
        ),
    ] = None,
    max_reject_rate: MaxRejectRateOption = 0.1,
    replace: Annotated[
        bool, typer.Option(help="Empty the raw tables first (destroys their data).")
    ] = False,
) -> None:
    """Split one flat order-lines export into the contract's files and load them."""
    from loader.imports import import_file, load_mapping

    chosen = load_mapping(mapping)  # checked before the database is reached
    env = db.connection_env()
    result = with_load_progress(
        import_file,
        env,
        file,
        chosen,
        timezone=timezone,
        max_reject_rate=max_reject_rate,
        replace=replace,
    )
    merged = ", ".join(f"{t} {n:,}" for t, n in result.merged.items())
    console.print(
        f"{file.name}: {result.lines_read:,} lines read, "
        f"{len(result.rejects):,} rejected before loading; rows merged: {merged}"
    )
    for reject in result.rejects[:SHOWN_REJECTS]:
        console.print(f"  {reject}", highlight=False, markup=False)
    if len(result.rejects) > SHOWN_REJECTS:
        console.print(f"  ... and {len(result.rejects) - SHOWN_REJECTS:,} more")
    print_load_summary(result.loads)


SHOWN_REJECTS = 20


def print_load_summary(results) -> None:
    from loader.load import money_rows, summary_rows

    table = Table("file", "method", "read", "loaded", "rejected", "seconds")
    for row in summary_rows(results):
        table.add_row(*row)
    console.print(table)
    money = Table("file", "money column", "read", "loaded", "rejected")
    for row in money_rows(results):
        money.add_row(*row)
    if money.rows:
        console.print(money)
    rejected = sum(r.rows_rejected for r in results)
    if rejected:
        console.print(
            f"{rejected:,} rows rejected: see raw.load_rejects "
            "(or the Data quality page)"
        )


def with_load_progress(load, *args, **kwargs):
    """Call `load` (load_directory or import_file) with progress bars per file."""
    progress = Progress(
        TextColumn("{task.description:<32}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err_console,
        transient=True,
    )
    tasks = {}
    with progress:

        def on_file(name: str, size: int) -> None:
            tasks[name] = progress.add_task(name, total=size)

        def on_bytes(name: str, n: int) -> None:
            progress.advance(tasks[name], n)

        def on_done(result) -> None:
            progress.update(tasks[result.file], visible=False)

        return load(
            *args, on_file=on_file, on_bytes=on_bytes, on_done=on_done, **kwargs
        )


def run_load(env, directory: Path, *, force: bool, replace: bool):
    """load_directory with progress bars (the demo's load)."""
    from loader.load import load_directory

    return with_load_progress(
        load_directory, env, directory, force=force, replace=replace
    )
