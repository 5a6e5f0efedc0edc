"""The scheduled jobs. APScheduler calls them by reference ("spark.jobs:ingest_job") with
the newsletter directory as their only argument.

Each run is recorded in the store's `job_runs` table (start, end, ok, message) and logged
as one structured line. A job never raises: a failure is recorded, logged and left for
`spark status` to show; the next trigger tries again.

The stages are imported inside the jobs so that the job store can always load these
references, even while a stage module fails to import.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from spark.config import SOURCES_FILE, Settings, load_settings
from spark.errors import SparkError
from spark.logs import log_event, mask_secrets
from spark.models import Issue
from spark.store import Store

logger = logging.getLogger("spark.jobs")


@dataclass(frozen=True)
class Outcome:
    """What a job did: ok, a one-line message, and fields for the log line."""

    ok: bool
    message: str
    fields: dict[str, Any] = field(default_factory=dict)


Body = Callable[[Settings, Store, datetime], Outcome]


def run_job(job: str, root: str | Path, body: Body, *, now: datetime | None = None) -> Outcome:
    """Run BODY as JOB: record it in job_runs and log one line, whatever happens."""
    started = now or datetime.now(UTC)
    clock = time.monotonic()
    try:
        settings = load_settings(Path(root))
        store = Store(settings.database_path)
    except SparkError as exc:
        outcome = Outcome(False, str(exc))
        _log(job, outcome, time.monotonic() - clock)
        return outcome
    try:
        run_id = store.start_job_run(job, started)
        try:
            outcome = body(settings, store, started)
        except SparkError as exc:
            outcome = Outcome(False, str(exc))
        except Exception as exc:
            logger.exception("job %s failed", job)
            outcome = Outcome(False, f"{type(exc).__name__}: {exc}")
        message = mask_secrets(outcome.message)
        store.finish_job_run(run_id, datetime.now(UTC), outcome.ok, message)
    finally:
        store.close()
    _log(job, outcome, time.monotonic() - clock)
    return outcome


def _log(job: str, outcome: Outcome, duration: float) -> None:
    log_event(
        logger,
        "job.finished",
        logging.INFO if outcome.ok else logging.ERROR,
        job=job,
        ok=outcome.ok,
        duration=round(duration, 3),
        **outcome.fields,
        message=outcome.message,
    )


def _summary(result: Any, default: str) -> str:
    """A one-line description of a stage's report, whatever shape it has."""
    for name in ("summary", "message"):
        value = getattr(result, name, None)
        if callable(value):
            value = value()
        if isinstance(value, str) and value:
            return value
    return result if isinstance(result, str) and result else default


# --------------------------------------------------------------------------- ingest


def ingest_job(root: str) -> Outcome:
    return run_job("ingest", root, _ingest)


def _ingest(settings: Settings, store: Store, now: datetime) -> Outcome:
    from spark.config import load_sources
    from spark.ingest import ingest

    sources = load_sources(settings.root / SOURCES_FILE, settings)
    report = ingest(settings, sources, store, now=now)
    failed = getattr(report, "failed", None)
    failures = len(failed) if isinstance(failed, Sized) and not isinstance(failed, str) else 0
    message = _summary(report, f"{len(sources)} sources")
    return Outcome(failures == 0, message, {"sources": len(sources), "failed": failures})


# --------------------------------------------------------------------------- review


def review_job(root: str) -> Outcome:
    return run_job("review", root, _review)


def _review(settings: Settings, store: Store, now: datetime) -> Outcome:
    from spark.review import default_issue, refresh

    issue = default_issue(settings, now)
    result = refresh(settings, store, issue, now=now)
    return Outcome(True, _summary(result, f"refreshed {issue}"), {"issue": issue})


# --------------------------------------------------------------------------- render


def render_job(root: str) -> Outcome:
    return run_job("render", root, _render)


