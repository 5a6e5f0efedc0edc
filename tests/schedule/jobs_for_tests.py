"""Job functions the scheduler tests schedule by reference, like spark.jobs' own."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

RECORD = "record.log"


def record(root: str) -> None:
    """Append one line (the time and this process) to ROOT/record.log."""
    with (Path(root) / RECORD).open("a", encoding="utf-8") as f:
        f.write(f"{datetime.now(UTC).isoformat()} pid={os.getpid()}\n")


def slow(root: str) -> None:
    """A long job: marks its start, waits for the test's go-ahead file (bounded), marks its end."""
    base = Path(root)
    (base / "slow.started").write_text(str(os.getpid()), encoding="utf-8")
    for _ in range(200):  # at most ~10 s
        if (base / "slow.go").exists():
            break
        time.sleep(0.05)
    (base / "slow.finished").write_text(str(os.getpid()), encoding="utf-8")


def lines(root: Path) -> list[str]:
    path = root / RECORD
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []
