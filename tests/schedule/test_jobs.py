"""The jobs' bookkeeping (job_runs, one log line), the send job's decisions, cron and logs."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from spark.config import Settings, load_settings
from spark.cron import cron_trigger, crontab_weekdays
from spark.errors import SourceError
from spark.jobs import Outcome, read_issues, run_job, send_decisions, send_job
from spark.logs import format_line, log_event, setup_logging
from spark.models import Issue
from spark.store import Store
from tests.schedule.conftest import write_review

TORONTO = ZoneInfo("America/Toronto")
NOW = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)  # 09:30 in Toronto


def last_run(root: Path, job: str) -> tuple[bool | None, str]:
    with Store(load_settings(root).database_path) as store:
        run = store.last_job_runs()[job]
    assert run.finished is not None and run.finished >= run.started
    return run.ok, run.message


def test_a_job_run_is_recorded_and_logged_as_one_line(newsletter: Path) -> None:
    setup_logging(newsletter / ".spark")

    def body(settings: Settings, store: Store, now: datetime) -> Outcome:
        assert settings.root == newsletter.resolve()
        return Outcome(True, "3 new items", {"issue": "2026-12", "source": "demo"})

    assert run_job("ingest", str(newsletter), body).ok
    assert last_run(newsletter, "ingest") == (True, "3 new items")
    log = (newsletter / ".spark" / "spark.log").read_text(encoding="utf-8").splitlines()
    (line,) = [entry for entry in log if "event=job.finished" in entry]
    for part in ("job=ingest", "ok=true", "issue=2026-12", "source=demo", "duration="):
        assert part in line
    assert 'message="3 new items"' in line


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (SourceError("demo", "HTTP 500"), "demo: HTTP 500"),
        (KeyError("oops"), "KeyError: 'oops'"),
    ],
)
def test_a_failing_job_is_recorded_as_failed_and_does_not_raise(
    newsletter: Path, error: Exception, expected: str
) -> None:
    def body(settings: Settings, store: Store, now: datetime) -> Outcome:
        raise error

    outcome = run_job("render", str(newsletter), body)
    assert outcome == Outcome(False, expected)
    assert last_run(newsletter, "render") == (False, expected)


def test_secrets_never_reach_the_log_or_the_store(
    newsletter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "SG.very-secret-key-value"
    monkeypatch.setenv("SENDGRID_API_KEY", secret)
    stream = io.StringIO()
    setup_logging(newsletter / ".spark", stream=stream)

    def body(settings: Settings, store: Store, now: datetime) -> Outcome:
        raise RuntimeError(f"refused key {secret}")

    run_job("send", str(newsletter), body)
    log_event(logging.getLogger("spark.test"), "probe", api_key="abc", token="t")
    written = stream.getvalue() + (newsletter / ".spark" / "spark.log").read_text("utf-8")
    assert secret not in written and "refused key ***" in written
    assert "api_key=*** token=***" in written
    assert secret not in last_run(newsletter, "send")[1]


def issue(status: str, send_at: datetime | None) -> Issue:
    return Issue("2026-12", status, {}, {}, {}, {}, (), (), send_at=send_at)  # type: ignore[arg-type]


def test_send_decisions_send_only_an_approved_issue_whose_time_has_come() -> None:
    before, after = NOW - timedelta(minutes=1), NOW + timedelta(minutes=1)
    decisions = send_decisions(
        [
            ("2026-09", issue("sent", before)),
            ("2026-10", "line 3: bad status"),
            ("2026-11", issue("draft", before)),
            ("2026-12", issue("approved", after)),
            ("2027-01", issue("approved", None)),
            ("2027-02", issue("approved", NOW)),
        ],
        NOW,
    )
    assert [(d.issue, d.send) for d in decisions] == [
        ("2026-10", False),
        ("2026-11", False),
        ("2026-12", False),
        ("2027-01", False),
        ("2027-02", True),
    ]
    reasons = [d.reason for d in decisions]
    assert "unreadable" in reasons[0] and "draft" in reasons[1]
    assert "not yet come" in reasons[2] and "no send_at" in reasons[3]


def test_the_send_job_does_nothing_for_a_draft_and_says_why(newsletter: Path) -> None:
    write_review(newsletter, "2026-12", "draft", "2026-11-01 09:00")
    write_review(newsletter, "2027-01", "approved", "2099-01-05 09:00")
    settings = load_settings(newsletter)
    assert [name for name, _ in read_issues(settings)] == ["2026-12", "2027-01"]
    outcome = send_job(str(newsletter))
    assert outcome.ok
    ok, message = last_run(newsletter, "send")
    assert ok is True
    assert "nothing to send" in message
    assert "2026-12: status is draft, not approved" in message
    assert "2027-01: approved; send_at 2099-01-05T09:00-05:00 not yet come" in message


def test_cron_weekdays_follow_crontab_not_apscheduler() -> None:
    assert crontab_weekdays("1-5") == "mon-fri"
    assert crontab_weekdays("0,6") == "sun,sat"
    assert crontab_weekdays("*/2") == "*/2"
    monday_9 = cron_trigger("0 9 * * 1", TORONTO)
    fire = monday_9.get_next_fire_time(None, datetime(2026, 12, 2, tzinfo=TORONTO))  # a Wed
    assert fire == datetime(2026, 12, 7, 9, 0, tzinfo=TORONTO)
    assert fire.strftime("%A") == "Monday"
    every_2s = cron_trigger("*/2 * * * * *", TORONTO)
    start = datetime(2026, 12, 2, 0, 0, 1, tzinfo=TORONTO)
    assert every_2s.get_next_fire_time(None, start).second == 2
    with pytest.raises(ValueError, match="fields"):
        cron_trigger("0 9 * *", TORONTO)


def test_a_log_line_is_one_line_of_key_values() -> None:
    line = format_line(NOW, "INFO", "job.finished", {"job": "send", "message": 'a "b"\nc'})
    assert line == (
        '2026-12-01T14:30:00+00:00 level=info event=job.finished job=send message="a \\"b\\"\\nc"'
    )
    assert "\n" not in line
