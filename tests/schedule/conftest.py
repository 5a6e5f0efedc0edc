"""Helpers for the scheduler tests: a newsletter directory with a chosen schedule, the real
scheduler in a thread of the test process, and in a process of its own."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from spark.schedule import SparkScheduler, run
from tests.support.processes import wait_for

RECORD = "tests.schedule.jobs_for_tests:record"
SLOW = "tests.schedule.jobs_for_tests:slow"


def write_settings(root: Path, schedule: str) -> None:
    (root / "spark.yaml").write_text(
        f"name: Spark test\ntimezone: America/Toronto\nschedule:\n{schedule}", encoding="utf-8"
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "newsletter"
    path.mkdir()
    return path


@contextmanager
def scheduler_thread(
    root: Path,
    targets: dict[str, str] | None = None,
    before_resume: Callable[[SparkScheduler], None] | None = None,
) -> Iterator[SparkScheduler]:
    """`spark.schedule.run` in a thread; stopped (and joined) when the block ends."""
    seen: dict[str, Any] = {}

    def hook(scheduler: SparkScheduler) -> None:
        seen["scheduler"] = scheduler
        if before_resume is not None:
            before_resume(scheduler)

    def target() -> None:
        try:
            run(root, targets=targets, handle_signals=False, before_resume=hook)
        except BaseException as exc:  # re-raised in the test's thread
            seen["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    wait_for(lambda: "error" in seen or ("scheduler" in seen and seen["scheduler"].ready.is_set()),
             "the scheduler to start")  # fmt: skip
    if "error" in seen:
        raise seen["error"]
    scheduler: SparkScheduler = seen["scheduler"]
    try:
        yield scheduler
    finally:
        scheduler.request_stop("test")
        thread.join(15)
        assert not thread.is_alive(), "the scheduler did not stop"
    if "error" in seen:
        raise seen["error"]


def write_review(root: Path, issue: str, status: str, send_at: str | None) -> Path:
    """A valid review file of one picked item, in both editions."""
    folder = root / "issues" / issue
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "review.yaml"
    when = f"send_at: {send_at}\n" if send_at else ""
    path.write_text(
        f"""issue: {issue}
status: {status}
{when}title: {{en: Spark test issue, fr: Numéro d'essai de Spark}}
subject: {{en: Spark — test issue, fr: Spark — numéro d'essai}}
preheader: {{en: One item to read, fr: Un article à lire}}
intro: {{en: Welcome to this issue., fr: Bienvenue dans ce numéro.}}
sections: [research, practices, ideas]
items:
  - id: demo-source-0001
    pick: yes
    section: research
    title: Reading gains in early grades
    url: https://example.org/research/reading-gains
    source: Demo Source
    date: 2026-11-02
    language: en
    region: national
    format: report
    blurb:
      en: A national study of reading gains in the early grades.
      fr: Une étude nationale sur les progrès en lecture au primaire.
""",
        encoding="utf-8",
    )
    return path
