"""The archive in headless Chromium, served from 127.0.0.1: what a visitor does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = pytest.mark.browser

SENT = ["2026-02", "2026-01", "2025-12", "2025-11", "2025-10"]


@pytest.fixture
def page(browser: Any, site_url: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    page.requests = requests
    yield page
    # Nothing outside the site is ever fetched: no fonts, scripts or images from elsewhere.
    assert all(u.startswith(site_url) for u in requests), [
        u for u in requests if not u.startswith(site_url)
    ]
    context.close()


def test_index_lists_every_issue(page: Any, site_url: str) -> None:
    page.goto(f"{site_url}/")
    issues = page.locator("[data-issue]").evaluate_all("els => els.map(e => e.dataset.issue)")
    assert issues == SENT
    assert page.locator("h1").inner_text() == "Past issues"


def test_follow_an_issue_then_an_item_link(page: Any, site_url: str) -> None:
    page.goto(f"{site_url}/")
    page.get_by_role("link", name="New year, new practices").click()
    page.wait_for_url(f"{site_url}/2026-01/")
    assert page.locator("h1").inner_text() == "New year, new practices"
    item = page.locator("article.item").first
    item_id = item.get_attribute("id")
    item.locator("a[data-spark=permalink]").click()
    page.wait_for_url(f"{site_url}/2026-01/#{item_id}")
    assert page.evaluate("document.querySelector(':target').id") == item_id
    # From the items page, an item leads back to its issue.
    page.goto(f"{site_url}/items/")
    page.locator(f"#{item_id} a[data-spark=issue-link]").click()
    page.wait_for_url(f"{site_url}/2026-01/#{item_id}")
    assert page.locator(f"#{item_id}").is_visible()
    # The item's title links to the item itself.
    assert page.locator(f"#{item_id} h3 a").get_attribute("href") == "https://example.org/2026-01/0"


def test_search_finds_a_word_from_a_blurb(page: Any, site_url: str) -> None:
    page.goto(f"{site_url}/")
    page.get_by_label("Search every issue").fill("tessellation")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(f"{site_url}/search/?q=tessellation")
    results = page.locator("#search-list > li")
    results.first.wait_for(timeout=10_000)
    assert "New year, new practices" in results.first.locator("h2").inner_text()
    assert "tessellation" in results.first.locator("mark").first.inner_text().lower()
    results.first.locator("h2 a").click()
    page.wait_for_url(f"{site_url}/2026-01/")


def test_search_covers_every_year_of_issues(page: Any, site_url: str) -> None:
    # Each year has its own search bundle; the search page merges them all.
    page.goto(f"{site_url}/search/?q=kirigami")
    first = page.locator("#search-list > li").first
    first.wait_for(timeout=10_000)
    assert page.locator("#search-list > li").count() == 1
    first.locator("h2 a").click()
    page.wait_for_url(f"{site_url}/2025-11/")
    page.goto(f"{site_url}/fr/search/?q=kirigami")
    page.locator("#search-list > li").first.wait_for(timeout=10_000)
    assert "/fr/2025-11/" in page.locator("#search-list > li h2 a").first.get_attribute("href")


def test_french_search_uses_the_french_index(page: Any, site_url: str) -> None:
    page.goto(f"{site_url}/fr/search/?q=pavages")
    first = page.locator("#search-list > li").first
    first.wait_for(timeout=10_000)
    assert "Nouvelle année" in first.inner_text()
    first.locator("h2 a").click()
    page.wait_for_url(f"{site_url}/fr/2026-01/")


def test_section_filter_narrows_the_items_page(page: Any, site_url: str) -> None:
    page.goto(f"{site_url}/items/")
    rows = page.locator("#items > li")
    total = rows.count()
    assert total == len(SENT) * 4
    page.get_by_label("Section").select_option(label="Research & insights")
    visible = page.locator("#items > li:not([hidden])")
    assert 0 < visible.count() < total
    sections = visible.locator("article").evaluate_all("els => els.map(e => e.dataset.section)")
    assert set(sections) == {"research"}
    assert page.url.endswith("?section=research")
    page.get_by_label("Tag").select_option("numeracy")
    both = page.locator("#items > li:not([hidden]) article")
    tags = both.evaluate_all("els => els.map(e => e.dataset.tags)")
    assert all("numeracy" in t for t in tags) and len(tags) < len(sections)
    page.get_by_role("button", name="Show all").click()
    page.wait_for_function(
        f"document.querySelectorAll('#items > li:not([hidden])').length == {total}"
    )


def test_without_javascript_every_item_is_listed(browser: Any, site_url: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site_url}/items/")
    assert page.locator("#items > li:visible").count() == len(SENT) * 4
    assert not page.locator("#filters").is_visible()
    page.goto(f"{site_url}/2026-01/")
    assert page.locator("article.item").count() == 4
    context.close()


PAGES = ["/", "/2026-01/", "/items/", "/search/?q=literacy", "/fr/", "/fr/2026-01/", "/fr/items/"]


@pytest.mark.parametrize("path", PAGES)
def test_no_horizontal_scroll_at_375_px(browser: Any, site_url: str, path: str) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 700})
    page = context.new_page()
    page.goto(site_url + path)
    page.wait_for_load_state("networkidle")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
    context.close()


def test_language_switch_works_both_ways(page: Any, site_url: str) -> None:
    page.goto(f"{site_url}/2026-01/")
    assert page.evaluate("document.documentElement.lang") == "en"
    page.get_by_role("link", name="Français").click()
    page.wait_for_url(f"{site_url}/fr/2026-01/")
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert page.locator("h1").inner_text() == "Nouvelle année, nouvelles pratiques"
    assert "Recherche et analyses" in page.locator("main").inner_text()
    page.get_by_role("link", name="English").click()
    page.wait_for_url(f"{site_url}/2026-01/")
    assert page.evaluate("document.documentElement.lang") == "en"


AXE_PAGES = ["/", "/2026-01/", "/items/", "/fr/2026-01/", "/fr/", "/search/?q=literacy"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", AXE_PAGES)
def test_axe_reports_no_violations(browser: Any, site_url: str, path: str, scheme: str) -> None:
    context = browser.new_context(color_scheme=scheme)
    page = context.new_page()
    page.goto(site_url + path)
    page.wait_for_load_state("networkidle")
    if "q=" in path:
        page.locator("#search-list > li").first.wait_for(timeout=10_000)
    results = Axe().run(page)
    context.close()
    assert results.violations_count == 0, results.generate_report()
