"""Format and language of an entry, from what its publisher declared, then its words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from spark.classify import detect_language, fold, item_format
from spark.clean import CleanEntry


def _entry(title: str, url: str = "https://a.example/p", enclosures: tuple = ()) -> CleanEntry:
    return CleanEntry(guid=None, url=url, canonical_url=url, title=title, summary_html="",
                      summary_text="", text="", image_url=None, author=None,
                      published=datetime(2026, 9, 1, tzinfo=UTC), dated=True,
                      enclosures=enclosures, categories=(), language=None)  # fmt: skip


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Webinar: the new report on reading", "event"),  # the first format listed wins
        ("Episode 12 — a report from the classroom", "podcast"),
        ("Rapport annuel sur la réussite", "report"),
        ("Conférence nationale sur la littératie", "event"),
        ("Eventually, reporting improves", "article"),  # whole words only
        ("Watch: a math lesson", "video"),
    ],
)
def test_format_from_keywords(title: str, expected: str) -> None:
    assert item_format(_entry(title)) == expected


def test_declared_media_wins_over_words() -> None:
    assert (
        item_format(_entry("Webinar recording", enclosures=(("https://a/x.mp3", "audio/mpeg"),)))
        == "podcast"
    )
    assert item_format(_entry("A report", url="https://youtube.com/watch?v=1")) == "video"


def test_fold_is_case_and_accent_blind() -> None:
    assert fold("Élèves ÉTUDE") == fold("eleves etude") == "eleves etude"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Les élèves du Nouveau-Brunswick lisent mieux. Une étude de trois ans", "fr"),
        ("Small-group tutoring closes the Grade 6 math gap. A three-year study", "en"),
        ("", None),
    ],
)
def test_language_of_a_title_and_summary(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected
