"""`spark subscribers import|list|export|remove`: the mailing list and its consent records."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from spark import subscribers as subs
from spark.cli import cli
from spark.config import load_settings
from spark.files import atomic_write_text
from spark.store import Store


@cli.group()
def subscribers() -> None:
    """Subscribers and their consent (CASL): import a CSV, list, export, remove.

    \b
    Example:
      spark subscribers import subscribers.csv
      spark subscribers list
      spark subscribers export backup.csv
      spark subscribers remove someone@example.org
    """


@subscribers.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--skip-bad", is_flag=True, help="Import the good rows even if some rows are bad.")
@click.pass_obj
def import_(root: Path, file: Path, skip_bad: bool) -> None:
    """Add or update subscribers from a CSV file (header row; columns email, name, language,
    consent, consent_date, consent_source). Running it twice changes nothing.

    \b
    Example:
      spark subscribers import subscribers.csv
      spark subscribers import subscribers.csv --skip-bad
    """
    settings = load_settings(root)
    with Store(settings.database_path) as store:
        report = subs.import_csv(store, file, settings, now=datetime.now(UTC), skip_bad=skip_bad)
    for problem in report.bad:
        click.secho(f"skipped {problem}", fg="yellow", err=True)
    click.echo(f"{report.read} rows read, {report.changed} subscribers added or updated")


@subscribers.command("list")
@click.option(
    "--status",
    type=click.Choice(["active", "unsubscribed", "bounced"]),
    help="Only subscribers with this status.",
)
@click.pass_obj
def list_(root: Path, status: str | None) -> None:
    """Show subscribers, their language and consent.

    \b
    Example:
      spark subscribers list --status active
    """
    settings = load_settings(root)
    now = datetime.now(UTC)
    with Store(settings.database_path) as store:
        rows = subs.list_subscribers(store, status=status)
    table = Table()
    table.add_column("email", no_wrap=True, min_width=max((len(s.email) for s in rows), default=5))
    for title in ("name", "lang", "status", "consent", "date", "source", "mailed"):
        table.add_column(title)
    for s in rows:
        expires = subs.consent_expires(s)
        consent = s.consent + (f" (until {expires})" if expires else "")
        table.add_row(
            s.email,
            s.name,
            s.language,
            s.status,
            consent,
            s.consent_date,
            s.consent_source,
            "yes" if subs.mailable(s, now) else "no",
        )
    Console().print(table)
    click.echo(f"{len(rows)} subscribers")


@subscribers.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.pass_obj
def export(root: Path, file: Path | None) -> None:
    """Write every subscriber (with status) as CSV, to FILE or the screen.

    \b
    Example:
      spark subscribers export subscribers-backup.csv
    """
    settings = load_settings(root)
    with Store(settings.database_path) as store:
        text = subs.export_csv(store)
    if file is None:
        click.echo(text, nl=False)
    else:
        atomic_write_text(file, text)
        click.echo(f"wrote {file}")


@subscribers.command("remove")
@click.argument("email")
@click.pass_obj
def remove(root: Path, email: str) -> None:
    """Stop mailing an address. It stays on record as unsubscribed, so a later import of
    an old list does not add it back.

    \b
    Example:
      spark subscribers remove someone@example.org
    """
    settings = load_settings(root)
    with Store(settings.database_path) as store:
        found = subs.remove(store, email, now=datetime.now(UTC))
    if not found:
        raise click.ClickException(f"{email} is not a subscriber")
    click.echo(f"{email} is unsubscribed and will not be mailed")
