"""Atomic writes: never half a file, never a rewrite of identical content."""

from __future__ import annotations

import os
import stat
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


def test_atomic_write_keeps_the_mode_or_gives_the_usual_one(tmp_path: Path) -> None:
    new = tmp_path / "new.html"
    atomic_write_text(new, "a")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600
    kept = tmp_path / "kept.yaml"
    kept.write_text("a")
    kept.chmod(0o640)
    atomic_write_text(kept, "b")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
