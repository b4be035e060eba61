"""Benchmark: `run_predictions` (what `ecom predict` runs) at scales 1, 10, 100.

In one run, for each scale:
- generate, load and `dbt build` a fresh database (models, seeds and snapshots;
  tests are not needed), timing the build as the reference; or use a database
  built before (`--database SCALE=NAME`, e.g. a scale-100 one: its build takes
  long), for which the build time is not known;
- run the predictions `--repeat` times, each in a fresh Python process (as the
  CLI would): wall time with imports, the time of `run_predictions` itself and of
  each of its steps, and the peak RSS of the process;
- report the median, its ratio to the `dbt build` of the same data, and the
  headline results (backtest MAPE, CLV calibration, segments) of the last run.

Results go to docs/benchmarks.md, section "Predictions". Target: under 60 s and
1 GB peak RSS at scale 100.

    python bench/predict.py                 # scales 1 and 10
    python bench/predict.py --scales 1 --repeat 1 --no-write
    python bench/predict.py --scales 1 10 100 --database 100=ecom_s100
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402
from core import db  # noqa: E402
from core.dbt_runner import run_dbt  # noqa: E402
from loader import generate as gen  # noqa: E402
from loader.load import load_directory  # noqa: E402

TARGET_SECONDS = 60.0
TARGET_RSS_MB = 1024.0
TARGET_SCALE = 100
STEPS = ("read", "forecast", "backtest", "clv", "calibration", "segments", "write")

CHILD = """
import json, sys
from predict import run_predictions
env = json.loads(sys.argv[1])
print(json.dumps(run_predictions(env, seed=42), default=str))
"""


def build_database(base: dict[str, str], scale: float, reuse: bool) -> dict[str, Any]:
    """A database with generated data at `scale`, loaded and built by dbt."""
    name = f"ecom_predict_bench_s{scale:g}".replace(".", "_")
    env = base | {"PGDATABASE": name}
    work = Path(tempfile.gettempdir()) / f"ecom-bench-predict-s{scale:g}"
    timing = work / "dbt_build_seconds.txt"
    with db.connect(base | {"PGDATABASE": "postgres"}, autocommit=True) as conn:
        exists = conn.execute(
            "select 1 from pg_database where datname = %s", [name]
        ).fetchone()
        if exists and reuse and timing.exists():
            print(f"scale {scale:g}: reusing database {name}", flush=True)
            return {"env": env, "dbt_seconds": float(timing.read_text())}
    db.create_database(base, name)
    data_dir = work / "data"
    if not (data_dir / "_manifest.json").exists():
        gen.generate(data_dir, scale=scale, seed=42)
    load_directory(env, data_dir)
    started = time.perf_counter()
    args = ["build", "--exclude", "resource_type:test", "resource_type:unit_test"]
    result = run_dbt(args, env, target_path=work / "target", capture=True)
    if result.returncode != 0:
        raise SystemExit(f"dbt build failed at scale {scale:g}:\n{result.stdout}")
    seconds = time.perf_counter() - started
    timing.write_text(f"{seconds:.3f}")
    print(f"scale {scale:g}: dbt build in {seconds:.0f} s", flush=True)
    with db.connect(env, autocommit=True) as conn:
        conn.execute("analyze")
    return {"env": env, "dbt_seconds": seconds}


def existing_database(base: dict[str, str], scale: float, name: str) -> dict:
    """A database built before (generated at `scale`, loaded, `dbt build`)."""
    env = base | {"PGDATABASE": name}
    with db.connect(base | {"PGDATABASE": "postgres"}, autocommit=True) as conn:
        found = conn.execute(
            "select 1 from pg_database where datname = %s", [name]
        ).fetchone()
    if not found:
        raise SystemExit(f"--database {scale:g}={name}: no database named {name}")
    print(f"scale {scale:g}: using database {name}", flush=True)
    return {"env": env, "dbt_seconds": None}


def parse_databases(values: list[str], scales: list[float]) -> dict[float, str]:
    """`--database SCALE=NAME` options as {scale: name}."""
    found = {}
    for value in values:
        scale, sep, name = value.partition("=")
        try:
            number = float(scale)
        except ValueError:
            number = None
        if not sep or not name or number is None:
            raise SystemExit(f"--database {value}: expected SCALE=NAME, e.g. 100=ecom")
        if number not in scales:
            raise SystemExit(f"--database {value}: scale {scale} is not in --scales")
        found[number] = name
    return found


def run_child(env: dict[str, str]) -> dict[str, Any]:
    """One `run_predictions` in a fresh interpreter: its summary, wall time and
    peak RSS (MB) of that process alone."""
    started = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as errors:
        process = subprocess.Popen(
            [sys.executable, "-c", CHILD, json.dumps(env)],
            cwd=ROOT,
            env=db.child_env(env) | {"PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        out = process.stdout.read()
        process.stdout.close()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise SystemExit(f"predictions failed:\n{errors.read()[-3000:]}")
    summary = json.loads(out.strip().splitlines()[-1])
    cpu = usage.ru_utime + usage.ru_stime
    return {"summary": summary, "wall": wall, "cpu": cpu, "rss": usage.ru_maxrss / 1024}


def measure(scale: float, built: dict[str, Any], repeat: int) -> dict[str, Any]:
    runs = []
    for i in range(repeat):
        run = run_child(built["env"])
        runs.append(run)
        print(
            f"scale {scale:g}: run {i + 1}/{repeat}: {run['wall']:.1f} s wall, "
            f"{run['summary']['seconds']:.1f} s in run_predictions",
            flush=True,
        )
    last = runs[-1]["summary"]
    return {
        "scale": scale,
        "customers": last["metrics"]["customers"],
        "dbt_seconds": built["dbt_seconds"],
        "wall": statistics.median(r["wall"] for r in runs),
        "rss": max(r["rss"] for r in runs),
        "cpu": statistics.median(r["cpu"] for r in runs),
        "seconds": statistics.median(r["summary"]["seconds"] for r in runs),
        "steps": {
            step: statistics.median(r["summary"]["timings"][step] for r in runs)
            for step in STEPS
        },
        "summary": last,
    }


def markdown(results: list[dict], repeat: int, load: tuple) -> str:
    lines = [
        "`python bench/predict.py`: `run_predictions` (what `ecom predict` runs) on",
        "generated data (seed 42) after `dbt build`, each run in a fresh Python",
        f"process, median of {repeat} run(s). Reference: the `dbt build` of the same",
        "data (models, seeds, snapshots; n/a: a database built before). Target:",
        f"under {TARGET_SECONDS:.0f} s and {TARGET_RSS_MB:.0f} MB peak RSS at scale",
        f"{TARGET_SCALE}. Machine: {os.cpu_count()} CPUs, load average"
        f" {load[0]:.1f} before / {load[1]:.1f} after (other jobs were running:"
        " wall times grow with the load; CPU is the predict process's own user and"
        " system time, without the database server's work for its queries).",
        "",
        "| scale | customers | predict, wall (s) | run_predictions (s) "
        "| predict, CPU (s) | dbt build (s) | predict / dbt build | peak RSS (MB) "
        "| target met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        met = "yes" if r["wall"] < TARGET_SECONDS and r["rss"] < TARGET_RSS_MB else "no"
        dbt, ratio = "n/a", "n/a"
        if r["dbt_seconds"]:
            dbt = f"{r['dbt_seconds']:.1f}"
            ratio = f"{r['wall'] / r['dbt_seconds']:.2f}"
        lines.append(
            f"| {r['scale']:g} | {r['customers']:,} | {r['wall']:.1f} "
            f"| {r['seconds']:.1f} | {r['cpu']:.1f} | {dbt} | {ratio} "
            f"| {r['rss']:.0f} | {met} |"
        )
    lines += [
        "",
        "Seconds per step (median):",
        "",
        "| scale | " + " | ".join(STEPS) + " |",
        "|---|" + "---|" * len(STEPS),
    ]
    for r in results:
        cells = " | ".join(f"{r['steps'][s]:.1f}" for s in STEPS)
        lines.append(f"| {r['scale']:g} | {cells} |")
    lines += [
        "",
        "Results of the last run (see docs/predictions.md for what they mean):",
        "",
        "| scale | MAPE total: ETS / seasonal naive / MA(3) (%) "
        "| categories where ETS loses | CLV hold-out error (%) "
        "| k | silhouette | ARI between seeds |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        m = r["summary"]["metrics"]
        mape = m["mape_total"]
        losing = ", ".join(m["ets_not_beating_baselines"]) or "none"
        lines.append(
            f"| {r['scale']:g} | {mape['ets']:.1f} / {mape['seasonal_naive']:.1f} / "
            f"{mape['moving_average_3']:.1f} | {losing} "
            f"| {m['calibration_error_pct']:+.1f} "
            f"| {r['summary']['parameters']['segments_k']} | {m['silhouette']:.3f} "
            f"| {m['segments_stability_ari']:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--reuse", action="store_true", help="Reuse databases built by an earlier run."
    )
    parser.add_argument(
        "--database",
        action="append",
        default=[],
        metavar="SCALE=NAME",
        help="Use the existing database NAME (generated at SCALE, loaded and"
        " built) instead of building one; repeatable.",
    )
    parser.add_argument(
        "--no-write", action="store_true", help="Print only; leave docs alone."
    )
    args = parser.parse_args()
    databases = parse_databases(args.database, args.scales)
    base = db.connection_env()
    load_before = os.getloadavg()[0]
    results = []
    for scale in args.scales:
        if scale in databases:
            built = existing_database(base, scale, databases[scale])
        else:
            built = build_database(base, scale, args.reuse)
        results.append(measure(scale, built, args.repeat))
    text = markdown(results, args.repeat, (load_before, os.getloadavg()[0]))
    print(text)
    if not args.no_write:
        write_section("Predictions", text)
        print("wrote docs/benchmarks.md (Predictions)")


if __name__ == "__main__":
    main()
