"""`spark status`: the health of the newsletter, one panel per concern.

Each concern is its own function returning a renderable (source health now; the current
issue, the last send and the next scheduled runs are added by their stages).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console, RenderableType
from rich.table import Table

from spark.cli import cli
from spark.config import SOURCES_FILE, Settings, load_settings, load_sources
from spark.models import Source, SourceState
from spark.store import Store

Panel = Callable[[Settings, Store, datetime], RenderableType | None]


@cli.command("status")
@click.pass_obj
def status_command(root: Path) -> None:
    """Show source health (broken sources first) and the state of the newsletter.

    \b
    Example:
      spark status
      spark --root demo status
    """
    settings = load_settings(root)
    console = Console()
    now = datetime.now(UTC)
    with Store(settings.database_path) as store:
        for panel in PANELS:
            shown = panel(settings, store, now)
            if shown is not None:
                console.print(shown)


def sources_panel(settings: Settings, store: Store, now: datetime) -> RenderableType:
    sources = load_sources(settings.root / SOURCES_FILE, settings)
    return source_health_table(sources, store.source_states(), now)


def source_health_table(
    sources: Sequence[Source], states: dict[str, SourceState], now: datetime
) -> Table:
    """Broken sources first (most consecutive failures on top), then the rest by id."""
    table = Table(title="Sources")
    for name in ("source", "health", "last success", "HTTP", "failures", "items", "problem"):
        table.add_column(name, justify="right" if name in ("HTTP", "failures", "items") else "left")

    def order(source: Source) -> tuple[int, int, str]:
        state = states.get(source.id) or SourceState(source.id)
        return (0 if state.consecutive_failures else 1, -state.consecutive_failures, source.id)

    for source in sorted(sources, key=order):
        state = states.get(source.id) or SourceState(source.id)
        table.add_row(
            source.id,
            _health(source, state, now),
            _ago(state.last_success, now),
            "" if state.http_status is None else str(state.http_status),
            str(state.consecutive_failures),
            str(state.items_total),
            state.last_error or "",
        )
    return table


def _health(source: Source, state: SourceState, now: datetime) -> str:
    if not source.enabled:
        return "[dim]disabled[/]"
    if state.retry_after is not None and state.retry_after > now:
        return f"[cyan]waiting until {state.retry_after:%Y-%m-%d %H:%M} UTC[/]"
    if state.consecutive_failures:
        return "[bold red]broken[/]"
    if state.last_fetch is None:
        return "[dim]never fetched[/]"
    if state.last_error:
        return "[yellow]warning[/]"
    return "[green]ok[/]"


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "never"
    seconds = (now - when).total_seconds()
    if seconds < 3600:
        return f"{max(seconds, 0) / 60:.0f} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def issue_panel(settings: Settings, store: Store, now: datetime) -> RenderableType:
    """The current issue: its state, picks per section and what is still undecided."""
    from spark.review import default_issue, review_path
    from spark.review_file import parse_issue

    name = default_issue(settings, now)
    path = review_path(settings, name)
    if not path.exists():
        return f"Issue {name}: no review file yet (run `spark review {name}`)"
    issue, problems = parse_issue(path.read_text(encoding="utf-8"), path, settings)
    if issue is None:
        return f"Issue {name}: the review file cannot be read; run `spark review --check`"
    picked = ", ".join(f"{s} {len(issue.picked(s))}" for s in issue.sections)
    undecided = sum(1 for i in issue.items if i.pick is None)
    text = f"Issue {name}: [bold]{issue.status}[/]; picked {picked}; {undecided} undecided"
    if issue.send_at is not None:
        text += f"; sends at {issue.send_at:%Y-%m-%d %H:%M %Z}"
    if problems:
        text += f"\n  [yellow]{len(problems)} problem(s): run `spark review --check`[/]"
    return text


def send_panel(settings: Settings, store: Store, now: datetime) -> RenderableType | None:
    from spark.send import last_send_summary

    summary = last_send_summary(store)
    if summary is None:
        return "Last send: none yet"
    table = Table(title=f"Last send: issue {summary.issue}")
    for name in ("edition", "status", "started", "recipients", "batches", "failed", "in doubt",
                 "message ids"):  # fmt: skip
        table.add_column(name)
    for e in summary.editions:
        table.add_row(
            e.edition, e.status, f"{e.started:%Y-%m-%d %H:%M} UTC", str(e.recipients),
            str(e.batches), str(e.failed), str(e.in_doubt), ", ".join(e.message_ids[:3])
            + (" …" if len(e.message_ids) > 3 else ""),
        )  # fmt: skip
    return table


def consent_panel(settings: Settings, store: Store, now: datetime) -> RenderableType | None:
    from spark.subscribers import expiring_consents

    expiring = expiring_consents(store, now)
    if not expiring:
        return None
    lines = [f"[yellow]{len(expiring)} implied consent(s) lapse within 60 days[/] "
             "(ask these subscribers to confirm, or they stop receiving Spark):"]  # fmt: skip
    lines += [f"  {sub.email}: {expires.isoformat()}" for sub, expires in expiring[:10]]
    return "\n".join(lines)


def schedule_panel(settings: Settings, store: Store, now: datetime) -> RenderableType | None:
    from spark.schedule import schedule_status, status_table

    if not settings.schedule.jobs:
        return None
    return status_table(schedule_status(settings))


PANELS: list[Panel] = [sources_panel, issue_panel, send_panel, consent_panel, schedule_panel]
