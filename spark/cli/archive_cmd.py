"""`spark archive`: rebuild the past-issues website in site/ from issues/."""

from __future__ import annotations

from pathlib import Path

import click

from spark.cli import cli


@cli.command()
@click.pass_obj
def archive(root: Path) -> None:
    """Rebuild the archive website (site/) and its search index from issues/.

    Only issues with `status: sent` are published. Pages whose content did not change
    are left untouched, and pages of issues no longer present are removed.

    \b
    Example:
      spark archive
      spark --root demo archive && python -m http.server -d demo/site
    """
    from spark.archive import build_site
    from spark.config import load_settings

    settings = load_settings(root)
    report = build_site(settings)
    site = settings.site_dir
    click.echo(
        f"archive: {len(report.issues)} issues published in {site}; "
        f"{report.files_written} files written, {report.files_unchanged} unchanged"
        + (f", {len(report.removed)} removed" if report.removed else "")
        + ("; search index rebuilt" if report.search_rebuilt else "; search index unchanged")
    )
