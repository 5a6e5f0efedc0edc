"""`python -m tests.schedule.run_scheduler ROOT NAME=module:function ...`: the real
scheduler in its own process (signals, lock), with some jobs pointed at test functions."""

from __future__ import annotations

import sys
from pathlib import Path

from spark.errors import SparkError
from spark.schedule import run


def main(argv: list[str]) -> int:
    root = Path(argv[0])
    targets = dict(arg.split("=", 1) for arg in argv[1:])
    try:
        run(root, targets=targets)
    except SparkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
