"""The review file: creation, merging, checking, the issue lifecycle, ranking."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from spark.cli import cli
from spark.config import Settings, load_settings
from spark.errors import ReviewFileError
from spark.review import (
    auto_pick,
    check,
    default_issue,
    mark_sent,
    refresh,
    review_path,
)
from spark.review_file import load_review_yaml, read_issue
from spark.review_layout import split_header
from spark.store import Store
from tests.support.review import NOW, make_item, make_newsletter

DATA = Path(__file__).parent / "data"
ISSUE = "2026-12"


def _body(path: Path) -> dict:
    body, _ = split_header(path.read_text("utf-8"))
    return load_review_yaml(body, path)


def _golden(actual: str, name: str) -> None:
    expected = DATA / name
    if os.environ.get("SPARK_REGEN"):
        expected.write_text(actual, "utf-8")
    assert actual == expected.read_text("utf-8")


# --------------------------------------------------------------------------- fixtures on disk


def test_a_new_file_matches_the_stored_expected_output(settings: Settings, store: Store) -> None:
    store.save_items([make_item(n) for n in range(6)])
    store.save_items([make_item(50, source=1, duplicate_of=make_item(0).id)])
    result = refresh(settings, store, ISSUE, now=NOW)
    assert result.created and result.added == 6
    _golden(result.path.read_text("utf-8"), "created.expected.yaml")


def test_an_edited_file_merges_to_the_stored_expected_output(
    settings: Settings, store: Store
) -> None:
    """data/edited.yaml is created.expected.yaml after an editor's session: picks, a
    rewritten blurb, a moved item, comments, a deleted item. Two items arrive; the refresh
    must give data/edited.expected.yaml."""
    store.save_items([make_item(n) for n in range(6)])
    store.save_items([make_item(50, source=1, duplicate_of=make_item(0).id)])
    refresh(settings, store, ISSUE, now=NOW)
    path = review_path(settings, ISSUE)
    path.write_text((DATA / "edited.yaml").read_text("utf-8"), "utf-8")
    later = NOW + timedelta(days=3)
    store.save_items([make_item(n, first_seen=later, prefix="new") for n in (7, 8)])
    result = refresh(settings, store, ISSUE, now=later)
    assert result.added == 2
    _golden(path.read_text("utf-8"), "edited.expected.yaml")
    assert path.with_name("review.yaml.bak").read_text("utf-8") == (DATA / "edited.yaml").read_text(
        "utf-8"
    )


# --------------------------------------------------------------------------- merging


def test_refreshing_twice_with_nothing_new_leaves_the_file_byte_identical(
    settings: Settings, store: Store
) -> None:
    store.save_items([make_item(n) for n in range(30)])
    refresh(settings, store, ISSUE, now=NOW)
    path = review_path(settings, ISSUE)
    first = path.read_bytes()
    stat = path.stat()
    again = refresh(settings, store, ISSUE, now=NOW + timedelta(hours=6))
    assert not again.written and again.added == 0 and again.updated == 0
    assert path.read_bytes() == first
    assert path.stat().st_mtime_ns == stat.st_mtime_ns


def test_machine_fields_of_undecided_items_follow_the_store_decided_items_stay(
    settings: Settings, store: Store
) -> None:
    items = [make_item(n) for n in range(2)]
    store.save_items(items)
    refresh(settings, store, ISSUE, now=NOW)
    path = review_path(settings, ISSUE)
    text = path.read_text("utf-8")
    decided, undecided = items[0].id, items[1].id
    text = text.replace(f"- id: {decided}\n    pick:\n", f"- id: {decided}\n    pick: no\n")
    path.write_text(text, "utf-8")
    from dataclasses import replace

    store.save_items([replace(i, title="Corrected title", content_hash="changed") for i in items])
    result = refresh(settings, store, ISSUE, now=NOW)
    assert result.updated == 1
    nodes = {n["id"]: n for n in _body(path)["items"]}
    assert nodes[undecided]["title"] == "Corrected title"
    assert nodes[decided]["title"] == items[0].title


def test_near_duplicates_appear_once_with_also_covered_by(settings: Settings, store: Store) -> None:
    primary = make_item(1)
    store.save_items([primary, make_item(2, source=2, duplicate_of=primary.id)])
    refresh(settings, store, ISSUE, now=NOW)
    nodes = list(_body(review_path(settings, ISSUE))["items"])
    assert [n["id"] for n in nodes] == [primary.id]
    assert [dict(a) for a in nodes[0]["also_covered_by"]] == [
        {"source": "Écoles du Québec", "url": "https://quebec-ecoles.example.org/item/2"}
    ]


def test_the_cap_on_undecided_items_holds_and_the_rest_waits(tmp_path: Path) -> None:
    settings = load_settings(make_newsletter(tmp_path / "n", cap=10))
    with Store(settings.database_path) as store:
        store.save_items([make_item(n) for n in range(40)])
        result = refresh(settings, store, ISSUE, now=NOW)
        assert (result.added, result.held_back) == (10, 30)
        issue = read_issue(result.path, settings)
        assert sum(1 for i in issue.items if i.pick is None) == 10


# --------------------------------------------------------------------------- ranking


def test_french_items_stay_visible_when_english_sources_dominate(tmp_path: Path) -> None:
    settings = load_settings(make_newsletter(tmp_path / "n", cap=20))
    with Store(settings.database_path) as store:
        english = [make_item(n, source=n % 2, age_days=0.1, summary_words=80) for n in range(200)]
        french = [make_item(1000 + n, source=2, age_days=25, summary_words=3) for n in range(8)]
        store.save_items(english + french)
        refresh(settings, store, ISSUE, now=NOW)
        issue = read_issue(review_path(settings, ISSUE), settings)
    languages = [i.language for i in issue.items]
    assert languages.count("fr") >= 5  # a quarter of 20, although they score lowest
    sources = {i.source for i in issue.items if i.language == "en"}
    assert len(sources) == 2  # neither English source crowds out the other


def test_theme_keywords_rank_items_first(tmp_path: Path) -> None:
    settings = load_settings(make_newsletter(tmp_path / "n", editions="en", cap=1))
    from dataclasses import replace

    with Store(settings.database_path) as store:
        plain = replace(make_item(4, age_days=0), title="A school board budget", summary_text="")
        themed = replace(make_item(8, age_days=3), title="Indigenous literacy", summary_text="")
        store.save_items([plain, themed])
        refresh(settings, store, ISSUE, now=NOW)
        issue = read_issue(review_path(settings, ISSUE), settings)
    assert [i.id for i in issue.items] == [themed.id]
    assert set(issue.items[0].tags) >= {"indigenous", "literacy"}


# --------------------------------------------------------------------------- check


def test_check_reports_every_problem_with_line_and_column(settings: Settings) -> None:
    path = review_path(settings, ISSUE)
    path.parent.mkdir(parents=True)
    path.write_text((DATA / "problems.yaml").read_text("utf-8"), "utf-8")
    problems = check(settings, ISSUE)
    lines = [str(p).replace(str(path), "review.yaml") for p in problems]
    _golden("\n".join(lines) + "\n", "problems.expected.txt")


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("tab.yaml", ":9:1: a tab character is used for indentation"),
        ("quote.yaml", ":11:11: a quote opened here is never closed"),
        ("duplicate-key.yaml", ":12:5: this is not valid YAML: a key appears twice"),
    ],
)
@pytest.mark.parametrize("args", [["review", ISSUE], ["review", ISSUE, "--check"]])
def test_a_corrupted_file_gives_exit_2_with_line_and_column_and_stays_unchanged(
    root: Path, name: str, where: str, args: list[str]
) -> None:
    path = root / "issues" / ISSUE / "review.yaml"
    path.parent.mkdir(parents=True)
    original = (DATA / name).read_bytes()
    path.write_bytes(original)
    result = CliRunner().invoke(cli, ["--root", str(root), *args])
    assert result.exit_code == 2, result.output
    assert f"{path}{where}" in result.output
    assert path.read_bytes() == original
    assert not path.with_name("review.yaml.bak").exists()


def test_check_passes_after_auto_pick_and_counts_the_summary(
    settings: Settings, store: Store
) -> None:
    store.save_items([make_item(n) for n in range(24)])
    refresh(settings, store, ISSUE, now=NOW)
    assert auto_pick(settings, ISSUE, per_section=2) == 6
    assert check(settings, ISSUE) == []
    issue = read_issue(review_path(settings, ISSUE), settings)
    assert issue.status == "approved"
    assert all(i.blurb.get("en") and i.blurb.get("fr") for i in issue.picked())
    text = review_path(settings, ISSUE).read_text("utf-8")
    assert "#   picked 6: research 2, practices 2, ideas 2" in text
    langs = {lang: sum(1 for i in issue.picked() if i.language == lang) for lang in ("en", "fr")}
    assert f"#   picked by language: en {langs['en']}, fr {langs['fr']}" in text


def test_check_reports_a_missing_french_blurb_only_when_french_is_sent(tmp_path: Path) -> None:
    for editions, expected in (("en, fr", ["picked item has no fr blurb"]), ("en", [])):
        root = make_newsletter(tmp_path / editions.replace(", ", "-"), editions=editions)
        settings = load_settings(root)
        with Store(settings.database_path) as store:
            store.save_items([make_item(1)])
            refresh(settings, store, ISSUE, now=NOW)
        path = review_path(settings, ISSUE)
        path.write_text(path.read_text("utf-8").replace("pick:\n", "pick: yes\n"), "utf-8")
        assert [p.message for p in check(settings, ISSUE)] == expected


# --------------------------------------------------------------------------- lifecycle


def test_a_sent_issue_is_frozen_and_the_next_issue_starts_after_it(
    root: Path, settings: Settings, store: Store
) -> None:
    old = [make_item(n, first_seen=NOW - timedelta(days=40)) for n in range(6)]
    store.save_items(old)
    refresh(settings, store, "2026-11", now=NOW - timedelta(days=30))
    with pytest.raises(ReviewFileError, match="only an approved issue"):
        mark_sent(settings, store, "2026-11")
    auto_pick(settings, "2026-11", per_section=1)
    mark_sent(settings, store, "2026-11")
    path = review_path(settings, "2026-11")
    frozen = path.read_bytes()
    assert read_issue(path, settings).status == "sent"

    result = CliRunner().invoke(cli, ["--root", str(root), "review", "2026-11"])
    assert result.exit_code == 2 and "frozen" in result.output
    with pytest.raises(ReviewFileError, match="frozen"):
        auto_pick(settings, "2026-11")
    assert path.read_bytes() == frozen

    # The next issue offers what arrived since November's first day (no send log here),
    # never an item published in November.
    fresh = [make_item(n, first_seen=NOW, prefix="fresh") for n in range(3)]
    store.save_items(fresh)
    refresh(settings, store, ISSUE, now=NOW)
    ids = {i.id for i in read_issue(review_path(settings, ISSUE), settings).items}
    assert ids == {i.id for i in fresh}


def test_the_send_log_sets_the_cut_off(settings: Settings, store: Store) -> None:
    sent_at = datetime(2026, 11, 3, 14, 0, tzinfo=UTC)
    path = review_path(settings, "2026-11")
    path.parent.mkdir(parents=True)
    path.write_text("issue: 2026-11\nstatus: sent\nitems: []\n", "utf-8")
    store.db.execute(
        "INSERT INTO sends (issue, edition, started, status) VALUES (?, ?, ?, ?)",
        ("2026-11", "en", sent_at.isoformat(), "done"),
    )
    before = make_item(1, first_seen=sent_at - timedelta(hours=1), age_days=1)
    after = make_item(2, first_seen=sent_at + timedelta(hours=1), age_days=1)
    late_news = make_item(3, first_seen=sent_at - timedelta(days=1), age_days=-1)  # dated after
    store.save_items([before, after, late_news])
    refresh(settings, store, ISSUE, now=NOW)
    ids = {i.id for i in read_issue(review_path(settings, ISSUE), settings).items}
    assert ids == {after.id, late_news.id}


@pytest.mark.parametrize(
    ("files", "now", "expected"),
    [
        ({}, datetime(2026, 11, 20, tzinfo=UTC), "2026-12"),
        ({"2026-12": "draft"}, datetime(2026, 12, 2, 15, tzinfo=UTC), "2026-12"),
        ({"2026-12": "sent"}, datetime(2026, 11, 28, tzinfo=UTC), "2027-01"),
        ({"2025-03": "draft", "2026-11": "sent"}, datetime(2026, 11, 20, tzinfo=UTC), "2026-12"),
        (
            {"2026-12": "approved", "2027-01": "draft"},
            datetime(2026, 11, 20, tzinfo=UTC),
            "2026-12",
        ),
        ({"2026-12": "sent"}, datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "2027-01"),
    ],
)
def test_the_default_issue_is_the_next_one(
    settings: Settings, files: dict[str, str], now: datetime, expected: str
) -> None:
    for issue, status in files.items():
        path = review_path(settings, issue)
        path.parent.mkdir(parents=True)
        path.write_text(f"issue: {issue}\nstatus: {status}\nitems: []\n", "utf-8")
    assert default_issue(settings, now) == expected


def test_cli_creates_then_reports_an_unchanged_file(root: Path) -> None:
    settings = load_settings(root)
    with Store(settings.database_path) as store:
        store.save_items([make_item(n) for n in range(5)])
    runner = CliRunner()
    first = runner.invoke(cli, ["--root", str(root), "review", ISSUE])
    assert first.exit_code == 0, first.output
    assert "created — 5 new candidate(s)" in first.output
    second = runner.invoke(cli, ["--root", str(root), "review", ISSUE])
    assert "unchanged — 0 new candidate(s)" in second.output
    checked = runner.invoke(cli, ["--root", str(root), "review", ISSUE, "--check"])
    assert checked.exit_code == 0 and "no problems" in checked.output
