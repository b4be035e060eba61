"""`python -m predict [--seed N] [--json]`: fit the prediction models on the
resolved database (the same work as `ecom predict`).

Prints the run and one line per model: fitted, fallback (a simpler model, and
why) or skipped (and why); with `--json`, the per-model statuses as one JSON
document instead. Exit code 0 when the run completed, whatever each model did;
a real failure (an unreachable database, marts not built, schema ml not
writable) ends with one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import json
import sys

from core import db
from core.errors import EcomError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m predict", description=__doc__)
    parser.add_argument("--seed", type=int, default=42, help="Random seed.")
    parser.add_argument(
        "--json", action="store_true", help="Print the per-model statuses as JSON."
    )
    args = parser.parse_args(argv)
    from predict.run import run_predictions
    from predict.summary import report
    from predict.tables import finite

    try:
        summary = run_predictions(db.connection_env(), seed=args.seed)
    except EcomError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        keys = ("run_id", "as_of_date", "marts_built_at", "models")
        print(json.dumps(finite({key: summary[key] for key in keys})))
    else:
        print("\n".join(report(summary)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
