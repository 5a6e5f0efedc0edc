"""`spark schedule`: run the scheduler daemon in the foreground."""

from __future__ import annotations

from pathlib import Path

import click

from spark.cli import cli


@cli.command()
@click.pass_obj
def schedule(root: Path) -> None:
    """Run the scheduled jobs (ingest, review, render, send) until stopped.

    Jobs and their cron times come from `schedule:` in spark.yaml, in the newsletter's
    time zone. A run missed while the machine was down runs once at start. Only one
    scheduler may run per newsletter directory. Stop it with SIGTERM or Ctrl-C: a running
    job finishes first. Logs go to stderr and .spark/spark.log.

    \b
    Example:
      spark --root /srv/spark schedule
      spark status            # next run and last result of each job
    """
    from spark.schedule import run

    run(root)
