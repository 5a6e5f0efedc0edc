"""Sending an issue: exactly once per recipient and edition, resumable after a crash.

The send log (in the store) is the source of truth. Before each request its batch is
committed as `pending`; when the answer arrives it becomes `accepted` (with SendGrid's
message id) or `failed`. A rerun sends only recipients not in an accepted or pending batch.
A batch still pending on a rerun is *in doubt* — the request may have reached SendGrid and
SendGrid has no idempotency key — so it is named and re-sent only when asked
(`resend_in_doubt`). The window is kept small: the body is built before the batch is marked,
and the answer is committed the moment it arrives.
"""

from __future__ import annotations

import fcntl
import os
import random
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from spark import preflight, review
from spark.config import Settings
from spark.errors import InputError, LockedError, PreflightError, Problem, SendError
from spark.mailers import (
    InDoubtError,
    Mailer,
    OutboxMailer,
    SendGridMailer,
    TransientSendError,
    mailer_from_env,
)
from spark.models import RenderedEmail, Subscriber
from spark.rendered import read_rendered
from spark.review_file import read_issue
from spark.send_log import EditionSummary, SendBatch, SendRecord, SendSummary
from spark.store import Store
from spark.subscribers import edition_of, mailable, normalize_email

__all__ = [
    "InDoubtError",
    "Mailer",
    "OutboxMailer",
    "SendGridMailer",
    "SendReport",
    "TransientSendError",
    "build_message",
    "last_send_summary",
    "mailer_from_env",
    "send_issue",
    "send_test",
]

Sleep = Callable[[float], None]
Clock = Callable[[], datetime]
TEST_PREFIX = "[TEST] "


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Progress(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, recipients: int) -> None: ...


@dataclass(frozen=True)
class InDoubt:
    edition: str
    batch_no: int
    recipients: int


@dataclass
class SendReport:
    issue: str
    mailer: str
    sent: dict[str, int] = field(default_factory=dict)  # edition -> recipients accepted now
    already: dict[str, int] = field(default_factory=dict)  # accepted in earlier runs
    requests: int = 0
    message_ids: list[str] = field(default_factory=list)
    failed_batches: list[tuple[str, int, str]] = field(default_factory=list)
    in_doubt: list[InDoubt] = field(default_factory=list)
    suppressions: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    complete: bool = False  # every edition fully sent; the issue is now `sent`


@dataclass(frozen=True)
class TestSendReport:
    issue: str
    mailer: str
    addresses: tuple[str, ...]
    editions: tuple[str, ...]
    message_ids: tuple[str, ...]
    warnings: tuple[str, ...]  # preflight failures: a test goes out anyway


# --------------------------------------------------------------------------- messages


def _one_line(what: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise InputError(
            Problem(
                f"{what} contains a line break, which could inject mail headers: {value[:60]!r}",
                fix="keep it on one line",
            )
        )
    return value


def unsubscribe_header(settings: Settings, email: str) -> str:
    links = []
    if settings.unsubscribe_url:
        sep = "&" if "?" in settings.unsubscribe_url else "?"
        query = urlencode({"email": email, "list": settings.list_id})
        links.append(f"<{settings.unsubscribe_url}{sep}{query}>")
    if settings.unsubscribe_mailto:
        links.append(f"<mailto:{settings.unsubscribe_mailto}?subject={quote('unsubscribe')}>")
    return ", ".join(links)


def build_message(
    settings: Settings,
    rendered: RenderedEmail,
    recipients: Sequence[tuple[str, str]],
    *,
    batch: str,
    test: bool = False,
) -> dict[str, Any]:
    """The SendGrid v3 mail-send body of one batch: one personalization per recipient."""
    subject = (TEST_PREFIX if test else "") + rendered.subject
    _one_line("the subject", subject)
    _one_line("the sender name", settings.sender_name)
    headers: dict[str, str] = {"List-Id": f"{settings.name} <{settings.list_id}>"}
    if test:
        headers = {"X-Spark-Test": "true"}
    elif settings.unsubscribe_url:
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    personalizations = []
    for email, name in recipients:
        to = {"email": _one_line("an address", email)}
        if name:
            to["name"] = _one_line(f"the name of {email}", name)
        p: dict[str, Any] = {"to": [to]}
        if not test:
            p["headers"] = {"List-Unsubscribe": unsubscribe_header(settings, email)}
        personalizations.append(p)
    for key, value in headers.items():
        _one_line(f"the {key} header", value)
    body: dict[str, Any] = {
        "personalizations": personalizations,
        "from": {"email": settings.sender_email, "name": settings.sender_name},
        "subject": subject,
        "content": [
            {"type": "text/plain", "value": rendered.text},
            {"type": "text/html", "value": rendered.html},
        ],
        "headers": headers,
        "categories": (
            ["spark-test"]
            if test
            else ["spark", f"spark-{rendered.issue}", f"spark-{rendered.language}"]
        ),
        "custom_args": {
            "issue": rendered.issue,
            "edition": rendered.language,
            "batch": batch,
            **({"test": "true"} if test else {}),
        },
    }
    if settings.reply_to:
        body["reply_to"] = {"email": settings.reply_to}
    if not test and settings.sendgrid.unsubscribe_group is not None:
        body["asm"] = {"group_id": settings.sendgrid.unsubscribe_group}
    return body


# --------------------------------------------------------------------------- retries


def backoff_delay(
    attempt: int,
    retry_after: float | None,
    rng: Callable[[], float] = random.random,
    *,
    base: float = 0.5,
    cap: float = 60.0,
) -> float:
    """Exponential backoff with jitter; never shorter than the server's Retry-After."""
    exp = min(cap, base * 2**attempt)
    delay = exp * (0.5 + rng() / 2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, 3600.0) + rng() * base)
    return delay


