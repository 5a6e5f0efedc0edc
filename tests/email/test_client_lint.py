"""The caniemail check (npm @jsx-email/doiuse-email) for Gmail, Outlook (Windows), Apple Mail.

Every error the checker still reports must be listed here with its justification in
docs/email.md ("Client compatibility"); a new kind of finding fails this test.
`make email-lint-tools` installs the checker into .cache/npm (the test skips, saying so,
when node or the checker is missing).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from spark.config import Settings
from spark.models import Issue
from spark.render import render_edition

REPO = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO / ".cache" / "npm" / "node_modules"
SCRIPT = REPO / "tools" / "doiuse-email.cjs"

# (feature, client) pairs justified in docs/email.md.
JUSTIFIED = {
    # Gmail's mobile web client for non-Google accounts ignores <style> entirely: the
    # email falls back to the inline styles mjml writes, and stays readable.
    *(
        (feature, "gmail.mobile-webmail")
        for feature in (
            "Type selector",
            "Class selector",
            "ID selector",
            "Descendant combinator",
            "Chaining selectors",
            "@media",
            "display:none",
            "opacity",
        )
    ),
    # Outlook for Windows (Word engine): progressive enhancement or mjml's own resets.
    ("@media", "outlook.windows"),
    ("Chaining selectors", "outlook.windows"),
    ("border-radius", "outlook.windows"),
    ("outline", "outlook.windows"),
    ("opacity", "outlook.windows"),
    ("overflow", "outlook.windows"),
    ("word-spacing", "outlook.windows"),
}
FINDING = re.compile(r"^`(?P<feature>[^`]+)` is not supported by `(?P<client>[^`]+)`$")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_client_finding_is_justified(
    issue: Issue, settings: Settings, tmp_path: Path, language: str
) -> None:
    node = shutil.which("node")
    if node is None or not (NODE_MODULES / "@jsx-email" / "doiuse-email").is_dir():
        pytest.skip("the caniemail checker is not installed: run `make email-lint-tools`")
    page = tmp_path / "email.html"
    page.write_text(render_edition(issue, settings, language).html, encoding="utf-8")
    run = subprocess.run(
        [node, str(SCRIPT), str(page)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"NODE_PATH": str(NODE_MODULES), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    errors = json.loads(run.stdout)["errors"]
    unexplained = set()
    for error in errors:
        match = FINDING.match(error)
        assert match, f"unexpected checker output: {error}"
        pair = (match["feature"], match["client"])
        if pair not in JUSTIFIED:
            unexplained.add(pair)
    assert not unexplained, f"justify these in docs/email.md or fix them: {sorted(unexplained)}"
