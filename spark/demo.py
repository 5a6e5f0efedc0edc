"""`spark demo`: a complete newsletter directory from the bundled sample feeds, run end to end.

Everything is offline: the sources are local files, the database is SQLite under .spark/,
and mail goes to the outbox. The directory is disposable: it is marked as a demo, and only
a directory so marked (or an empty one) is ever rebuilt.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from spark import archive, ingest, render, review, send, subscribers
from spark.config import SETTINGS_FILE, SOURCES_FILE, load_settings, load_sources
from spark.errors import InputError, Problem
from spark.store import Store

DATA = Path(__file__).resolve().parent / "demo_data"
MARKER = ".spark-demo"


@dataclass(frozen=True)
class DemoResult:
    root: Path
    issue: str
    review_file: Path
    emails: tuple[Path, ...]
    site_index: Path
    outbox: Path
    items_stored: int
    picked: int
    sent: int


def prepare(target: Path) -> None:
    """Lay out the demo directory: settings, sources, sample feeds, subscribers."""
    if target.exists() and any(target.iterdir()) and not (target / MARKER).exists():
        raise InputError(
            Problem(
                f"{target} exists and is not a Spark demo directory",
                target,
                fix="name an empty or new directory, e.g. `spark demo demo`",
            )
        )
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    (target / MARKER).write_text("made by `spark demo`; safe to delete\n", encoding="utf-8")
    for name in (SETTINGS_FILE, SOURCES_FILE, "subscribers.csv"):
        shutil.copy(DATA / name, target / name)
    shutil.copytree(DATA / "feeds", target / "feeds")
    (target / "templates").mkdir()
    (target / "templates" / "README.md").write_text(
        "Copy a template from Spark's `spark/templates/` here, keeping its path, to change it\n"
        "for this newsletter (e.g. templates/email/email.mjml.j2).\n",
        encoding="utf-8",
    )


def run(target: Path, *, now: datetime) -> DemoResult:
    """Build the demo directory and run ingest, review, render, send (outbox) and archive."""
    target = target.resolve()
    prepare(target)
    settings = load_settings(target)
    sources = load_sources(target / SOURCES_FILE, settings)
    with Store(settings.database_path) as store:
        ingest.ingest(settings, sources, store, now=now)
        issue = review.default_issue(settings, now)
        review.refresh(settings, store, issue, now=now)
        picked = review.auto_pick(settings, issue)
        rendered = render.render_issue(settings, issue)
        subscribers.import_csv(store, target / "subscribers.csv", settings, now=now)
        mailer = send.OutboxMailer(settings.state_dir / "outbox")
        report = send.send_issue(settings, store, issue, now=now, mailer=mailer)
        archive.build_site(settings)
        items = store.count_items()
    return DemoResult(
        root=target,
        issue=issue,
        review_file=review.review_path(settings, issue),
        emails=tuple(rendered.written),
        site_index=settings.site_dir / "index.html",
        outbox=mailer.directory / issue,
        items_stored=items,
        picked=picked,
        sent=sum(report.sent.values()),
    )