def post_with_retries(
    mailer: Mailer,
    body: Mapping[str, Any],
    *,
    max_retries: int,
    sleep: Sleep = time.sleep,
    rng: Callable[[], float] = random.random,
) -> str | None:
    attempt = 0
    while True:
        try:
            return mailer.send(body)
        except TransientSendError as exc:
            if attempt >= max_retries:
                raise SendError(f"{exc} (gave up after {attempt + 1} attempts)") from exc
            sleep(backoff_delay(attempt, exc.retry_after, rng))
            attempt += 1


# --------------------------------------------------------------------------- lock


@contextmanager
def send_lock(settings: Settings, issue: str) -> Iterator[None]:
    """One send of an issue at a time; the kernel drops the lock if the process dies."""
    path = settings.root / ".spark" / f"send-{issue}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise LockedError(
                f"issue {issue} is being sent by another process (lock {path}); "
                "wait for it to finish"
            ) from exc
        yield
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- the send


def _load(settings: Settings, issue_name: str) -> tuple[Path, Any, dict[str, RenderedEmail]]:
    issue_dir = settings.issues_dir / issue_name
    review_path = issue_dir / "review.yaml"
    if not review_path.exists():
        raise InputError(
            Problem("no review file for this issue", review_path, fix="run `spark review` first")
        )
    issue = read_issue(review_path, settings)
    emails = {lang: read_rendered(issue_dir, lang) for lang in settings.editions}
    return review_path, issue, emails


def sync_suppressions(
    store: Store, mailer: Mailer, settings: Settings, now: datetime
) -> dict[str, int]:
    """Copy SendGrid's suppression lists into the store, and the statuses they imply."""
    lists = mailer.suppressions(settings.sendgrid.unsubscribe_group)
    for kind, emails in lists.items():
        store.replace_suppressions(kind, emails, now)
        store.set_subscriber_status(emails, "bounced" if kind == "bounce" else "unsubscribed", now)
    return {kind: len(emails) for kind, emails in lists.items()}


def recipients_by_edition(
    store: Store, settings: Settings, now: datetime
) -> dict[str, list[Subscriber]]:
    """Who is mailed, per edition: active, consent valid, not suppressed."""
    suppressed = store.suppressed_emails()
    out: dict[str, list[Subscriber]] = {lang: [] for lang in settings.editions}
    for sub in store.subscribers(status="active"):
        if sub.email in suppressed or not mailable(sub, now):
            continue
        out[edition_of(sub, settings)].append(sub)
    return out


@dataclass
class _Job:
    record: SendRecord
    batch_no: int
    recipients: list[tuple[str, str]]


