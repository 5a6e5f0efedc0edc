"""A newsletter with an approved, rendered issue (small fixtures that pass preflight)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from spark.config import Settings, load_settings
from spark.models import RenderedEmail, Subscriber
from spark.rendered import write_rendered
from spark.store import Store

ISSUE = "2026-12"
NOW = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)

REVIEW = """\
issue: {issue}
status: {status}
title: {{en: "Spark, December 2026", fr: "Spark, décembre 2026"}}
subject: {{en: "Spark: December 2026", fr: "Spark : décembre 2026"}}
preheader: {{en: Research for educators, fr: La recherche pour le personnel enseignant}}
intro: {{en: Hello, fr: Bonjour}}
sections: [research]
items:
  - id: edcan-1
    pick: yes
    section: research
    title: A study on reading
    url: https://example.org/reading
    source: EdCan
    date: 2026-11-14
    language: en
    blurb: {{en: A study., fr: Une étude.}}
"""


def email_html(lang: str, settings: Settings) -> str:
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>Spark</title></head><body>
<div data-spark-section="research"><div data-spark-item="edcan-1">
<a href="https://example.org/reading">A study on reading ({lang})</a></div></div>
<footer><p>{settings.sender_name}</p><p>{settings.postal_address}</p><p>{settings.contact}</p>
<a data-spark="unsubscribe" href="https://spark.example.org/unsubscribe/">Unsubscribe</a>
</footer></body></html>"""


def make_issue(root: Path, *, status: str = "approved", issue: str = ISSUE) -> Path:
    settings = load_settings(root)
    folder = root / "issues" / issue
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "review.yaml").write_text(REVIEW.format(issue=issue, status=status), "utf-8")
    subjects = {"en": "Spark: December 2026", "fr": "Spark : décembre 2026"}
    for lang in settings.editions:
        write_rendered(
            folder,
            RenderedEmail(
                issue=issue,
                language=lang,
                subject=subjects[lang],
                preheader="Research",
                html=email_html(lang, settings),
                text=f"Spark {issue} ({lang})\n\nUnsubscribe: https://spark.example.org/unsubscribe/\n",
                web_url=f"https://spark.example.org/{issue}/{lang}/",
            ),
        )
    return folder


def subscribers(n: int, *, lang: str = "en", prefix: str = "reader") -> list[Subscriber]:
    return [
        Subscriber(
            email=f"{prefix}{i}@example.org",
            name=f"Reader {i}",
            language=lang,
            consent="express",
            consent_date="2025-01-01",
            consent_source="test",
        )
        for i in range(n)
    ]


def set_sendgrid(root: Path, **values: object) -> None:
    """Rewrite the sendgrid block of the demo spark.yaml."""
    path = root / "spark.yaml"
    lines = path.read_text("utf-8").split("\n")
    start = lines.index("sendgrid:")
    end = start + 1
    while end < len(lines) and lines[end].startswith("  "):
        end += 1
    block = ["sendgrid:", "  unsubscribe_group: 12345"] + [f"  {k}: {v}" for k, v in values.items()]
    path.write_text("\n".join(lines[:start] + block + lines[end:]), "utf-8")


@pytest.fixture
def approved(newsletter: Path) -> Path:
    make_issue(newsletter)
    return newsletter


@pytest.fixture
def store(newsletter: Path) -> Iterator[Store]:
    with Store(load_settings(newsletter).database_path) as s:
        yield s
