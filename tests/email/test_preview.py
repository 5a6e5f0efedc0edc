"""`spark preview`'s server on 127.0.0.1: frames, the email, site/, reload on change."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from spark.config import Settings
from spark.preview import Preview, make_server
from tests.email.conftest import REVIEW


@pytest.fixture
def served(settings: Settings) -> Iterator[tuple[str, Preview]]:
    issue_dir = settings.issues_dir / "2026-12"
    issue_dir.mkdir(parents=True)
    shutil.copy(REVIEW, issue_dir / "review.yaml")
    (settings.site_dir / "2026-12").mkdir(parents=True)
    (settings.site_dir / "index.html").write_text("<h1>Archive</h1>", encoding="utf-8")
    server, preview = make_server(settings, "2026-12")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}", preview
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_preview_serves_frames_email_and_site(served: tuple[str, Preview]) -> None:
    base, _ = served
    with httpx.Client(base_url=base, timeout=5) as client:
        page = client.get("/?lang=fr")
        assert page.status_code == 200
        assert 'width="375"' in page.text and 'src="/email/fr.html"' in page.text
        assert "/site/" in page.text
        email = client.get("/email/fr.html")
        assert email.status_code == 200 and 'lang="fr"' in email.text
        assert client.get("/site/").text == "<h1>Archive</h1>"
        assert client.get("/site/../review.yaml").status_code == 404
        assert client.get("/site/%2e%2e/spark.yaml").status_code == 404
        assert client.get("/email/de.html").status_code == 404


def test_preview_renders_again_when_the_review_file_changes(
    served: tuple[str, Preview], settings: Settings
) -> None:
    base, preview = served
    review = settings.issues_dir / "2026-12" / "review.yaml"
    with httpx.Client(base_url=base, timeout=5) as client:
        before = client.get("/__version").text
        text = review.read_text(encoding="utf-8").replace(
            "Early literacy screening in Ontario classrooms", "Screening, revisited"
        )
        review.write_text(text, encoding="utf-8")
        stat = review.stat()
        os.utime(review, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
        after = client.get("/__version").text
        assert after != before
        assert "Screening, revisited" in client.get("/email/en.html").text
        review.write_text("issue: 2026-12\nstatus: nonsense\n", encoding="utf-8")
        os.utime(review, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000_000))
        client.get("/__version")
        assert "invalid status" in preview.error
        assert "invalid status" in client.get("/").text


def test_preview_page_reloads_itself_in_the_browser(
    browser: Any, served: tuple[str, Preview], settings: Settings
) -> None:
    base, _ = served
    page = browser.new_page()
    try:
        page.goto(f"{base}/?lang=en")
        page.evaluate("window.__marker = 1")
        html = settings.issues_dir / "2026-12" / "email.en.html"
        stat = html.stat()
        os.utime(html, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
        page.wait_for_function("window.__marker === undefined", timeout=5000)
        frame = page.frame_locator('iframe[title="Phone"]')
        assert frame.locator("[data-spark-item]").count() == 4
    finally:
        page.close()
