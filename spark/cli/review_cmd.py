"""`spark review`: create or refresh an issue's review file, or check it."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from spark.cli import cli
from spark.config import load_settings
from spark.review import check, default_issue, refresh
from spark.review_file import validate_issue_name
from spark.store import Store


@cli.command("review")
@click.argument("issue", required=False, metavar="[YYYY-MM]")
@click.option("--check", "check_only", is_flag=True, help="Only validate the file; change nothing.")
@click.pass_obj
def review_command(root: Path, issue: str | None, check_only: bool) -> None:
    """Create or refresh issues/YYYY-MM/review.yaml, or validate it with --check.

    A refresh adds the candidates that arrived since, ranked, and keeps every decision,
    edit, ordering and comment of the editors. YYYY-MM defaults to the next issue.
    Exit 2 when the file has problems (each printed as file:line:column and a fix).

    \b
    Examples:
      spark review              # the next issue
      spark review 2026-12
      spark review 2026-12 --check
    """
    settings = load_settings(root)
    now = datetime.now(UTC)
    issue = validate_issue_name(issue) if issue else default_issue(settings, now)
    if check_only:
        problems = check(settings, issue)
        for problem in problems:
            click.echo(str(problem))
        if problems:
            click.secho(
                f"{len(problems)} problem(s) in the {issue} review file", fg="red", err=True
            )
            sys.exit(2)
        click.echo(f"{issue}: the review file has no problems")
        return
    with Store(settings.database_path) as store:
        result = refresh(settings, store, issue, now=now)
    verb = "created" if result.created else ("updated" if result.written else "unchanged")
    click.echo(
        f"{result.path}: {verb} — {result.added} new candidate(s), {result.updated} updated, "
        f"{result.undecided} undecided"
    )
    if result.held_back:
        click.echo(
            f"{result.held_back} more candidate(s) wait: the file holds at most "
            f"{settings.review.max_undecided} undecided items (review.max_undecided); "
            "decide or delete some and refresh again"
        )
    problems = check(settings, issue)
    if problems:
        click.echo(f"still to fix before approving ({len(problems)}):")
        for problem in problems:
            click.echo(str(problem))
