"""`spark send`: a test to editors, or the real send of an approved issue."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

from spark.cli import cli
from spark.config import Settings, load_settings
from spark.errors import InputError, Problem
from spark.mailers import OutboxMailer, mailer_from_env
from spark.review_file import parse_issue, validate_issue_name
from spark.send import SendReport, send_issue, send_test
from spark.store import Store


class _Bar:
    def __init__(self, progress: RichProgress) -> None:
        self.progress = progress
        self.task = progress.add_task("sending", total=None)

    def start(self, total: int) -> None:
        self.progress.update(self.task, total=total)

    def advance(self, recipients: int) -> None:
        self.progress.advance(self.task, recipients)


def default_issue(settings: Settings) -> str:
    """The newest issue under issues/ whose review file says approved."""
    if settings.issues_dir.is_dir():
        for folder in sorted(settings.issues_dir.iterdir(), reverse=True):
            path = folder / "review.yaml"
            if not path.is_file():
                continue
            issue, _ = parse_issue(path.read_text(encoding="utf-8"), path, settings)
            if issue is not None and issue.status == "approved":
                return folder.name
    raise InputError(
        Problem(
            "no approved issue to send",
            settings.issues_dir,
            fix="name the issue (spark send 2026-12 ...) or set `status: approved` in its "
            "review file",
        )
    )


@cli.command()
@click.argument("issue", required=False)
@click.option("--test", "tests", multiple=True, metavar="ADDR", help="Send a test to ADDR.")
@click.option("--confirm", is_flag=True, help="Really send the approved issue to subscribers.")
@click.option(
    "--resend-in-doubt",
    is_flag=True,
    help="Also re-send batches whose earlier request got no answer (may mail some twice).",
)
@click.pass_obj
def send(
    root: Path, issue: str | None, tests: tuple[str, ...], confirm: bool, resend_in_doubt: bool
) -> None:
    """Send ISSUE (YYYY-MM): a test to editors, or the real send.

    Without SENDGRID_API_KEY in the environment, mail is written to .spark/outbox/ instead.

    \b
    Example:
      spark send 2026-12 --test editor@example.org --test other@example.org
      spark send 2026-12 --confirm
      spark send 2026-12 --confirm --resend-in-doubt
    """
    if bool(tests) == confirm:
        raise click.UsageError("give either --test ADDR (a test) or --confirm (the real send)")
    if resend_in_doubt and not confirm:
        raise click.UsageError("--resend-in-doubt goes with --confirm")
    settings = load_settings(root)
    name = validate_issue_name(issue) if issue else default_issue(settings)
    mailer = mailer_from_env(settings)
    if isinstance(mailer, OutboxMailer):
        click.echo(
            f"SENDGRID_API_KEY is not set: writing the mail to {mailer.directory / name}/ "
            "instead of sending it"
        )
    else:
        click.echo(f"sending through {mailer.description}")
    if tests:
        result = send_test(settings, name, tests, mailer=mailer)
        for warning in result.warnings:
            click.secho(f"warning: {warning}", fg="yellow")
        click.echo(
            f"test of {name} ({', '.join(result.editions)}) sent to {', '.join(result.addresses)}"
        )
        return
    with (
        Store(settings.database_path) as store,
        RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as progress,
    ):
        report = send_issue(
            settings,
            store,
            name,
            now=datetime.now(UTC),
            mailer=mailer,
            resend_in_doubt=resend_in_doubt,
            progress=_Bar(progress),
        )
    _print(report, resend_in_doubt)
    if not report.complete:
        sys.exit(1)


def _print(report: SendReport, resend_in_doubt: bool) -> None:
    for lang in sorted(set(report.sent) | set(report.already)):
        click.echo(
            f"{lang}: {report.sent.get(lang, 0)} recipients sent now, "
            f"{report.already.get(lang, 0)} in earlier runs"
        )
    click.echo(f"{report.requests} requests")
    for lang, batch_no, error in report.failed_batches:
        click.secho(f"batch {lang}-{batch_no} failed: {error}", fg="red", err=True)
    for doubt in report.in_doubt:
        click.secho(
            f"batch {doubt.edition}-{doubt.batch_no} is in doubt ({doubt.recipients} recipients): "
            "its request went out but no answer was recorded",
            fg="yellow",
            err=True,
        )
    if report.in_doubt and not resend_in_doubt:
        click.secho(
            "rerun with --resend-in-doubt to send those batches again (some recipients may then "
            "get the issue twice), after checking SendGrid's activity feed",
            fg="yellow",
            err=True,
        )
    if report.error:
        click.secho(f"error: {report.error}", fg="red", err=True)
    if report.complete:
        click.echo(f"issue {report.issue} is sent")
    else:
        click.secho(f"issue {report.issue} is not completely sent", fg="red", err=True)
