"""Real processes for tests: start one from the repository, wait for what it does."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    """Poll CONDITION until it is true (bounded); fail naming WHAT otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """A real process from the repository root (so `tests.` job references import)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("SENDGRID_API_KEY", None)
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, *args], cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env
        )