def send_issue(
    settings: Settings,
    store: Store,
    issue_name: str,
    *,
    now: datetime,
    mailer: Mailer,
    resend_in_doubt: bool = False,
    sleep: Sleep = time.sleep,
    clock: Clock = _utcnow,
    progress: Progress | None = None,
) -> SendReport:
    """Send an approved issue to every recipient of each edition, exactly once."""
    review_path, issue, emails = _load(settings, issue_name)
    if issue.status == "sent":
        raise SendError(f"issue {issue_name} has already been sent; a sent issue is never re-sent")
    if issue.status != "approved":
        raise InputError(
            Problem(
                f"issue {issue_name} is {issue.status}, not approved",
                review_path,
                fix="send a test, then set `status: approved` in the review file",
            )
        )
    failures = [f"{lang}: {f}" for lang, e in emails.items() for f in preflight.check(e, settings)]
    if not settings.unsubscribe_url and not settings.unsubscribe_mailto:
        failures.append("no unsubscribe_url or unsubscribe_mailto in spark.yaml")
    if failures:
        raise PreflightError(failures)
    report = SendReport(issue=issue_name, mailer=mailer.description)
    with send_lock(settings, issue_name):
        report.suppressions = sync_suppressions(store, mailer, settings, now)
        audience = recipients_by_edition(store, settings, now)
        jobs: deque[_Job] = deque()
        records: dict[str, SendRecord] = {}
        for lang in settings.editions:
            record = store.begin_send(issue_name, lang, len(audience[lang]), now)
            records[lang] = record
            if record.status == "sent":
                continue
            batches = store.send_batches(record.id)
            eligible = {s.email for s in audience[lang]}
            accepted = {e for b in batches if b.status == "accepted" for e, _ in b.recipients}
            pending = [b for b in batches if b.status == "pending"]
            report.already[lang] = len(accepted)
            for b in pending:
                if resend_in_doubt:
                    still = [(e, n) for e, n in b.recipients if e in eligible and e not in accepted]
                    if still:
                        jobs.append(_Job(record, b.batch_no, still))
                    else:
                        store.mark_answered(record.id, b.batch_no, "failed", clock(), error="empty")
                else:
                    report.in_doubt.append(InDoubt(lang, b.batch_no, len(b.recipients)))
            covered = accepted | {e for b in pending for e, _ in b.recipients}
            todo = [(s.email, s.name) for s in audience[lang] if s.email not in covered]
            next_no = store.next_batch_no(record.id)
            size = settings.sendgrid.batch_size
            for start in range(0, len(todo), size):
                jobs.append(_Job(record, next_no, todo[start : start + size]))
                next_no += 1
        if progress is not None:
            progress.start(sum(len(j.recipients) for j in jobs))
        _run(settings, store, emails, jobs, mailer, report, sleep, clock, progress)
        report.complete = _finish(settings, store, issue, review_path, records, audience, clock)
    return report


def _deliver(
    db_path: Path,
    job: _Job,
    body: Mapping[str, Any],
    mailer: Mailer,
    max_retries: int,
    sleep: Sleep,
    clock: Clock,
) -> str | None:
    """One batch, in a worker thread with its own connection, so that `pending` is committed
    just before the request and the answer the moment it arrives: the in-doubt window is
    only the time between reading SendGrid's answer and that commit."""
    with Store(db_path) as store:
        store.mark_pending(job.record.id, job.batch_no, job.recipients, clock())
        try:
            message_id = post_with_retries(mailer, body, max_retries=max_retries, sleep=sleep)
        except InDoubtError:
            raise  # left pending on purpose: nobody knows whether it went out
        except SendError as exc:
            store.mark_answered(job.record.id, job.batch_no, "failed", clock(), error=str(exc))
            raise
        store.mark_answered(job.record.id, job.batch_no, "accepted", clock(), message_id=message_id)
        return message_id


