"""`spark demo [DIR]`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from spark import demo
from spark.cli import cli


@cli.command("demo")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=Path("demo"))
def demo_command(directory: Path) -> None:
    """Build a demo newsletter in DIRECTORY (default ./demo) and run the whole pipeline.

    Offline: the bundled sample feeds are ingested, the review file is written and
    auto-picked, both editions are rendered, the archive is built and the issue is "sent"
    to the outbox (.eml files) of a few demo subscribers.

    \b
    Example:
      spark demo            # then open demo/site/index.html
      spark demo /tmp/spark-demo
    """
    result = demo.run(directory, now=datetime.now(UTC))
    click.echo(f"Demo newsletter in {result.root}")
    click.echo(f"  items stored:   {result.items_stored}")
    click.echo(f"  review file:    {result.review_file}  ({result.picked} items picked)")
    for path in result.emails:
        if path.suffix == ".html":
            click.echo(f"  email:          {path}")
    click.echo(f"  archive index:  {result.site_index}")
    click.echo(f"  outbox:         {result.outbox}  ({result.sent} messages)")
