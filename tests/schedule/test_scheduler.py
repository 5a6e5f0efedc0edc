"""The scheduler with its real SQLite job store: missed runs, changed settings, the lock and
clean stops. Short cron schedules use the optional leading seconds field."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from rich.console import Console

from spark.config import load_settings
from spark.errors import ConfigError
from spark.schedule import SchedulerLock, SparkScheduler, schedule_status, status_table
from spark.store import Store
from tests.schedule.conftest import RECORD, SLOW, scheduler_thread, write_settings
from tests.schedule.jobs_for_tests import lines
from tests.support.processes import spawn, wait_for

WATCHED = EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR


def next_runs(root: Path) -> dict[str, datetime | None]:
    with Store(load_settings(root).database_path) as store:
        return store.scheduled_jobs()


def test_a_run_missed_while_stopped_runs_exactly_once_on_restart(root: Path) -> None:
    write_settings(root, '  ingest: "* * * * * *"\n  misfire_grace_seconds: 3600\n')
    targets = {"ingest": RECORD}
    with scheduler_thread(root, targets):
        pass
    first_due = next_runs(root)["ingest"]
    assert first_due is not None
    # Stay down across at least two fire times (first_due and the second after it).
    wait_for(lambda: datetime.now(UTC) > first_due + timedelta(seconds=2.2), "the downtime")
    ran_before = len(lines(root))

    events: list[Any] = []

    def listen(scheduler: SparkScheduler) -> None:
        scheduler.add_listener(events.append, WATCHED)

    restarted = datetime.now(UTC)
    with scheduler_thread(root, targets, before_resume=listen):
        wait_for(lambda: any(e.code == EVENT_JOB_EXECUTED for e in events), "the catch-up run")

    for_missed_window = [e for e in events if e.scheduled_run_time < restarted]
    assert [e.code for e in for_missed_window] == [EVENT_JOB_EXECUTED], for_missed_window
    # Coalesced: the one run stands for the latest missed fire time, not the first.
    assert for_missed_window[0].scheduled_run_time >= first_due + timedelta(seconds=2)
    assert not [e for e in events if e.code in (EVENT_JOB_MISSED, EVENT_JOB_ERROR)]
    assert len(lines(root)) >= ran_before + 1


def test_a_changed_cron_takes_effect_at_next_start_and_the_job_store_is_kept(
    root: Path,
) -> None:
    write_settings(root, '  ingest: "0 0 1 1 *"\n  review: "30 6 * * *"\n')
    with scheduler_thread(root):
        pass
    before = next_runs(root)
    toronto = ZoneInfo("America/Toronto")
    assert before["ingest"] is not None and before["review"] is not None
    assert before["ingest"].astimezone(toronto).strftime("%m-%d %H:%M") == "01-01 00:00"
    settings = load_settings(root)
    with Store(settings.database_path) as store:
        run_id = store.start_job_run("review", datetime.now(UTC))
        store.finish_job_run(run_id, datetime.now(UTC), True, "kept")

    write_settings(root, '  ingest: "0 12 * * *"\n  review: "30 6 * * *"\n')
    seen: dict[str, Any] = {}
    with scheduler_thread(root, before_resume=lambda s: seen.update(jobs=s.get_jobs())):
        pass
    after = next_runs(root)
    now = datetime.now(toronto)
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    expected = noon if noon > now else noon + timedelta(days=1)
    assert after["ingest"] is not None
    assert after["ingest"].astimezone(toronto).replace(tzinfo=None) == expected.replace(tzinfo=None)
    assert after["review"] == before["review"], "an unchanged job must keep its next run"
    assert {job.id for job in seen["jobs"]} == {"ingest", "review"}
    with Store(settings.database_path) as store:
        assert store.last_job_runs()["review"].message == "kept"
    log = (root / ".spark" / "spark.log").read_text(encoding="utf-8")
    assert "event=job.rescheduled job=ingest" in log
    assert "event=job.unchanged job=review" in log

    # Other settings change the job in place, keeping its next run; a dropped job goes.
    write_settings(root, '  ingest: "0 12 * * *"\n  misfire_grace_seconds: 60\n')
    with scheduler_thread(root, before_resume=lambda s: seen.update(jobs=s.get_jobs())):
        pass
    assert next_runs(root) == {"ingest": after["ingest"]}
    assert [job.misfire_grace_time for job in seen["jobs"]] == [60]


def test_an_unknown_job_name_is_refused_with_its_line(root: Path) -> None:
    write_settings(root, '  ingest: "0 */6 * * *"\n  backup: "0 1 * * *"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(root)
    (problem,) = caught.value.problems
    assert problem.line == 5 and "backup" in problem.message
    assert "ingest, review, render, send" in (problem.fix or "")


def test_a_bad_cron_expression_is_refused_with_its_line(root: Path) -> None:
    write_settings(root, '  ingest: "0 */6 * * *"\n  send: "99 * * * *"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(root)
    (problem,) = caught.value.problems
    assert problem.line == 5 and "'send'" in problem.message


def test_a_second_scheduler_on_the_same_directory_is_refused(root: Path, tmp_path: Path) -> None:
    write_settings(root, '  ingest: "0 0 1 1 *"\n')
    first = spawn(["-m", "spark", "--root", str(root), "schedule"], tmp_path / "first.log")
    try:
        lock = root / ".spark" / "schedule.lock"
        wait_for(
            lambda: lock.exists() and lock.read_text().strip() == str(first.pid),
            "the first scheduler to take the lock",
        )
        second = subprocess.run(
            [sys.executable, "-m", "spark", "--root", str(root), "schedule"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2
        assert f"PID {first.pid}" in second.stderr
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    # Once the first has stopped, the directory is free again.
    with SchedulerLock(root / ".spark"):
        assert (root / ".spark" / "schedule.lock").read_text().strip() != str(first.pid)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_during_a_job_lets_it_finish_and_exits_0(
    root: Path, tmp_path: Path, signum: signal.Signals
) -> None:
    write_settings(root, '  ingest: "* * * * * *"\n')
    log = tmp_path / "scheduler.log"
    proc = spawn(["-m", "tests.schedule.run_scheduler", str(root), f"ingest={SLOW}"], log)
    try:
        wait_for(lambda: (root / "slow.started").exists(), "the slow job to start")
        proc.send_signal(signum)
        wait_for(
            lambda: "event=scheduler.stopping" in log.read_text(encoding="utf-8"),
            "the scheduler to begin stopping",
        )
        assert proc.poll() is None, "the scheduler left before its running job finished"
        (root / "slow.go").touch()
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (root / "slow.finished").exists()
    text = log.read_text(encoding="utf-8")
    assert "waiting_for=ingest" in text
    assert f"event=scheduler.stopped reason={signum.name}" in text
    assert "Traceback" not in text


def test_status_lists_next_run_and_last_result_without_starting_a_scheduler(
    root: Path,
) -> None:
    write_settings(root, '  ingest: "0 */6 * * *"\n  send: "*/15 * * * *"\n')
    settings = load_settings(root)
    fresh = schedule_status(settings)
    assert [(s.name, s.next_run, s.last_run) for s in fresh] == [
        ("ingest", None, None),
        ("send", None, None),
    ]
    with scheduler_thread(root):
        pass
    with Store(settings.database_path) as store:
        started = datetime.now(UTC).replace(microsecond=0)
        run_id = store.start_job_run("ingest", started - timedelta(hours=1))
        store.finish_job_run(run_id, started - timedelta(hours=1), True, "old")
        run_id = store.start_job_run("ingest", started)
        store.finish_job_run(run_id, started, False, "source x failed")
    status = {s.name: s for s in schedule_status(settings)}
    assert status["ingest"].cron == "0 */6 * * *"
    ingest_next = status["ingest"].next_run
    assert ingest_next is not None and ingest_next.hour % 6 == 0 and ingest_next.minute == 0
    assert str(ingest_next.tzinfo) == "America/Toronto"
    last = status["ingest"].last_run
    assert last is not None and last.ok is False and last.message == "source x failed"
    assert status["send"].last_run is None and status["send"].next_run is not None
    console = Console(width=200, record=True)
    console.print(status_table(list(status.values())))
    shown = console.export_text()
    assert "FAILED source x failed" in shown and "never ran" in shown
    # Reading the status did not start anything: the lock is free.
    with SchedulerLock(settings.state_dir):
        pass