def _render(settings: Settings, store: Store, now: datetime) -> Outcome:
    from spark.archive import build_site
    from spark.render import render_issue
    from spark.review import default_issue

    issue = default_issue(settings, now)
    if (settings.issues_dir / issue / "review.yaml").exists():
        render_issue(settings, issue)
        message = f"rendered {issue}; archive rebuilt"
    else:
        message = f"no review file for {issue} yet; archive rebuilt"
    build_site(settings)
    return Outcome(True, message, {"issue": issue})


# --------------------------------------------------------------------------- send


@dataclass(frozen=True)
class SendDecision:
    issue: str
    send: bool
    reason: str


def send_decisions(issues: Iterable[tuple[str, Issue | str]], now: datetime) -> list[SendDecision]:
    """Which issues are due. ISSUES pairs each issue name with its review file, read, or
    with the reason it could not be read. Only an `approved` issue whose `send_at` has
    come is sent; sent issues are left out of the answer, being nothing to report."""
    decisions = []
    for name, issue in sorted(issues, key=lambda pair: pair[0]):
        if isinstance(issue, str):
            decisions.append(SendDecision(name, False, f"review file unreadable: {issue}"))
        elif issue.status == "sent":
            continue
        elif issue.status != "approved":
            decisions.append(SendDecision(name, False, f"status is {issue.status}, not approved"))
        elif issue.send_at is None:
            decisions.append(SendDecision(name, False, "approved but no send_at is set"))
        elif issue.send_at > now:
            when = issue.send_at.isoformat(timespec="minutes")
            decisions.append(SendDecision(name, False, f"approved; send_at {when} not yet come"))
        else:
            decisions.append(SendDecision(name, True, "approved and due"))
    return decisions


def read_issues(settings: Settings) -> list[tuple[str, Issue | str]]:
    from spark.review_file import ISSUE_RE, read_issue

    found: list[tuple[str, Issue | str]] = []
    if not settings.issues_dir.is_dir():
        return found
    for path in sorted(settings.issues_dir.glob("*/review.yaml")):
        name = path.parent.name
        if not ISSUE_RE.match(name):
            continue
        try:
            found.append((name, read_issue(path, settings)))
        except SparkError as exc:
            found.append((name, str(exc).splitlines()[0]))
    return found


def send_job(root: str) -> Outcome:
    return run_job("send", root, _send)


def _send(settings: Settings, store: Store, now: datetime) -> Outcome:
    decisions = send_decisions(read_issues(settings), now)
    due = [d for d in decisions if d.send]
    if not due:
        why = "; ".join(f"{d.issue}: {d.reason}" for d in decisions) or "no issue waiting"
        return Outcome(True, f"nothing to send ({why})")
    from spark.send import mailer_from_env, send_issue

    mailer = mailer_from_env(settings)
    ok, said = True, []
    for decision in due:
        report = send_issue(settings, store, decision.issue, now=now, mailer=mailer)
        done, text = describe_send(decision.issue, report)
        ok = ok and done
        said.append(text)
    return Outcome(ok, "; ".join(said), {"issue": ",".join(d.issue for d in due)})


def describe_send(issue: str, report: Any) -> tuple[bool, str]:
    """(complete, one line) for the send stage's report."""
    sent = sum(getattr(report, "sent", {}).values())
    already = sum(getattr(report, "already", {}).values())
    complete = bool(getattr(report, "complete", True)) and not getattr(report, "error", None)
    text = f"{issue}: {sent} sent now, {already} earlier"
    failed = len(getattr(report, "failed_batches", []) or [])
    in_doubt = len(getattr(report, "in_doubt", []) or [])
    if failed or in_doubt:
        text += f"; {failed} batches failed, {in_doubt} in doubt (see `spark status`)"
    if getattr(report, "error", None):
        text += f"; error: {report.error}"
    text += (
        "; complete, issue marked sent"
        if complete
        else "; NOT complete (the next run retries failed batches; in-doubt ones need a person)"
    )
    return complete, text
