"""Fixtures for the archive: a newsletter directory holding the fixture review files."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from spark.archive import build_site
from spark.config import Settings, load_settings
from tests.support.servers import serve_directory

DATA = Path(__file__).parent / "data"


def make_newsletter(target: Path) -> Path:
    """A copy of tests/archive/data (spark.yaml + issues/) at `target`."""
    shutil.copytree(DATA, target)
    return target


@pytest.fixture
def archive_root(tmp_path: Path) -> Path:
    return make_newsletter(tmp_path / "newsletter")


@pytest.fixture
def settings(archive_root: Path) -> Settings:
    return load_settings(archive_root)


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One built site shared by a module's read-only tests (the browser tests)."""
    root = make_newsletter(tmp_path_factory.mktemp("archive") / "newsletter")
    build_site(load_settings(root))
    return root / "site"


@pytest.fixture(scope="module")
def site_url(built_site: Path) -> Iterator[str]:
    with serve_directory(str(built_site)) as url:
        yield url
