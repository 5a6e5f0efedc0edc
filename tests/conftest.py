"""Fixtures shared by every test: a newsletter directory, a real headless Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "examples" / "demo"
CHROMIUM = os.environ.get("SPARK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture
def newsletter(tmp_path: Path) -> Path:
    """A newsletter directory holding the demo's spark.yaml (and nothing else yet)."""
    root = tmp_path / "newsletter"
    root.mkdir()
    shutil.copy(DEMO / "spark.yaml", root / "spark.yaml")
    return root


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (no browser download).

    Module-scoped: Playwright's sync API holds an event loop on this thread while it runs,
    which would stop later tests of code that uses asyncio.run (ingest).
    """
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it with apt-get (make browser)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
