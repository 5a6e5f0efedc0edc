"""`spark schedule`: the daemon that runs every stage unattended.

APScheduler 3 (a BlockingScheduler) with its jobs persisted in the store's database, so a
run missed while the machine was down runs once when the scheduler comes back:

- the scheduler starts paused; each job of `schedule:` in spark.yaml is added only when the
  job store lacks it, rescheduled only when its cron changed, modified only when its other
  settings changed — never replaced, since replacing a job drops its missed run;
- coalescing folds the runs missed in a row into one; a run later than the misfire grace
  time is skipped (and APScheduler logs a warning);
- then it resumes.

One scheduler per newsletter directory: `.spark/schedule.lock` is held with flock and
records the holder's PID. SIGTERM and SIGINT stop it cleanly: no new run starts, a running
job finishes, the process exits 0.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from threading import TIMEOUT_MAX
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler

from spark.config import SCHEDULE_JOBS, Settings, load_settings
from spark.cron import cron_trigger
from spark.errors import LockedError
from spark.logs import log_event, setup_logging
from spark.models import JobRun
from spark.store import Store

JOB_TARGETS: Mapping[str, str] = {name: f"spark.jobs:{name}_job" for name in SCHEDULE_JOBS}
LOCK_FILE = "schedule.lock"
WORKERS = 4  # jobs of different names may overlap; one job never overlaps itself

logger = logging.getLogger("spark.schedule")


# --------------------------------------------------------------------------- the lock


class SchedulerLock:
    """An exclusive flock on `.spark/schedule.lock`, which records the holder's PID."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise LockedError(
                f"another `spark schedule` (PID {holder}) is already running for "
                f"{self.path.parent.parent}; only one scheduler may run per newsletter "
                f"directory (lock: {self.path}). Stop it first, e.g. `kill {holder}`."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._fd = fd

    def release(self) -> None:
        # The file stays: removing it would let a third process lock a fresh inode while a
        # second one still holds the old.
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> SchedulerLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# --------------------------------------------------------------------------- the jobs


@dataclass(frozen=True)
class JobSpec:
    """One job as spark.yaml wants it."""

    name: str
    cron: str
    ref: str  # "module:function"
    args: tuple[str, ...]
    misfire_grace_time: int


def job_specs(settings: Settings, targets: Mapping[str, str] | None = None) -> list[JobSpec]:
    """The jobs the settings ask for (pure). TARGETS overrides a job's function."""
    refs = {**JOB_TARGETS, **(targets or {})}
    return [
        JobSpec(
            name,
            cron,
            refs[name],
            (str(settings.root),),
            settings.schedule.misfire_grace_seconds,
        )
        for name, cron in settings.schedule.jobs.items()
    ]


def sync_jobs(scheduler: Any, settings: Settings, specs: list[JobSpec]) -> dict[str, str]:
    """Bring the job store in line with SPECS without dropping a missed run.

    Returns job name -> what was done: added, rescheduled, modified, unchanged, removed.
    """
    actions: dict[str, str] = {}
    wanted = {spec.name for spec in specs}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            scheduler.remove_job(job.id)
            actions[job.id] = "removed"
    for spec in specs:
        trigger = cron_trigger(spec.cron, settings.tz)
        job = scheduler.get_job(spec.name)
        if job is None:
            scheduler.add_job(
                spec.ref,
                trigger=trigger,
                args=list(spec.args),
                id=spec.name,
                name=spec.name,
                misfire_grace_time=spec.misfire_grace_time,
                coalesce=True,
                max_instances=1,
                replace_existing=False,
            )
            actions[spec.name] = "added"
            continue
        action = "unchanged"
        if _trigger_key(job.trigger) != _trigger_key(trigger):
            # A new cron starts from now: runs missed under the old one no longer apply.
            scheduler.reschedule_job(spec.name, trigger=trigger)
            action = "rescheduled"
        changes: dict[str, Any] = {}
        if job.func_ref != spec.ref:
            changes["func"] = spec.ref
        if tuple(job.args) != spec.args:
            changes["args"] = list(spec.args)
        if job.misfire_grace_time != spec.misfire_grace_time:
            changes["misfire_grace_time"] = spec.misfire_grace_time
        if not job.coalesce:
            changes["coalesce"] = True
        if job.max_instances != 1:
            changes["max_instances"] = 1
        if changes:
            scheduler.modify_job(spec.name, **changes)
            action = "rescheduled" if action == "rescheduled" else "modified"
        actions[spec.name] = action
    return actions


def _trigger_key(trigger: Any) -> tuple[str, str]:
    return (str(trigger), str(trigger.timezone))


# --------------------------------------------------------------------------- the scheduler


