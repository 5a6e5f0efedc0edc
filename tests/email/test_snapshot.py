"""The fixed review file renders to the stored HTML and text, byte for byte.

Run with SPARK_UPDATE_SNAPSHOTS=1 to rewrite the stored files on purpose, then review the diff.
"""

from __future__ import annotations

import os

import pytest

from spark.config import Settings
from spark.models import Issue
from spark.render import render_edition
from tests.email.conftest import DATA

UPDATE = os.environ.get("SPARK_UPDATE_SNAPSHOTS") == "1"


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("part", ["html", "text"])
def test_fixed_issue_matches_snapshot(
    issue: Issue, settings: Settings, language: str, part: str
) -> None:
    email = render_edition(issue, settings, language)
    actual = email.html if part == "html" else email.text
    expected_path = DATA / f"expected.{language}.{'html' if part == 'html' else 'txt'}"
    if UPDATE:
        expected_path.write_text(actual, encoding="utf-8")
    assert expected_path.exists(), "no snapshot yet: run with SPARK_UPDATE_SNAPSHOTS=1"
    assert actual == expected_path.read_text(encoding="utf-8"), (
        f"{expected_path.name} changed; if on purpose, rerun with SPARK_UPDATE_SNAPSHOTS=1"
    )
