"""Benchmark: the scale curve, every step of the pipeline at growing sizes.

In one run, for each scale (1 and 10; also 100 with `--with-100`), in a fresh
database, each step run as the `ecom` command in a child process:
- `ecom generate` (seed 42), `ecom load`, `ecom build` (the full build: seeds,
  models, snapshots, tests);
- one appended day: `ecom generate --append-days 1`, `ecom load`, `ecom build`
  (the incremental build);
- `ecom build` once more with nothing new (the unchanged build);
- `ecom predict`;
- the dashboard pages, each rendered once with a cold cache under Streamlit's
  AppTest, default view (bench/app.py's `time_page`, in a child process).

For each step: wall time and peak RSS (psutil: the step's process and all its
children, summed, sampled every 50 ms; the database server is not a child and is
not counted). For each scale: the database's size (pg_database_size) after the
full build. The growth factor per 10× of data is a step's time at one scale over
its time at the previous one, per decade of scale (t2 / t1) ^ (1 / log10(s2 / s1)):
10 means the step grows linearly with the data, 1 that it does not grow.

Writes the section "Scale curve" of docs/benchmarks.md and a log-log chart of
time per step against scale, docs/img/scale-curve.png. Every database it creates
is dropped and the generated files are deleted, also when a step fails.

    python bench/scale.py                   # scales 1 and 10 (~5 minutes)
    python bench/scale.py --with-100        # also scale 100: ~12 GB of disk, ~25 min
    python bench/scale.py --scales 0.02 --skip-tests --no-write --chart x.png
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import BENCHMARKS, write_section  # noqa: E402
from core import db  # noqa: E402

CHART = ROOT / "docs" / "img" / "scale-curve.png"
SECTION = "Scale curve"
SAMPLE_SECONDS = 0.05
DISK_FOR_100_GB = 12
# (key, label in the table and chart); the appended day's three parts are
# timed separately and summed into "append"
STEPS = (
    ("generate", "generate"),
    ("load", "load"),
    ("full_build", "full build"),
    ("append", "one appended day (generate + load + build)"),
    ("append_generate", "  appended day: generate"),
    ("append_load", "  appended day: load"),
    ("append_build", "  appended day: incremental build"),
    ("unchanged_build", "unchanged build"),
    ("predict", "predict"),
    ("pages", "dashboard pages (8, rendered once each)"),
    ("pages_wait", "  of which waiting for the database"),
)
CHARTED = ("generate", "load", "full_build", "append", "unchanged_build", "predict")


# --------------------------------------------------------------------- measuring


def ecom_command() -> list[str]:
    """The `ecom` CLI of this interpreter's environment."""
    ecom = Path(sys.executable).with_name("ecom")
    return [str(ecom)] if ecom.exists() else [sys.executable, "-m", "cli.main"]


def tree_rss(process: psutil.Process) -> int:
    """Resident bytes of a process and all its descendants, now."""
    try:
        family = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for member in family:
        # a process may end between the listing and the reading
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += member.memory_info().rss
    return total


def run_step(args: list[str], env: dict[str, str]) -> dict:
    """Run one child process to its end: wall seconds, peak RSS (MB) of it and
    its children, and its output. A failing step ends the benchmark."""
    with tempfile.TemporaryFile(mode="w+") as output:
        started = time.perf_counter()
        child = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
        watched, peak = psutil.Process(child.pid), 0
        while child.poll() is None:
            peak = max(peak, tree_rss(watched))
            time.sleep(SAMPLE_SECONDS)
        seconds = time.perf_counter() - started
        output.seek(0)
        text = output.read()
    if child.returncode != 0:
        shown = " ".join(Path(a).name if a.startswith("/") else a for a in args)
        raise SystemExit(
            f"step failed (exit {child.returncode}): {shown}\n{text[-3000:]}"
        )
    return {"seconds": seconds, "rss_mb": peak / 2**20, "output": text}


def database_mb(env: dict[str, str]) -> float:
    with db.connect(env) as conn:
        (size,) = conn.execute("select pg_database_size(current_database())").fetchone()
    return size / 2**20


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def pages_step(env: dict[str, str], target: Path) -> dict:
    """The dashboard pages in a child process (this script with --pages-child):
    the sum of their render times and database waits, the child's peak RSS."""
    args = [sys.executable, str(Path(__file__).resolve()), "--pages-child", str(target)]
    step = run_step(args, env)
    pages = json.loads(step["output"].strip().splitlines()[-1])
    render = sum(p["render"] for p in pages.values()) / 1000
    wait = sum(p["wait"] for p in pages.values()) / 1000
    return {
        "pages": {"seconds": render, "rss_mb": step["rss_mb"]},
        "pages_wait": {"seconds": wait, "rss_mb": None},
    }


