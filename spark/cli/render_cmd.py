"""`spark render [YYYY-MM]`: write the email of every edition and report preflight."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from spark.archive import build_site
from spark.cli import cli
from spark.config import load_settings
from spark.render import render_issue
from spark.review import default_issue


@cli.command("render")
@click.argument("issue", required=False, metavar="[YYYY-MM]")
@click.pass_obj
def render_command(root: Path, issue: str | None) -> None:
    """Render the email (HTML and text) of every edition into issues/YYYY-MM/, then
    rebuild the archive in site/.

    Prints the files written and the preflight warnings of each edition (the same rules
    `spark send` enforces). A sent issue is frozen: its email is not rewritten. The archive
    publishes sent issues only, so an approved issue appears there once it is sent.

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
    report = build_site(settings)
    click.echo(
        f"archive: {len(report.written)} file(s) written, {len(report.unchanged)} unchanged "
        f"in {settings.site_dir}"
    )
