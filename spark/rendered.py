"""The rendered email on disk: what `spark render` writes and `spark send` mails.

For each edition language L, in issues/YYYY-MM/:
    email.L.html   the email's HTML
    email.L.txt    its plain-text part
    email.L.json   {"issue", "language", "subject", "preheader", "web_url"}
Sending reads these files, so what editors previewed is exactly what goes out.
"""

from __future__ import annotations

import json
from pathlib import Path

from spark.errors import Problem, SparkError
from spark.files import atomic_write_text
from spark.models import RenderedEmail


def paths(issue_dir: Path, language: str) -> tuple[Path, Path, Path]:
    return (
        issue_dir / f"email.{language}.html",
        issue_dir / f"email.{language}.txt",
        issue_dir / f"email.{language}.json",
    )


def write_rendered(issue_dir: Path, email: RenderedEmail) -> list[Path]:
    """Write one edition; returns the files that changed."""
    html, text, meta = paths(issue_dir, email.language)
    info = {
        "issue": email.issue,
        "language": email.language,
        "subject": email.subject,
        "preheader": email.preheader,
        "web_url": email.web_url,
    }
    changed = []
    for path, content in (
        (html, email.html),
        (text, email.text),
        (meta, json.dumps(info, ensure_ascii=False, indent=2) + "\n"),
    ):
        if atomic_write_text(path, content):
            changed.append(path)
    return changed


def read_rendered(issue_dir: Path, language: str) -> RenderedEmail:
    html, text, meta = paths(issue_dir, language)
    try:
        info = json.loads(meta.read_text(encoding="utf-8"))
        return RenderedEmail(
            issue=info["issue"],
            language=info["language"],
            subject=info["subject"],
            preheader=info["preheader"],
            web_url=info["web_url"],
            html=html.read_text(encoding="utf-8"),
            text=text.read_text(encoding="utf-8"),
        )
    except FileNotFoundError as exc:
        raise SparkError(
            str(
                Problem(
                    f"the {language} edition has not been rendered",
                    exc.filename and Path(exc.filename),
                    fix=f"run `spark render {issue_dir.name}` first",
                )
            )
        ) from exc
