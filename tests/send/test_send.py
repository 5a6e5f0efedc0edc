"""The send against a SendGrid stand-in on 127.0.0.1: batches, retries, refusals, log."""

from __future__ import annotations

import email
import email.policy
import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from spark.cli import cli
from spark.config import load_settings
from spark.errors import InputError, LockedError, PreflightError, SendError
from spark.mailers import OutboxMailer, SendGridMailer, mailer_from_env
from spark.rendered import read_rendered, write_rendered
from spark.review_file import read_issue
from spark.send import (
    backoff_delay,
    build_message,
    last_send_summary,
    send_issue,
    send_lock,
    send_test,
)
from spark.store import Store
from tests.send.conftest import ISSUE, NOW, make_issue, set_sendgrid, subscribers
from tests.support.sendgrid import Failure, serve_sendgrid, validate_mail_send


def _mailer(url: str, timeout: float = 10.0) -> SendGridMailer:
    return SendGridMailer("test", host=url, timeout=timeout)


def test_2500_subscribers_make_3_valid_requests(approved: Path, store: Store) -> None:
    settings = load_settings(approved)
    store.upsert_subscribers(subscribers(2500), NOW)
    with serve_sendgrid() as sg:
        report = send_issue(settings, store, ISSUE, now=NOW, mailer=_mailer(sg.url))
    en_requests = [r for r in sg.requests if r["custom_args"]["edition"] == "en"]
    assert len(en_requests) == 3
    assert sorted(len(r["personalizations"]) for r in en_requests) == [500, 1000, 1000]
    assert sg.invalid == []
    for body in sg.requests:
        assert validate_mail_send(body) == []
        assert body["asm"] == {"group_id": 12345}
        assert body["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert body["headers"]["List-Id"] == "Spark <spark.example.org>"
        assert body["custom_args"]["issue"] == ISSUE
        assert all(len(p["to"]) == 1 for p in body["personalizations"])
        unsub = body["personalizations"][0]["headers"]["List-Unsubscribe"]
        assert unsub.startswith("<https://spark.example.org/unsubscribe/?email=")
        assert "<mailto:unsubscribe@example.org" in unsub
    assert set(sg.recipients().values()) == {1} and len(sg.recipients()) == 2500
    assert report.complete and report.sent == {"en": 2500}
    assert read_issue(approved / "issues" / ISSUE / "review.yaml", settings).status == "sent"
    summary = last_send_summary(store)
    assert summary is not None and summary.recipients == 2500 and summary.failures == 0
    en = next(e for e in summary.editions if e.edition == "en")
    assert en.batches == 3 and len(en.message_ids) == 3
    # A finished send is never repeated.
    with pytest.raises(SendError, match="already been sent"):
        send_issue(settings, store, ISSUE, now=NOW, mailer=_mailer(sg.url))


def test_each_subscriber_gets_their_language_edition_once(approved: Path, store: Store) -> None:
    settings = load_settings(approved)
    store.upsert_subscribers(subscribers(600, lang="en", prefix="en"), NOW)
    store.upsert_subscribers(subscribers(400, lang="fr", prefix="fr"), NOW)
    # Another language gets the default edition.
    store.upsert_subscribers(subscribers(10, lang="es", prefix="es"), NOW)
    with serve_sendgrid() as sg:
        report = send_issue(settings, store, ISSUE, now=NOW, mailer=_mailer(sg.url))
    assert report.complete
    assert all(n == 1 for n in sg.delivered.values()) and len(sg.delivered) == 1010
    for (issue, edition, address), _ in sg.delivered.items():
        assert issue == ISSUE
        assert edition == ("fr" if address.startswith("fr") else "en")
    fr_body = next(r for r in sg.requests if r["custom_args"]["edition"] == "fr")
    assert fr_body["subject"] == "Spark : décembre 2026"
    assert 'lang="fr"' in fr_body["content"][1]["value"]
    assert {r.edition for r in store.last_send_records()} == {"en", "fr"}


def test_language_change_by_reimport_changes_edition(approved: Path, store: Store) -> None:
    from spark.subscribers import import_csv

    settings = load_settings(approved)
    csv = approved / "subs.csv"
    csv.write_text("email,language,consent,consent_date\nana@example.org,en,express,2025-01-01\n")
    import_csv(store, csv, settings, now=NOW)
    csv.write_text("email,language,consent,consent_date\nana@example.org,fr,express,2025-01-01\n")
    import_csv(store, csv, settings, now=NOW)
    with serve_sendgrid() as sg:
        send_issue(settings, store, ISSUE, now=NOW, mailer=_mailer(sg.url))
    assert dict(sg.delivered) == {(ISSUE, "fr", "ana@example.org"): 1}


def test_429_is_retried_after_retry_after(approved: Path, store: Store) -> None:
    settings = load_settings(approved)
    store.upsert_subscribers(subscribers(10), NOW)
    slept: list[float] = []
    with serve_sendgrid() as sg:
        sg.fail_next(
            Failure(429, {"errors": [{"message": "too many requests"}]}, {"Retry-After": "7"})
        )
        report = send_issue(
            settings, store, ISSUE, now=NOW, mailer=_mailer(sg.url), sleep=slept.append
        )
    assert report.complete
    assert len(slept) == 1 and slept[0] >= 7
    assert len(sg.requests) == 2  # the 429 and its retry; an empty edition sends nothing
    assert sum(sg.recipients().values()) == 10


def test_5xx_is_retried_with_backoff_then_gives_up(approved: Path, store: Store) -> None:
    settings = load_settings(approved)
    store.upsert_subscribers(subscribers(5), NOW)
    slept: list[float] = []
    with serve_sendgrid() as sg:
        sg.fail_next(*[Failure(503, {"errors": [{"message": "busy"}]})] * 6)
        report = send_issue(
            settings, store, ISSUE, now=NOW, mailer=_mailer(sg.url), sleep=slept.append
        )
    assert not report.complete and report.error and "busy" in report.error
    assert len(slept) == settings.sendgrid.max_retries
    assert slept == sorted(slept)  # exponential
    assert report.failed_batches and not report.in_doubt


def test_backoff_delay_honours_retry_after_and_grows() -> None:
    assert backoff_delay(0, None, lambda: 0.0) == pytest.approx(0.25)
    assert backoff_delay(3, None, lambda: 1.0) == pytest.approx(4.0)
    assert backoff_delay(0, 30, lambda: 0.0) == pytest.approx(30)
    assert backoff_delay(20, None, lambda: 1.0) == pytest.approx(60)


def test_400_stops_the_send_with_sendgrids_message_exit_1(approved: Path, store: Store) -> None:
    set_sendgrid(approved, concurrency=1, batch_size=10)
    settings = load_settings(approved)
    store.upsert_subscribers(subscribers(30), NOW)
    message = "The from address does not match a verified Sender Identity."
    with serve_sendgrid(api_key="SG.very-secret-key") as sg:
        sg.fail_next(
            Failure(202), Failure(400, {"errors": [{"message": message, "field": "from"}]})
        )
        env = {"SENDGRID_API_KEY": "SG.very-secret-key", "SENDGRID_API_HOST": sg.url}
        result = CliRunner().invoke(cli, ["--root", str(approved), "send", "--confirm"], env=env)
        assert result.exit_code == 1, result.output
        assert message in result.output
        assert "SG.very-secret-key" not in result.output
        assert len(sg.requests) == 2  # stopped: no request after the refusal
        assert sum(sg.recipients().values()) == 10
        # The accepted batch is kept in the log; a rerun sends the rest, no one twice.
        result = CliRunner().invoke(cli, ["--root", str(approved), "send", "--confirm"], env=env)
        assert result.exit_code == 0, result.output
    assert set(sg.recipients().values()) == {1} and len(sg.recipients()) == 30
    assert read_issue(approved / "issues" / ISSUE / "review.yaml", settings).status == "sent"


def test_hung_server_times_out_and_the_batch_is_in_doubt(approved: Path, store: Store) -> None:
    settings = load_settings(approved)
    store.upsert_subscribers(subscribers(5), NOW)
    with serve_sendgrid() as sg:
        sg.fail_next(Failure(0))  # hang
        report = send_issue(settings, store, ISSUE, now=NOW, mailer=_mailer(sg.url, 0.5))
        assert not report.complete
        assert report.in_doubt and report.in_doubt[0].recipients == 5
        assert "no answer" in (report.error or "")
        # A plain rerun names the batch in doubt and does not re-send it.
        again = send_issue(settings, store, ISSUE, now=NOW, mailer=_mailer(sg.url))
        assert [(d.edition, d.recipients) for d in again.in_doubt] == [("en", 5)]
        assert not again.complete and sum(sg.recipients().values()) == 0
        summary = last_send_summary(store)
        assert summary is not None and summary.failures == 1
        assert [(e.edition, e.in_doubt) for e in summary.editions] == [("en", 1), ("fr", 0)]
        final = send_issue(
            settings, store, ISSUE, now=NOW, mailer=_mailer(sg.url), resend_in_doubt=True
        )
    assert final.complete and set(sg.recipients().values()) == {1}


def test_unsubscribed_and_suppressed_addresses_are_never_mailed(
    approved: Path, store: Store
) -> None:
    settings = load_settings(approved)
    store.upsert_subscribers(subscribers(10), NOW)
    store.set_subscriber_status(["reader0@example.org"], "unsubscribed", NOW)
    with serve_sendgrid() as sg:
        sg.suppressions["asm"] = ["reader1@example.org"]
        sg.suppressions["unsubscribes"] = ["Reader2@example.org"]
        sg.suppressions["bounces"] = ["reader3@example.org"]
        sg.suppressions["spam_reports"] = ["reader4@example.org"]
        report = send_issue(settings, store, ISSUE, now=NOW, mailer=_mailer(sg.url))
    assert report.complete
    assert sorted(sg.recipients()) == [f"reader{i}@example.org" for i in range(5, 10)]
    assert "/v3/asm/groups/12345/suppressions" in sg.suppression_calls
    sub = store.subscriber("reader3@example.org")
    assert sub is not None and sub.status == "bounced"
    sub = store.subscriber("reader2@example.org")
    assert sub is not None and sub.status == "unsubscribed"


def test_outbox_writes_parseable_eml_with_both_parts(approved: Path, store: Store) -> None:
    settings = load_settings(approved)
    store.upsert_subscribers(subscribers(3) + subscribers(2, lang="fr", prefix="fr"), NOW)
    mailer = mailer_from_env(settings, environ={})
    assert isinstance(mailer, OutboxMailer)
    report = send_issue(settings, store, ISSUE, now=NOW, mailer=mailer)
    assert report.complete
    files = sorted((approved / ".spark" / "outbox" / ISSUE).glob("*.eml"))
    assert len(files) == 5
    for path in files:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert msg.get_content_type() == "multipart/alternative"
        types = [part.get_content_type() for part in msg.iter_parts()]  # type: ignore[attr-defined]
        assert types == ["text/plain", "text/html"]
        assert msg["List-Unsubscribe"].startswith("<https://spark.example.org/unsubscribe/")
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert msg["List-Id"] == "Spark <spark.example.org>"
        lang = "fr" if path.name.startswith("fr-") else "en"
        html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert f'lang="{lang}"' in html
        assert "Spark" in msg["Subject"] and "Knowledge Mobilization" in msg["From"]


def test_cli_says_when_it_writes_to_the_outbox(approved: Path, store: Store) -> None:
    store.upsert_subscribers(subscribers(2), NOW)
    result = CliRunner().invoke(
        cli, ["--root", str(approved), "send", ISSUE, "--confirm"], env={"SENDGRID_API_KEY": ""}
    )
    assert result.exit_code == 0, result.output
    assert "SENDGRID_API_KEY is not set" in result.output and "outbox" in result.output


def test_test_send_is_marked_and_has_no_unsubscribe(newsletter: Path) -> None:
    make_issue(newsletter, status="draft")
    settings = load_settings(newsletter)
    with serve_sendgrid() as sg:
        report = send_test(settings, ISSUE, ["Editor@Example.org"], mailer=_mailer(sg.url))
    assert report.editions == ("en", "fr") and len(sg.requests) == 2
    for body in sg.requests:
        assert body["subject"].startswith("[TEST] ")
        assert "asm" not in body
        assert "List-Unsubscribe-Post" not in body["headers"]
        assert all("headers" not in p for p in body["personalizations"])
        assert body["personalizations"][0]["to"] == [{"email": "editor@example.org"}]
    assert read_issue(newsletter / "issues" / ISSUE / "review.yaml", settings).status == "draft"


def test_only_an_approved_issue_that_passes_preflight_is_sent(
    newsletter: Path, store: Store
) -> None:
    settings = load_settings(newsletter)
    make_issue(newsletter, status="draft")
    outbox = OutboxMailer(newsletter / "outbox")
    with pytest.raises(InputError, match="not approved"):
        send_issue(settings, store, ISSUE, now=NOW, mailer=outbox)
    make_issue(newsletter, status="approved")
    folder = newsletter / "issues" / ISSUE
    fr = read_rendered(folder, "fr")
    write_rendered(folder, replace(fr, html=fr.html.replace('data-spark="unsubscribe"', "")))
    with pytest.raises(PreflightError, match="unsubscribe"):
        send_issue(settings, store, ISSUE, now=NOW, mailer=outbox)
    write_rendered(folder, replace(fr, subject="Spark\r\nBcc: everyone@example.org"))
    with pytest.raises(PreflightError, match="line break"):
        send_issue(settings, store, ISSUE, now=NOW, mailer=outbox)
    assert not (newsletter / "outbox").exists()


def test_header_injection_is_refused(approved: Path) -> None:
    settings = load_settings(approved)
    rendered = read_rendered(approved / "issues" / ISSUE, "en")
    with pytest.raises(InputError, match="line break"):
        build_message(
            replace(settings, sender_name="Spark\nBcc: x@example.org"), rendered, [], batch="1"
        )
    with pytest.raises(InputError, match="line break"):
        build_message(settings, rendered, [("a@example.org", "A\r\nBcc: x")], batch="1")
    with pytest.raises(InputError, match="line break"):
        build_message(settings, replace(rendered, subject="Hi\nBcc: x"), [], batch="1")


def test_two_sends_of_one_issue_at_once_are_refused(approved: Path, store: Store) -> None:
    settings = load_settings(approved)
    store.upsert_subscribers(subscribers(2), NOW)
    with send_lock(settings, ISSUE), pytest.raises(LockedError):
        send_issue(settings, store, ISSUE, now=NOW, mailer=OutboxMailer(approved / "o"))
    report = send_issue(settings, store, ISSUE, now=NOW, mailer=OutboxMailer(approved / "o"))
    assert report.complete


def test_implied_consent_older_than_two_years_is_not_mailed(approved: Path, store: Store) -> None:
    settings = load_settings(approved)
    old, fresh = subscribers(2, prefix="implied")
    store.upsert_subscribers(
        [
            replace(old, consent="implied", consent_date="2024-11-29"),
            replace(fresh, consent="implied", consent_date="2024-12-01"),
        ],
        NOW,
    )
    with serve_sendgrid() as sg:
        send_issue(settings, store, ISSUE, now=NOW, mailer=_mailer(sg.url))
    assert list(sg.recipients()) == ["implied1@example.org"]


def test_picked_items_are_marked_published(approved: Path, store: Store) -> None:
    from spark.models import Item

    item = Item(
        id="edcan-1", source_id="edcan", guid=None, url="https://example.org/reading",
        canonical_url="https://example.org/reading", title="A study", summary_html="",
        summary_text="", image_url=None, author=None, published=NOW, first_seen=NOW,
        language="en", format="article", section="research", region=None,
    )  # fmt: skip
    store.save_items([item])
    store.upsert_subscribers(subscribers(1), NOW)
    send_issue(load_settings(approved), store, ISSUE, now=NOW, mailer=OutboxMailer(approved / "o"))
    assert store.items(unpublished=True) == []
    row = store.db.execute("SELECT published_in FROM items").fetchone()
    assert row[0] == ISSUE
    assert json.loads(json.dumps(True))
