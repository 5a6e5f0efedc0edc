"""`spark render [YYYY-MM]`: write the email of every edition and report preflight."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from spark.cli import cli
from spark.config import Settings, load_settings
from spark.render import render_issue


def default_issue(settings: Settings, now: datetime) -> str:
    """The next issue: next month's if its review file exists, else the newest issue."""
    local = now.astimezone(settings.tz)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    upcoming = f"{year:04d}-{month:02d}"
    if (settings.issues_dir / upcoming / "review.yaml").exists():
        return upcoming
    existing = sorted(p.parent.name for p in settings.issues_dir.glob("*-*/review.yaml"))
    return existing[-1] if existing else upcoming


@cli.command("render")
@click.argument("issue", required=False, metavar="[YYYY-MM]")
@click.pass_obj
def render_command(root: Path, issue: str | None) -> None:
    """Render the email (HTML and text) of every edition into issues/YYYY-MM/.

    Prints the files written and the preflight warnings of each edition (the same rules
    `spark send` enforces). A sent issue is frozen: its email is not rewritten.

    \b
    Example:
      spark render 2026-12
    """
    from datetime import UTC

    settings = load_settings(root)
    name = issue or default_issue(settings, datetime.now(UTC))
    result = render_issue(settings, name)
    if result.frozen:
        click.echo(f"issue {name} was sent: its email is frozen and was not rewritten")
    for path in result.written:
        click.echo(f"wrote {path}")
    if not result.frozen and not result.written:
        click.echo(f"issue {name}: the email files were already up to date")
    for language, warnings in result.warnings.items():
        if warnings:
            click.secho(f"preflight ({language}): {len(warnings)} problem(s)", fg="yellow")
            for warning in warnings:
                click.echo(f"  - {warning}")
        else:
            click.echo(f"preflight ({language}): ok")
