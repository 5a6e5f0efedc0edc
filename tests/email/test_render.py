"""Rendering one edition: languages, labels, safety, size limits, files on disk."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from spark.cli import cli
from spark.config import Settings
from spark.errors import ReviewFileError
from spark.models import AlsoCovered, Issue, IssueItem
from spark.preflight import GMAIL_CLIP_BYTES, check
from spark.render import render_edition, render_issue
from spark.review_file import set_status
from tests.email.conftest import REVIEW, big_issue


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_each_edition_sets_its_lang_and_passes_preflight(
    issue: Issue, settings: Settings, language: str
) -> None:
    email = render_edition(issue, settings, language)
    doc = soup(email.html)
    assert doc.html is not None and doc.html["lang"] == language
    assert check(email, settings) == []
    picked = [i.id for i in issue.picked()]
    assert [d["data-spark-item"] for d in doc.select("[data-spark-item]")] == picked
    assert [s["data-spark-section"] for s in doc.select("[data-spark-section]")] == list(
        issue.sections
    )
    unsubscribe = doc.select_one('a[data-spark="unsubscribe"]')
    assert unsubscribe is not None and unsubscribe["href"] == settings.unsubscribe_url


def test_web_url_follows_the_archive_layout(issue: Issue, settings: Settings) -> None:
    assert render_edition(issue, settings, "en").web_url == "https://spark.example.org/2026-12/"
    assert render_edition(issue, settings, "fr").web_url == "https://spark.example.org/fr/2026-12/"


def test_french_dates_and_labels(issue: Issue, settings: Settings) -> None:
    email = render_edition(issue, settings, "fr")
    text = soup(email.html).get_text(" ")
    assert "1er décembre 2026" in text
    assert "Recherche et analyses" in text and "Pratiques novatrices" in text
    assert "14 novembre 2026" in text and "1er novembre 2026" in text
    assert "Se désabonner" in text and "Rapport" in text and "Balado" in text
    # an English item in the French edition is labelled; the French one is not
    english = soup(email.html).select_one('[data-spark-item="ontario-research-a1"]')
    french = soup(email.html).select_one('[data-spark-item="quebec-recherche-b2"]')
    assert english is not None and "en anglais" in english.get_text()
    assert french is not None and "en anglais" not in french.get_text()
    assert "== Recherche et analyses ==" in email.text
    assert "Nous joindre\u202f: knowledge@example.org" in email.text
    assert email.subject.startswith("Spark, décembre 2026")


def test_english_edition_labels_a_french_item(issue: Issue, settings: Settings) -> None:
    email = render_edition(issue, settings, "en")
    item = soup(email.html).select_one('[data-spark-item="quebec-recherche-b2"]')
    assert item is not None and "in French" in item.get_text()
    assert "December 1, 2026" in email.text and "Research & insights" in email.text


def test_text_part_numbers_every_link(issue: Issue, settings: Settings) -> None:
    text = render_edition(issue, settings, "en").text
    for number, item in enumerate(issue.picked(), start=1):
        assert f"{number}. {item.title}" in text
        assert f"   {item.url}" in text
    assert "An item the editors left out" not in text
    assert "Unsubscribe: https://spark.example.org/unsubscribe/" in text


def test_fallbacks_when_the_editors_wrote_no_subject(issue: Issue, settings: Settings) -> None:
    bare = replace(issue, subject={}, preheader={}, title={})
    email = render_edition(bare, settings, "fr")
    assert email.subject == "Spark — décembre 2026"
    assert email.preheader.startswith("Bienvenue dans le numéro de décembre")


def test_thirty_items_stay_under_the_gmail_limit(issue: Issue, settings: Settings) -> None:
    for language in settings.editions:
        email = render_edition(big_issue(issue, 30), settings, language)
        assert len(email.html.encode()) < GMAIL_CLIP_BYTES
        assert check(email, settings) == []


def test_sixty_items_fail_preflight_naming_the_limit(issue: Issue, settings: Settings) -> None:
    email = render_edition(big_issue(issue, 60), settings, "en")
    failures = check(email, settings)
    assert any("102 KB" in f and "Gmail" in f for f in failures), failures


HOSTILE_ITEM = IssueItem(
    id="hostile-1",
    title='Evil <script>alert("t")</script><img src=x onerror=alert(1)>',
    url="javascript:alert(1)",
    source="<b onmouseover=alert(2)>Bad</b>",
    date="2026-11-02",
    section="research",
    language="en",
    pick=True,
    blurb={
        "en": "Hi <script>alert(3)</script> [click](javascript:alert(4)) "
        '[x](data:text/html;base64,PHNjcmlwdD4=) <a href="javascript:alert(5)">y</a> '
        '<iframe src="https://evil.example"></iframe>',
        "fr": "<style>body{background:url(javascript:alert(6))}</style>salut",
    },
    image_url="javascript:alert(7)",
    image_alt='"><script>alert(8)</script>',
    also=(AlsoCovered("<script>alert(9)</script>", "javascript:alert(9)"),),
)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_hostile_content_never_reaches_the_output(
    issue: Issue, settings: Settings, language: str
) -> None:
    hostile = replace(issue, items=(*issue.items, HOSTILE_ITEM))
    email = render_edition(hostile, settings, language)
    doc = soup(email.html)
    assert doc.find("script") is None and doc.find("iframe") is None
    for tag in doc.find_all(True):
        for name, value in tag.attrs.items():
            assert not name.startswith("on"), tag
            assert "javascript:" not in str(value).lower() and "data:" not in str(value), tag
    for output in (email.html, email.text):
        assert "javascript:" not in output.lower()
        assert "<script" not in output.lower() and "onerror" not in output
    item = doc.select_one('[data-spark-item="hostile-1"]')
    assert item is not None
    assert item.find("h3").find("a") is None  # its javascript: link is not linked
    assert item.get_text(" ", strip=True).startswith("Evil")


@pytest.mark.parametrize("field", ["subject", "preheader"])
def test_line_breaks_in_headers_are_refused(issue: Issue, settings: Settings, field: str) -> None:
    bad = replace(issue, **{field: {"en": "Spark\r\nBcc: everyone@example.org"}})
    with pytest.raises(ReviewFileError, match="line break"):
        render_edition(bad, settings, "en")


def _write_review(settings: Settings) -> Path:
    issue_dir = settings.issues_dir / "2026-12"
    issue_dir.mkdir(parents=True)
    shutil.copy(REVIEW, issue_dir / "review.yaml")
    return issue_dir


def test_render_issue_writes_every_edition(settings: Settings) -> None:
    issue_dir = _write_review(settings)
    result = render_issue(settings, "2026-12")
    assert not result.frozen
    assert {p.name for p in result.written} == {
        f"email.{lang}.{ext}" for lang in ("en", "fr") for ext in ("html", "txt", "json")
    }
    assert result.warnings == {"en": [], "fr": []}
    meta = json.loads((issue_dir / "email.fr.json").read_text(encoding="utf-8"))
    assert meta["web_url"] == "https://spark.example.org/fr/2026-12/"
    assert render_issue(settings, "2026-12").written == []  # unchanged: nothing rewritten


def test_a_sent_issue_is_frozen(settings: Settings) -> None:
    issue_dir = _write_review(settings)
    render_issue(settings, "2026-12")
    html = issue_dir / "email.en.html"
    html.write_text(html.read_text(encoding="utf-8") + "<!-- as sent -->", encoding="utf-8")
    set_status(issue_dir / "review.yaml", "sent")
    result = render_issue(settings, "2026-12")
    assert result.frozen and result.written == []
    assert html.read_text(encoding="utf-8").endswith("<!-- as sent -->")


def test_an_empty_section_is_left_out_with_a_warning(settings: Settings) -> None:
    issue_dir = _write_review(settings)
    review = issue_dir / "review.yaml"
    review.write_text(
        review.read_text(encoding="utf-8").replace("section: ideas", "section: practices"),
        encoding="utf-8",
    )
    result = render_issue(settings, "2026-12")
    assert any("'ideas' has no picked item" in w for w in result.warnings["en"])
    assert 'data-spark-section="ideas"' not in (issue_dir / "email.en.html").read_text()


def test_a_newsletter_template_overrides_the_packaged_one(settings: Settings) -> None:
    _write_review(settings)
    override = settings.root / "templates" / "email"
    override.mkdir(parents=True)
    (override / "email.txt.j2").write_text("{{ title }} — custom text part\n", encoding="utf-8")
    result = render_issue(settings, "2026-12")
    assert result.emails["en"].text.endswith("— custom text part\n")
    assert 'lang="en"' in result.emails["en"].html  # the MJML template is still the packaged one


def test_a_broken_template_names_itself(settings: Settings) -> None:
    _write_review(settings)
    override = settings.root / "templates" / "email"
    override.mkdir(parents=True)
    (override / "email.txt.j2").write_text("{{ no_such_value }}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--root", str(settings.root), "render", "2026-12"])
    assert result.exit_code == 1
    assert "email.txt.j2" in result.output and "no_such_value" in result.output


def test_cli_render_prints_files_and_preflight(settings: Settings) -> None:
    _write_review(settings)
    result = CliRunner().invoke(cli, ["--root", str(settings.root), "render", "2026-12"])
    assert result.exit_code == 0, result.output
    assert "email.en.html" in result.output and "email.fr.txt" in result.output
    assert "preflight (en): ok" in result.output and "preflight (fr): ok" in result.output


def test_cli_render_reports_a_missing_review_file(settings: Settings) -> None:
    result = CliRunner().invoke(cli, ["--root", str(settings.root), "render", "2026-11"])
    assert result.exit_code == 2
    assert "spark review 2026-11" in result.output


def test_preflight_catches_what_an_edited_template_could_add(
    issue: Issue, settings: Settings
) -> None:
    email = render_edition(issue, settings, "en")
    bad = replace(
        email,
        html=email.html.replace(
            "</body>",
            '<script>x()</script><a href="/relative" onclick="x()">click here</a></body>',
        ).replace('data-spark="unsubscribe"', ""),
    )
    failures = "\n".join(check(bad, settings))
    for expected in ("script", "event handler", "not absolute", "click here", "unsubscribe"):
        assert expected in failures