class SparkScheduler(BlockingScheduler):
    """A BlockingScheduler that syncs its jobs while paused, then resumes, and that can be
    asked to stop from a signal handler (which must not take the locks `shutdown` takes)."""

    def __init__(self, prepare: Callable[[SparkScheduler], None], **options: Any) -> None:
        super().__init__(**options)
        self._prepare = prepare
        self._stop_requested = threading.Event()
        self.ready = threading.Event()
        self.stop_reason = ""

    def request_stop(self, reason: str = "requested") -> None:
        """Stop after the current loop turn; safe from a signal handler or another thread."""
        self.stop_reason = self.stop_reason or reason
        self._stop_requested.set()
        # Event.set takes a lock the interrupted main thread may hold: do it elsewhere.
        threading.Thread(target=self.wakeup, daemon=True).start()

    def _main_loop(self) -> None:
        self._prepare(self)
        self.resume()
        self.ready.set()
        wait_seconds: float | None = TIMEOUT_MAX
        while self.state != STATE_STOPPED and not self._stop_requested.is_set():
            self._event.wait(wait_seconds)
            self._event.clear()
            if self._stop_requested.is_set():
                break
            wait_seconds = self._process_jobs()


def make_scheduler(settings: Settings, prepare: Callable[[SparkScheduler], None]) -> SparkScheduler:
    return SparkScheduler(
        prepare,
        jobstores={"default": SQLAlchemyJobStore(url=settings.database_url)},
        executors={"default": ThreadPoolExecutor(WORKERS)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": settings.schedule.misfire_grace_seconds,
        },
        timezone=settings.tz,
    )


def run(
    root: Path,
    *,
    targets: Mapping[str, str] | None = None,
    handle_signals: bool = True,
    before_resume: Callable[[SparkScheduler], None] | None = None,
) -> None:
    """Run the scheduler of ROOT until SIGTERM/SIGINT (or `request_stop`).

    Raises ConfigError on bad settings and LockedError when another scheduler runs.
    TARGETS replaces a job's function (tests); BEFORE_RESUME sees the scheduler once its
    jobs are in place, before any runs.
    """
    settings = load_settings(root)
    setup_logging(settings.state_dir)
    Store(settings.database_path).close()  # create and migrate before the job store opens
    specs = job_specs(settings, targets)
    with SchedulerLock(settings.state_dir):

        def prepare(scheduler: SparkScheduler) -> None:
            for name, action in sync_jobs(scheduler, settings, specs).items():
                job = scheduler.get_job(name)
                log_event(
                    logger,
                    f"job.{action}",
                    job=name,
                    cron=settings.schedule.jobs.get(name),
                    next_run=_iso(job.next_run_time) if job else None,
                )
            if before_resume is not None:
                before_resume(scheduler)

        scheduler = make_scheduler(settings, prepare)
        if handle_signals:
            _install_signals(scheduler)
        log_event(
            logger,
            "scheduler.starting",
            root=str(settings.root),
            pid=os.getpid(),
            timezone=settings.timezone,
        )
        try:
            scheduler.start(paused=True)
        finally:
            if scheduler.state != STATE_STOPPED:
                running = sorted(
                    {job.id for job in scheduler.get_jobs() if _is_running(scheduler, job.id)}
                )
                log_event(
                    logger,
                    "scheduler.stopping",
                    reason=scheduler.stop_reason or "error",
                    waiting_for=",".join(running) or None,
                )
                scheduler.shutdown(wait=True)
        log_event(logger, "scheduler.stopped", reason=scheduler.stop_reason or "error")


def _is_running(scheduler: Any, job_id: str) -> bool:
    # APScheduler 3 has no public "is this job running"; its executor counts instances.
    executor = scheduler._lookup_executor("default")
    return bool(getattr(executor, "_instances", {}).get(job_id))


def _install_signals(scheduler: SparkScheduler) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        scheduler.request_stop(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


# --------------------------------------------------------------------------- status


@dataclass(frozen=True)
class JobStatus:
    name: str
    cron: str | None  # None: in the job store but no longer in spark.yaml
    next_run: datetime | None  # None: never scheduled yet (no scheduler has run)
    last_run: JobRun | None


def schedule_status(settings: Settings) -> list[JobStatus]:
    """Next run and last result of each job, read from the database; starts nothing."""
    with Store(settings.database_path) as store:
        scheduled = store.scheduled_jobs()
        last = store.last_job_runs()
    names = [*settings.schedule.jobs, *sorted(set(scheduled) - set(settings.schedule.jobs))]
    statuses = []
    for name in names:
        next_run = scheduled.get(name)
        statuses.append(
            JobStatus(
                name,
                settings.schedule.jobs.get(name),
                None if next_run is None else next_run.astimezone(settings.tz),
                last.get(name),
            )
        )
    return statuses


def status_table(statuses: list[JobStatus]) -> Any:
    """A rich Table of the jobs for `spark status`: cron, next run, last result."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Scheduled jobs")
    for column in ("job", "cron", "next run", "last run", "result"):
        table.add_column(column)
    for s in statuses:
        last = s.last_run
        if last is None:
            result = "[dim]never ran[/dim]"
        elif last.ok is None:
            result = "[yellow]running or interrupted[/yellow]"
        elif last.ok:
            result = f"[green]ok[/green] {escape(last.message)}"
        else:
            result = f"[red]FAILED[/red] {escape(last.message)}"
        table.add_row(
            s.name,
            s.cron or "[yellow](not in spark.yaml)[/yellow]",
            _iso(s.next_run) or "[dim]not scheduled (start `spark schedule`)[/dim]",
            _iso(last.started) if last else "",
            result,
        )
    return table
