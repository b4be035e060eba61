"""`ecom generate` and `ecom load`: shop data in as CSV files, CSV files into the
raw tables."""

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
) -> None:
    """Load CSV files into the raw tables; bad rows go to raw.load_rejects."""
    from loader.load import summary_rows

    env = db.connection_env()
    results = run_load(env, directory, force=force, replace=replace)
    table = Table("file", "method", "read", "loaded", "rejected", "seconds")
    for row in summary_rows(results):
        table.add_row(*row)
    console.print(table)
    rejected = sum(r.rows_rejected for r in results)
    if rejected:
        console.print(
            f"{rejected:,} rows rejected: see raw.load_rejects "
            "(or the Data quality page)"
        )


def run_load(env, directory: Path, *, force: bool, replace: bool):
    from loader.load import load_directory

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

        return load_directory(
            env,
            directory,
            force=force,
            replace=replace,
            on_file=on_file,
            on_bytes=on_bytes,
            on_done=on_done,
        )