def pages_child(target: Path) -> None:
    """Inside the child: time each page once and print the timings as JSON."""
    from bench.app import time_pages_once

    print(json.dumps(time_pages_once(db.connection_env(), target)))


def measure_scale(
    base: dict[str, str], scale: float, work: Path, build: list[str]
) -> dict:
    """Every step at one scale, in a fresh database dropped at the end; `build`
    is the build command's arguments."""
    data, target = work / "data", work / "target"
    ecom = ecom_command()
    env = db.create_database(base, f"ecom_bench_scale_{uuid.uuid4().hex[:8]}")
    child = db.child_env(env) | {
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target / "logs"),
    }
    steps: dict[str, dict] = {}

    def step(key: str, *args: str) -> None:
        steps[key] = run_step([*ecom, *args], child)
        print(
            f"scale {scale:g}: {key} {steps[key]['seconds']:.1f} s, "
            f"peak RSS {steps[key]['rss_mb']:.0f} MB",
            flush=True,
        )

    try:
        step(
            "generate",
            "generate",
            "--scale",
            f"{scale:g}",
            "--seed",
            "42",
            "--out",
            str(data),
        )
        manifest = json.loads((data / "_manifest.json").read_text())
        step("load", "load", str(data))
        step("full_build", *build)
        size_mb = database_mb(env)
        step("append_generate", "generate", "--append-days", "1", "--out", str(data))
        step("append_load", "load", str(data))
        step("append_build", *build)
        parts = [steps[k] for k in ("append_generate", "append_load", "append_build")]
        steps["append"] = {
            "seconds": sum(p["seconds"] for p in parts),
            "rss_mb": max(p["rss_mb"] for p in parts),
        }
        step("unchanged_build", *build)
        step("predict", "predict")
        steps |= pages_step(child, target)
        print(f"scale {scale:g}: pages {steps['pages']['seconds']:.1f} s", flush=True)
        return {
            "scale": scale,
            "order_items": manifest["row_counts"]["order_items"],
            "csv_mb": folder_mb(data),
            "database_mb": size_mb,
            "final_database_mb": database_mb(env),
            "steps": steps,
        }
    finally:
        db.drop_database(base, env["PGDATABASE"])
        print(f"scale {scale:g}: dropped database {env['PGDATABASE']}", flush=True)


# ----------------------------------------------------------------------- report


def growth(first: float | None, second: float | None, s1: float, s2: float) -> str:
    """Growth per 10× of data between two scales, as text."""
    if not first or second is None or s1 == s2:
        return "–"
    return f"{(second / first) ** (1 / math.log10(s2 / s1)):.1f}×"


def _scale_pairs(results: list[dict]) -> list[tuple[dict, dict]]:
    return list(itertools.pairwise(results))


