"""The archive's files: which issues are public, feeds, links, incremental rebuilds."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import feedparser
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from spark.archive import build_site
from spark.archive_pages import PACKAGE_TEMPLATES
from spark.cli import cli
from spark.config import Settings, load_settings
from spark.errors import ReviewFileError

SENT = ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02"]


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")


def mtimes(site: Path) -> dict[str, int]:
    return {p.relative_to(site).as_posix(): p.stat().st_mtime_ns for p in site.rglob("*")}


def test_only_sent_issues_are_published_in_both_editions(settings: Settings) -> None:
    report = build_site(settings)
    site = settings.site_dir
    assert list(report.issues) == sorted(SENT, reverse=True)
    for issue in SENT:
        assert (site / issue / "index.html").is_file()
        assert (site / "fr" / issue / "index.html").is_file()
    for hidden in ("2026-03", "2026-04"):
        assert not (site / hidden).exists()
        assert hidden not in (site / "index.html").read_text()
    index = soup(site / "index.html")
    assert [a["href"] for a in index.select("a[data-spark=issue-link]")] == [
        f"{i}/" for i in sorted(SENT, reverse=True)
    ]
    years = [h.get_text() for h in index.select("section.year h2")]
    assert years == ["2026", "2025"]
    assert {"sitemap.xml", "feed.xml", "fr/feed.xml", "items/index.html"} <= set(report.written)


def test_every_page_declares_its_language_and_its_other_edition(settings: Settings) -> None:
    build_site(settings)
    site = settings.site_dir
    for page in site.rglob("*.html"):
        rel = page.relative_to(site).as_posix()
        html = soup(page).html
        assert html is not None
        assert html["lang"] == ("fr" if rel.startswith("fr/") else "en"), rel
    page = soup(site / "fr" / "2026-01" / "index.html")
    alternates = {
        link["hreflang"]: link["href"] for link in page.select("link[rel=alternate][hreflang]")
    }
    assert alternates == {
        "en": "https://spark.example.org/2026-01/",
        "fr": "https://spark.example.org/fr/2026-01/",
        "x-default": "https://spark.example.org/2026-01/",
    }
    canonical = page.select_one("link[rel=canonical]")
    assert canonical is not None and canonical["href"] == "https://spark.example.org/fr/2026-01/"
    og = {m["property"]: m["content"] for m in page.select("meta[property]")}
    assert og["og:url"] == "https://spark.example.org/fr/2026-01/"
    assert og["og:locale"] == "fr_CA"
    assert og["og:title"].startswith("Nouvelle année, nouvelles pratiques")
    switch = page.select_one("a[data-spark=language-switch]")
    assert switch is not None and switch["href"] == "../../2026-01/"
    # French labels and dates, and an English item labelled as such.
    text = page.get_text(" ")
    assert "Recherche et analyses" in text and "en anglais" in text
    subscribe = page.select_one("a[href='https://spark.example.org/subscribe/']")
    assert subscribe is not None


@pytest.mark.parametrize(("feed", "lang"), [("feed.xml", "en"), ("fr/feed.xml", "fr")])
def test_atom_feed_has_one_entry_per_issue(settings: Settings, feed: str, lang: str) -> None:
    build_site(settings)
    parsed = feedparser.parse((settings.site_dir / feed).read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    prefix = "https://spark.example.org/" + ("fr/" if lang == "fr" else "")
    assert [e.link for e in parsed.entries] == [f"{prefix}{i}/" for i in sorted(SENT, reverse=True)]
    assert parsed.feed.language == lang
    january = next(e for e in parsed.entries if "2026-01" in e.link)
    assert "<h2>" in january.content[0].value  # the issue's items, as HTML
    assert parsed.entries[0].published.startswith("2026-02-03")  # send_at, in UTC


def test_every_internal_link_resolves(settings: Settings) -> None:
    build_site(settings)
    site = settings.site_dir
    checked = 0
    for page in site.rglob("*.html"):
        doc = soup(page)
        ids = {tag["id"] for tag in doc.select("[id]")}
        for tag in doc.select("[href], [src]"):
            ref = str(tag.get("href") or tag.get("src"))
            parts = urlsplit(ref)
            if parts.scheme or ref.startswith("//"):
                continue
            assert not ref.startswith("/"), f"{page}: {ref} is root-absolute"
            if parts.path:
                target = (page.parent / unquote(parts.path)).resolve()
                if ref.endswith("/") or target.is_dir():
                    target = target / "index.html"
                assert target.is_file(), f"{page.relative_to(site)}: {ref} does not resolve"
                if parts.fragment:
                    assert f'id="{parts.fragment}"' in target.read_text(), ref
            elif parts.fragment:
                assert parts.fragment in ids, f"{page.relative_to(site)}: #{parts.fragment}"
            checked += 1
    assert checked > 200
    sitemap = (site / "sitemap.xml").read_text()
    for loc in re.findall(r"<loc>https://spark\.example\.org/(.*?)</loc>", sitemap):
        assert (site / loc / "index.html").is_file(), loc


def test_rebuild_with_nothing_changed_rewrites_nothing(settings: Settings) -> None:
    first = build_site(settings)
    assert first.search_rebuilt
    bundles = settings.site_dir / "pagefind"
    assert sorted(p.name for p in bundles.iterdir()) == ["2025", "2026"]
    assert (bundles / "2025" / "pagefind.js").is_file()
    before = mtimes(settings.site_dir)
    again = build_site(load_settings(settings.root))
    assert again.written == () and again.removed == () and not again.search_rebuilt
    assert mtimes(settings.site_dir) == before


def test_an_edit_rewrites_only_the_pages_it_touches(settings: Settings) -> None:
    build_site(settings)
    review = settings.issues_dir / "2026-01" / "review.yaml"
    review.write_text(review.read_text().replace("spatial reasoning.", "spatial sense."))
    before = mtimes(settings.site_dir)
    report = build_site(settings)
    assert "2026-01/index.html" in report.written
    assert "items/index.html" in report.written
    assert "2025-10/index.html" in report.unchanged
    assert "fr/2026-01/index.html" in report.unchanged  # the French blurb did not change
    after = mtimes(settings.site_dir)
    assert after["2025-10/index.html"] == before["2025-10/index.html"]
    assert report.search_rebuilt
    # Only the edited issue's year is re-indexed; the other year's bundle is untouched.
    bundle_2025 = {k: v for k, v in before.items() if k.startswith("pagefind/2025/")}
    assert bundle_2025 and all(after[k] == v for k, v in bundle_2025.items())
    assert any(after.get(k) != v for k, v in before.items() if k.startswith("pagefind/2026/"))
    assert "spatial sense" in (settings.site_dir / "2026-01" / "index.html").read_text()


def test_pages_of_an_unpublished_issue_are_removed(settings: Settings) -> None:
    build_site(settings)
    (settings.site_dir / "CNAME").write_text("spark.example.org\n")  # the operator's file
    review = settings.issues_dir / "2025-10" / "review.yaml"
    review.write_text(review.read_text().replace("status: sent", "status: draft"))
    report = build_site(settings)
    assert "2025-10/index.html" in report.removed and "fr/2025-10/index.html" in report.removed
    assert not (settings.site_dir / "2025-10").exists()
    assert not (settings.site_dir / "fr" / "2025-10").exists()
    assert "2025-10" not in (settings.site_dir / "index.html").read_text()
    assert (settings.site_dir / "CNAME").exists()


def test_a_broken_sent_issue_stops_the_build_before_any_write(settings: Settings) -> None:
    review = settings.issues_dir / "2025-11" / "review.yaml"
    review.write_text(review.read_text().replace("section: ideas", "section: sports", 1))
    with pytest.raises(ReviewFileError) as caught:
        build_site(settings)
    problem = caught.value.problems[0]
    assert problem.path == review and problem.line is not None and "sports" in problem.message
    assert not settings.site_dir.exists()


def test_a_broken_draft_does_not_stop_the_build(settings: Settings) -> None:
    draft = settings.issues_dir / "2026-03" / "review.yaml"
    draft.write_text(draft.read_text() + "items: [unclosed\n")
    assert len(build_site(settings).issues) == len(SENT)


def test_editors_text_cannot_inject_markup(settings: Settings) -> None:
    review = settings.issues_dir / "2026-02" / "review.yaml"
    hostile = "<script>alert(1)</script> [click](javascript:alert(2)) <img src=x onerror=y>"
    review.write_text(review.read_text().replace("in plain words.", hostile.replace('"', "")))
    build_site(settings)
    page = (settings.site_dir / "2026-02" / "index.html").read_text()
    doc = BeautifulSoup(page, "lxml")
    assert doc.select("main script") == [] and doc.select("main img") == []
    assert not any(str(a.get("href", "")).startswith("javascript:") for a in doc.select("a"))
    assert "&lt;script&gt;" in page


def test_newsletter_templates_override_the_bundled_ones(settings: Settings) -> None:
    own = settings.root / "templates" / "site"
    own.mkdir(parents=True)
    (own / "site.css.j2").write_text("body { color: rebeccapurple; }\n")
    build_site(settings)
    assert (settings.site_dir / "assets" / "site.css").read_text() == (
        "body { color: rebeccapurple; }\n"
    )


def test_spark_archive_command(archive_root: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--root", str(archive_root), "archive"])
    assert result.exit_code == 0, result.output
    assert "5 issues published" in result.output
    again = runner.invoke(cli, ["--root", str(archive_root), "archive"])
    assert "0 files written" in again.output and "search index unchanged" in again.output
    review = archive_root / "issues" / "2026-01" / "review.yaml"
    review.write_text(review.read_text().replace("format: video", "format: movie", 1))
    bad = runner.invoke(cli, ["--root", str(archive_root), "archive"])
    assert bad.exit_code == 2
    assert "review.yaml" in bad.output and "movie" in bad.output


def test_a_settings_change_rebuilds_the_cached_pages(settings: Settings) -> None:
    build_site(settings)
    assert (
        "<title>New year, new practices — Spark</title>"
        in (settings.site_dir / "2026-01" / "index.html").read_text()
    )
    spark_yaml = settings.root / "spark.yaml"
    spark_yaml.write_text(spark_yaml.read_text().replace("name: Spark\n", "name: Étincelle\n"))
    report = build_site(load_settings(settings.root))
    for issue in SENT:
        assert f"{issue}/index.html" in report.written
        page = (settings.site_dir / issue / "index.html").read_text()
        assert "— Étincelle</title>" in page and "— Spark</title>" not in page
    assert "Étincelle" in (settings.site_dir / "feed.xml").read_text()


def test_a_template_change_rebuilds_the_cached_pages(settings: Settings) -> None:
    build_site(settings)
    own = settings.root / "templates" / "site"
    own.mkdir(parents=True)
    bundled = (PACKAGE_TEMPLATES / "_item.html.j2").read_text()
    (own / "_item.html.j2").write_text(bundled.replace('class="item"', 'class="item mine"', 1))
    report = build_site(load_settings(settings.root))
    assert {"2026-01/index.html", "fr/2025-10/index.html", "items/index.html"} <= set(
        report.written
    )
    assert 'class="item mine"' in (settings.site_dir / "2025-10" / "index.html").read_text()
    assert 'class="item mine"' in (settings.site_dir / "items" / "index.html").read_text()
    # And back: removing the override restores the bundled pages (from the cache).
    (own / "_item.html.j2").unlink()
    build_site(load_settings(settings.root))
    assert 'class="item mine"' not in (settings.site_dir / "items" / "index.html").read_text()
