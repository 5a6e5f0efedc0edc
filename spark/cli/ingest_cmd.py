"""`spark ingest`: fetch every enabled source, with progress and a closing table."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from spark.cli import cli
from spark.config import SOURCES_FILE, load_settings, load_sources
from spark.ingest import IngestReport, ingest
from spark.store import Store

_STYLE = {"ok": "green", "not modified": "dim", "warning": "yellow", "failed": "bold red",
          "waiting": "cyan"}  # fmt: skip


@cli.command("ingest")
@click.option("--only", metavar="ID", help="Fetch just this source (its id in sources.yaml).")
@click.pass_obj
def ingest_command(root: Path, only: str | None) -> None:
    """Fetch every enabled source in sources.yaml and store what is new.

    Exits 1 when any source failed (the others are still stored); `spark status` then
    shows what went wrong.

    \b
    Examples:
      spark ingest
      spark ingest --only ontario-research
    """
    settings = load_settings(root)
    sources = load_sources(root / SOURCES_FILE, settings)
    console = Console(stderr=True)
    with (
        Store(settings.database_path) as store,
        Progress(
            TextColumn("fetching"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("", total=None)

        def advance(source_id: str, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, description=source_id)

        report = ingest(
            settings, sources, store, now=datetime.now(UTC), only=only, on_progress=advance
        )
    Console().print(report_table(report))
    if report.failed:
        click.echo(
            f"{len(report.failed)} source(s) failed; see `spark status` for their history.",
            err=True,
        )
        sys.exit(1)


def report_table(report: IngestReport) -> Table:
    table = Table(title=f"Ingest: {report.new} new, {report.updated} updated "
                  f"in {report.seconds:.1f} s")  # fmt: skip
    for name in ("source", "result", "new", "updated", "unchanged", "note"):
        table.add_column(
            name, justify="right" if name in ("new", "updated", "unchanged") else "left"
        )
    for s in sorted(report.sources, key=lambda s: (s.status != "failed", s.source_id)):
        note = s.message or ""
        if s.duplicates:
            note = f"{s.duplicates} also covered elsewhere" + (f"; {note}" if note else "")
        if s.filtered:
            note = f"{s.filtered} left out by keywords" + (f"; {note}" if note else "")
        table.add_row(
            s.source_id,
            f"[{_STYLE[s.status]}]{s.status}[/]",
            str(s.new),
            str(s.updated),
            str(s.unchanged),
            note,
        )
    return table