def _steps_table(results: list[dict]) -> list[str]:
    pairs = _scale_pairs(results)
    head = ["step"]
    head += [f"s at {r['scale']:g}" for r in results]
    head += [f"×/10× ({a['scale']:g}→{b['scale']:g})" for a, b in pairs]
    head += [f"peak RSS MB at {r['scale']:g}" for r in results]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for key, label in STEPS:
        cells = [label.strip() if not label.startswith(" ") else f"… {label.strip()}"]
        cells += [f"{r['steps'][key]['seconds']:.1f}" for r in results]
        cells += [
            growth(
                a["steps"][key]["seconds"],
                b["steps"][key]["seconds"],
                a["scale"],
                b["scale"],
            )
            for a, b in pairs
        ]
        rss = [r["steps"][key]["rss_mb"] for r in results]
        cells += ["–" if v is None else f"{v:.0f}" for v in rss]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _size_table(results: list[dict]) -> list[str]:
    lines = [
        "| scale | order items | CSV files MB | database MB after the full build "
        "| database MB at the end | database ×/10× |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    previous = None
    for r in results:
        grew = (
            "–"
            if previous is None
            else growth(
                previous["database_mb"],
                r["database_mb"],
                previous["scale"],
                r["scale"],
            )
        )
        lines.append(
            f"| {r['scale']:g} | {r['order_items']:,} | {r['csv_mb']:,.0f} "
            f"| {r['database_mb']:,.0f} | {r['final_database_mb']:,.0f} | {grew} |"
        )
        previous = r
    return lines


def markdown(results: list[dict], load: tuple[float, float], chart: str) -> str:
    cores = os.cpu_count() or 1
    busy = max(load) > 0.5 * cores
    lines = [
        "`python bench/scale.py` runs the whole pipeline once per scale, each scale "
        "in a fresh database (seed 42), each step as the `ecom` command in a child "
        "process: generate, load, the full `ecom build` (seeds, models, snapshots, "
        "tests), one appended day (`ecom generate --append-days 1`, `ecom load`, "
        "`ecom build`), a build with nothing new, `ecom predict`, and the eight "
        "dashboard pages rendered once each with a cold cache (default view). "
        "Scale 1 ≈ 100 000 order items; `--with-100` adds scale 100 (about 12 GB "
        "of disk and 25 minutes).",
        "",
        "- **s**: wall seconds of the step, start of the process to its end "
        "(interpreter start and imports included: what a user waits for). The "
        "pages' figure is the sum of their render times inside one process.",
        "- **×/10×**: growth of the step's time per 10× of data, "
        "(t₂ / t₁)^(1 / log₁₀(s₂ / s₁)): 10× is linear in the data, 1× flat.",
        "- **peak RSS**: the step's process and its children (dbt), summed, "
        "sampled every 50 ms; the database server's memory is not included.",
        "",
        *_steps_table(results),
        "",
        *_size_table(results),
        "",
        f"![Time per step against scale, log-log]({chart})",
        "",
        f"Machine: {cores} CPUs, load average {load[0]:.1f} before and "
        f"{load[1]:.1f} after the run; PostgreSQL named by the libpq variables "
        "(the embedded server by default) with default settings.",
    ]
    if busy:
        lines += [
            "",
            "These figures were taken under load: other work ran on the machine "
            "at the same time, which inflates every time here, the short steps "
            "the most. The growth factors compare steps of the same run and are "
            "the steadier figures.",
        ]
    return "\n".join(lines)


def draw_chart(results: list[dict], path: Path) -> None:
    """Time per step against scale, log-log, one line per step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    scales = [r["scale"] for r in results]
    labels = dict(STEPS)
    figure, axes = plt.subplots(figsize=(8, 5), dpi=110)
    for key in (*CHARTED, "pages"):
        seconds = [r["steps"][key]["seconds"] for r in results]
        axes.plot(scales, seconds, marker="o", label=labels[key].split(" (")[0])
    if len(scales) > 1:
        first = results[0]["steps"]["full_build"]["seconds"]
        linear = [first * s / scales[0] for s in scales]
        axes.plot(scales, linear, "k:", linewidth=1, label="linear in the data")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xticks(scales, [f"{s:g}" for s in scales])
    axes.xaxis.set_minor_formatter(NullFormatter())  # label the scales only
    axes.set_xlabel("scale (1 ≈ 100 000 order items)")
    axes.set_ylabel("seconds")
    axes.set_title("Time per step against scale")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)


# -------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument(
        "--with-100",
        action="store_true",
        help=f"Also scale 100 (about {DISK_FOR_100_GB} GB of disk and 25 minutes).",
    )
    parser.add_argument(
        "--no-write", action="store_true", help="Print only; leave the docs alone."
    )
    parser.add_argument(
        "--output", type=Path, default=BENCHMARKS, help="Markdown file to write."
    )
    parser.add_argument("--chart", type=Path, default=CHART, help="PNG to write.")
    parser.add_argument(
        "--skip-tests",
        action="store_true",
        help="Build without the data and unit tests (a quick check, not the figures).",
    )
    parser.add_argument("--pages-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if any(s <= 0 for s in args.scales):
        parser.error("--scales: every scale must be above 0")
    if args.with_100 and 100.0 not in args.scales:
        args.scales.append(100.0)
    args.scales = sorted(set(args.scales))
    return args


def check_disk(scales: list[float]) -> None:
    free_gb = shutil.disk_usage(tempfile.gettempdir()).free / 2**30
    if max(scales) >= 100 and free_gb < DISK_FOR_100_GB:
        raise SystemExit(
            f"scale 100 needs about {DISK_FOR_100_GB} GB free in "
            f"{tempfile.gettempdir()}; {free_gb:.0f} GB free"
        )


def main() -> None:
    args = parse_args()
    if args.pages_child:
        pages_child(args.pages_child)
        return
    check_disk(args.scales)
    build = ["build"]
    if args.skip_tests:
        build = ["dbt", "build", "--exclude", "resource_type:test"]
        build.append("resource_type:unit_test")
    base = db.connection_env()
    load_before = os.getloadavg()[0]
    results = []
    for scale in args.scales:
        with tempfile.TemporaryDirectory(prefix="ecom-bench-scale-") as work:
            results.append(measure_scale(base, scale, Path(work), build))
    load = (load_before, os.getloadavg()[0])
    draw_chart(results, args.chart)
    print(f"wrote {args.chart}")
    try:
        chart_link = os.path.relpath(args.chart, args.output.resolve().parent)
    except ValueError:  # another drive
        chart_link = str(args.chart)
    text = markdown(results, load, Path(chart_link).as_posix())
    if args.skip_tests:
        text += "\n\nThe builds ran without tests (`--skip-tests`)."
    print(text)
    if not args.no_write:
        write_section(SECTION, text, args.output)
        print(f"wrote {args.output} ({SECTION})")


if __name__ == "__main__":
    main()
