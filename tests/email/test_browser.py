"""The email in headless Chromium at desktop and phone widths."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from spark.config import Settings
from spark.models import Issue
from spark.render import render_edition

# A 1x1 PNG answers every image request: the test never leaves the machine.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def _offline(route: Any) -> None:
    if route.request.resource_type == "image":
        route.fulfill(status=200, body=PIXEL, content_type="image/png")
    else:
        route.abort()


@pytest.mark.browser
@pytest.mark.parametrize("width", [600, 375])
@pytest.mark.parametrize("language", ["en", "fr"])
def test_email_reads_well_at_desktop_and_phone_width(
    browser: Any, artifacts: Path, issue: Issue, settings: Settings, width: int, language: str
) -> None:
    email = render_edition(issue, settings, language)
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.route("**/*", _offline)
        page.set_content(email.html, wait_until="load")
        assert page.evaluate("document.documentElement.lang") == language
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"horizontal scroll at {width}px: content is {scroll}px wide"
        for item in issue.picked():
            link = page.locator(f'[data-spark-item="{item.id}"] h3 a')
            assert link.count() == 1
            assert link.is_visible(), item.title
            assert link.get_attribute("href") == item.url
            assert link.inner_text().strip() == item.title
            box = link.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
        images = page.locator("img")
        assert images.count() >= 1
        for n in range(images.count()):
            assert (images.nth(n).get_attribute("alt") or "").strip()
        page.screenshot(path=str(artifacts / f"email-{language}-{width}.png"), full_page=True)
    finally:
        page.close()
