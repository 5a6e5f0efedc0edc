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


# Other stages append their panels here (current issue, last send, next scheduled runs).
PANELS: list[Panel] = [sources_panel]
