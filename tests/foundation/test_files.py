"""Atomic writes: never half a file, never a rewrite of identical content."""

from __future__ import annotations

import os
from pathlib import Path

from spark.files import atomic_write_text


def test_atomic_write_skips_identical_content(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    assert atomic_write_text(path, "one\n") is True
    os.utime(path, (1_000_000, 1_000_000))
    assert atomic_write_text(path, "one\n") is False
    assert path.stat().st_mtime == 1_000_000
    assert atomic_write_text(path, "two\n", backup=True) is True
    assert path.read_text() == "two\n"
    assert (tmp_path / "a.txt.bak").read_text() == "one\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
