from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from spark.config import Settings, load_settings
from spark.store import Store
from tests.support.review import make_newsletter


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_newsletter(tmp_path / "newsletter")


@pytest.fixture
def settings(root: Path) -> Settings:
    return load_settings(root)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with Store(settings.database_path) as s:
        yield s
