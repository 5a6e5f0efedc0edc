"""The send job's guarantees, against the real send stage (`spark.send`) and its outbox:
it never sends a draft, and never sends an issue twice, even when its trigger fires twice.

These need `spark.send`, built on another branch. Before the merge they are reported as
skipped with that reason (see the -ra summary); after it, they run.
"""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pytest

from spark.config import Settings, load_settings
from spark.jobs import send_job
from spark.models import RenderedEmail, Subscriber
from spark.rendered import write_rendered
from spark.review_file import read_issue, set_status
from spark.store import Store
from tests.schedule.conftest import write_review

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("spark.send") is None,
    reason="NEEDS spark.send (send stage, another branch): runs after the merge",
)

ISSUE = "2026-12"
SUBSCRIBERS = [("ada@example.org", "en"), ("ben@example.org", "fr"), ("cy@example.org", "en")]


def rendered(settings: Settings, language: str) -> RenderedEmail:
    footer = " ".join(
        [settings.sender_name, settings.postal_address.splitlines()[0], settings.contact]
    )
    html = f"""<!doctype html><html lang="{language}"><head><title>Spark</title></head><body>
<div data-spark-section="research"><div data-spark-item="demo-source-0001">
<a href="https://example.org/research/reading-gains">Reading gains in early grades</a>
</div></div>
<p>{footer} <a data-spark="unsubscribe" href="{settings.unsubscribe_url}">Unsubscribe</a></p>
</body></html>"""
    return RenderedEmail(
        issue=ISSUE,
        language=language,
        subject=f"Spark {ISSUE} ({language})",
        preheader="One item to read",
        html=html,
        text=f"Reading gains in early grades\n{footer}\n",
        web_url=f"{settings.archive_url}{ISSUE}/",
    )


@pytest.fixture
def ready(newsletter: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An issue rendered in both editions, three subscribers, mail going to the outbox."""
    monkeypatch.delenv("SENDGRID_API_KEY", raising=False)
    monkeypatch.delenv("SENDGRID_API_HOST", raising=False)
    write_review(newsletter, ISSUE, "draft", "2026-11-01 09:00")
    settings = load_settings(newsletter)
    for lang in settings.editions:
        write_rendered(settings.issues_dir / ISSUE, rendered(settings, lang))
    with Store(settings.database_path) as store:
        store.upsert_subscribers(
            [
                Subscriber(email, language=lang, consent="express", consent_date="2026-01-05",
                           consent_source="test")
                for email, lang in SUBSCRIBERS
            ],
            datetime.now(UTC),
        )  # fmt: skip
    return newsletter


def outbox(root: Path) -> list[Path]:
    return sorted((root / ".spark" / "outbox").rglob("*.eml"))


def last_message(root: Path) -> str:
    with Store(load_settings(root).database_path) as store:
        return store.last_job_runs()["send"].message


def test_the_send_job_never_sends_a_draft(ready: Path) -> None:
    for _ in range(2):
        assert send_job(str(ready)).ok
    assert outbox(ready) == []
    assert f"{ISSUE}: status is draft, not approved" in last_message(ready)


def test_the_send_job_never_sends_an_issue_twice_when_its_trigger_fires_twice(
    ready: Path,
) -> None:
    review = ready / "issues" / ISSUE / "review.yaml"
    set_status(review, "approved")
    first = send_job(str(ready))
    assert first.ok, first.message
    mails = outbox(ready)
    assert len(mails) == len(SUBSCRIBERS)
    assert read_issue(review, load_settings(ready)).status == "sent"

    second = send_job(str(ready))  # the trigger fires again
    assert second.ok and "nothing to send" in second.message
    assert outbox(ready) == mails

    # Even if the status were put back to approved (a crash before it was written, a
    # hand edit), the send log stops a second delivery.
    set_status(review, "approved")
    send_job(str(ready))
    assert outbox(ready) == mails
