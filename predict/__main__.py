"""`python -m predict [--seed N]`: fit the prediction models on the resolved
database (the same work as `ecom predict`, without the CLI's table).

Prints one summary line; a user error (an unreachable database, marts not built)
ends with one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import sys

from core import db
from core.errors import EcomError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m predict", description=__doc__)
    parser.add_argument("--seed", type=int, default=42, help="Random seed.")
    args = parser.parse_args(argv)
    from predict.run import run_predictions

    try:
        summary = run_predictions(db.connection_env(), seed=args.seed)
    except EcomError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"predictions fitted as of {summary['as_of_date']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
