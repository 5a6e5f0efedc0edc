"""`spark demo` runs every stage offline; Chromium shows the picked items under their sections."""

from __future__ import annotations

import email
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from spark.config import load_settings
from spark.files import fast_load_yaml, parse_yaml
from spark.review_file import issue_from_yaml, read_clean_issue, read_issue


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("demo") / "demo"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root.parent)}  # no SENDGRID_API_KEY: the outbox
    out = subprocess.run(
        [sys.executable, "-m", "spark", "demo", str(root)],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return root, out.stdout


def _issue_dir(root: Path) -> Path:
    (review,) = root.glob("issues/*/review.yaml")
    return review.parent


def test_demo_prints_where_to_look(demo: tuple[Path, str]) -> None:
    root, output = demo
    issue_dir = _issue_dir(root)
    assert str(issue_dir / "review.yaml") in output
    assert str(issue_dir / "email.en.html") in output and str(issue_dir / "email.fr.html") in output
    assert str(root / "site" / "index.html") in output
    assert str(root / ".spark" / "outbox" / issue_dir.name) in output


def test_demo_sends_each_subscriber_their_edition(demo: tuple[Path, str]) -> None:
    root, _ = demo
    issue_dir = _issue_dir(root)
    messages = [
        email.message_from_bytes(p.read_bytes())
        for p in (root / ".spark" / "outbox" / issue_dir.name).rglob("*.eml")
    ]
    assert len(messages) == 6
    for message in messages:
        assert message["List-Unsubscribe"] and message["List-Id"]
        types = {part.get_content_type() for part in message.walk()}
        assert {"text/plain", "text/html"} <= types


def _assert_items_under_sections(page: Any, root: Path, language: str) -> None:
    settings = load_settings(root)
    issue = read_issue(_issue_dir(root) / "review.yaml", settings)
    text = page.evaluate("document.body.innerText")
    picked = issue.picked()
    assert picked
    sections = [s for s in issue.sections if issue.picked(s)]
    positions = [text.find(settings.section(s).label(language)) for s in sections]  # type: ignore[union-attr]
    assert all(p >= 0 for p in positions), (sections, language)
    assert positions == sorted(positions)
    bounds = [*positions, len(text)]
    for index, section in enumerate(sections):
        for item in issue.picked(section):
            where = text.find(item.title)
            assert bounds[index] < where < bounds[index + 1], item.title


@pytest.mark.browser
def test_chromium_shows_picked_items_in_email_and_archive(
    demo: tuple[Path, str], browser: Any, artifacts: Path
) -> None:
    root, _ = demo
    issue_dir = _issue_dir(root)
    page = browser.new_page(viewport={"width": 900, "height": 1200})
    for language in ("en", "fr"):
        page.goto((issue_dir / f"email.{language}.html").as_uri())
        _assert_items_under_sections(page, root, language)
        page.screenshot(path=str(artifacts / f"demo-email-{language}.png"), full_page=True)
    page.goto((root / "site" / "index.html").as_uri())
    assert page.locator(f'a[href*="{issue_dir.name}"]').count() > 0
    page.screenshot(path=str(artifacts / "demo-site-index.png"), full_page=True)
    page.goto((root / "site" / issue_dir.name / "index.html").as_uri())
    _assert_items_under_sections(page, root, "en")
    page.screenshot(path=str(artifacts / "demo-site-issue.png"), full_page=True)
    page.close()


def test_demo_review_file_reads_the_same_fast_and_in_full(demo: tuple[Path, str]) -> None:
    # The file `spark review` writes (summary, comments, blank picks) takes the fast path.
    root, _ = demo
    settings = load_settings(root)
    path = _issue_dir(root) / "review.yaml"
    text = path.read_text(encoding="utf-8")
    assert fast_load_yaml(text) == parse_yaml(text, path)
    fast = read_clean_issue(text, path, settings)
    assert fast is not None
    assert (fast, []) == issue_from_yaml(parse_yaml(text, path), path, settings)