def _run(
    settings: Settings,
    store: Store,
    emails: dict[str, RenderedEmail],
    jobs: deque[_Job],
    mailer: Mailer,
    report: SendReport,
    sleep: Sleep,
    clock: Clock,
    progress: Progress | None,
) -> None:
    limit = max(1, settings.sendgrid.concurrency)
    in_flight: dict[Future[str | None], _Job] = {}
    stopping = False
    with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="spark-send") as pool:
        while jobs or in_flight:
            while jobs and not stopping and len(in_flight) < limit:
                job = jobs.popleft()
                lang = job.record.edition
                body = build_message(
                    settings,
                    emails[lang],
                    job.recipients,
                    batch=f"{job.record.issue}-{lang}-{job.batch_no}",
                )
                future = pool.submit(
                    _deliver,
                    store.path,
                    job,
                    body,
                    mailer,
                    settings.sendgrid.max_retries,
                    sleep,
                    clock,
                )
                in_flight[future] = job
            if not in_flight:
                break
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                job = in_flight.pop(future)
                lang = job.record.edition
                report.requests += 1
                try:
                    message_id = future.result()
                except InDoubtError as exc:
                    report.in_doubt.append(InDoubt(lang, job.batch_no, len(job.recipients)))
                    report.error = report.error or str(exc)
                    stopping = True
                except SendError as exc:
                    report.failed_batches.append((lang, job.batch_no, str(exc)))
                    report.error = report.error or str(exc)
                    stopping = True
                else:
                    report.sent[lang] = report.sent.get(lang, 0) + len(job.recipients)
                    if message_id:
                        report.message_ids.append(message_id)
                    if progress is not None:
                        progress.advance(len(job.recipients))


def _finish(
    settings: Settings,
    store: Store,
    issue: Any,
    review_path: Path,
    records: dict[str, SendRecord],
    audience: dict[str, list[Subscriber]],
    clock: Clock,
) -> bool:
    """Close each fully sent edition; when all are, the issue becomes `sent`."""
    complete = True
    for lang, record in records.items():
        if record.status == "sent":
            continue
        batches = store.send_batches(record.id)
        accepted = {e for b in batches if b.status == "accepted" for e, _ in b.recipients}
        pending = any(b.status == "pending" for b in batches)
        if pending or any(s.email not in accepted for s in audience[lang]):
            complete = False
            continue
        store.finish_send(record.id, clock())
    if complete:
        review.mark_sent(settings, store, issue.issue)
    return complete


# --------------------------------------------------------------------------- test sends


def send_test(
    settings: Settings,
    issue_name: str,
    addresses: Sequence[str],
    *,
    mailer: Mailer,
    sleep: Sleep = time.sleep,
) -> TestSendReport:
    """Every edition to the given editors, marked as a test; any issue status."""
    if not addresses:
        raise InputError(Problem("name at least one address for the test", fix="--test ADDR"))
    problems, valid = [], []
    for raw in addresses:
        try:
            valid.append(normalize_email(raw))
        except Exception as exc:  # email_validator's error types vary by version
            problems.append(Problem(f"{raw!r} is not a valid email address: {exc}"))
    if problems:
        raise InputError(problems)
    _review_path, _issue, emails = _load(settings, issue_name)
    warnings = [f"{lang}: {f}" for lang, e in emails.items() for f in preflight.check(e, settings)]
    ids = []
    for lang, rendered in emails.items():
        body = build_message(
            settings,
            rendered,
            [(a, "") for a in valid],
            batch=f"{issue_name}-{lang}-test",
            test=True,
        )
        message_id = post_with_retries(
            mailer, body, max_retries=settings.sendgrid.max_retries, sleep=sleep
        )
        if message_id:
            ids.append(message_id)
    return TestSendReport(
        issue=issue_name,
        mailer=mailer.description,
        addresses=tuple(valid),
        editions=tuple(emails),
        message_ids=tuple(ids),
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------- status


def last_send_summary(store: Store) -> SendSummary | None:
    """The most recent issue's send, per edition: for `spark status`."""
    records = store.last_send_records()
    if not records:
        return None
    editions = []
    for record in records:
        batches: list[SendBatch] = store.send_batches(record.id)
        accepted = [b for b in batches if b.status == "accepted"]
        editions.append(
            EditionSummary(
                edition=record.edition,
                status=record.status,
                started=record.started,
                finished=record.finished,
                recipients=sum(len(b.recipients) for b in accepted),
                batches=len(batches),
                accepted=len(accepted),
                failed=sum(1 for b in batches if b.status == "failed"),
                in_doubt=sum(1 for b in batches if b.status == "pending"),
                message_ids=tuple(b.message_id for b in accepted if b.message_id),
                errors=tuple(b.error for b in batches if b.error),
            )
        )
    return SendSummary(issue=records[0].issue, editions=tuple(editions))
