"""Fixtures for the ingest tests: a newsletter directory with small timeouts, feeds on disk."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

SPARK_YAML = """\
name: Spark test
editions: [en, fr]
ingest:
  concurrency: 16
  connect_timeout: 0.5
  read_timeout: 0.5
  deadline: 2
  max_bytes: 2000000
review:
  summary_chars: 200
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A newsletter directory whose settings keep the slow fault tests short."""
    directory = tmp_path / "newsletter"
    directory.mkdir()
    (directory / "spark.yaml").write_text(SPARK_YAML, encoding="utf-8")
    return directory


def write_sources(root: Path, entries: list[dict[str, object]]) -> Path:
    """sources.yaml from plain dicts (strings quoted, lists inline)."""
    lines = ["sources:"]
    for entry in entries:
        first = True
        for key, value in entry.items():
            prefix = "  - " if first else "    "
            first = False
            if isinstance(value, list | tuple):
                rendered = "[" + ", ".join(f'"{v}"' for v in value) + "]"
            elif isinstance(value, dict):
                rendered = "{" + ", ".join(f'{k}: "{v}"' for k, v in value.items()) + "}"
            elif isinstance(value, bool):
                rendered = "true" if value else "false"
            else:
                rendered = f'"{value}"'
            lines.append(f"{prefix}{key}: {rendered}")
    path = root / "sources.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
