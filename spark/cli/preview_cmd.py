"""`spark preview [YYYY-MM]`: a local web server for the email and the archive."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from spark.cli import cli
from spark.config import load_settings
from spark.preview import make_server
from spark.review import default_issue
from spark.review_file import validate_issue_name


@cli.command("preview")
@click.argument("issue", required=False, metavar="[YYYY-MM]")
@click.option("--port", default=8025, show_default=True, help="Port on 127.0.0.1 (0 = any).")
@click.pass_obj
def preview_command(root: Path, issue: str | None, port: int) -> None:
    """Serve the email (desktop and 375 px frames) and site/ on 127.0.0.1.

    The issue is rendered again whenever its review file or a template changes, and the
    page reloads itself. Stop with Ctrl-C.

    \b
    Example:
      spark preview 2026-12 --port 8025   # then open http://127.0.0.1:8025/
    """
    settings = load_settings(root)
    name = validate_issue_name(issue) if issue else default_issue(settings, datetime.now(UTC))
    server, preview = make_server(settings, name, port=port)
    host, bound = server.server_address[:2]
    click.echo(f"previewing issue {name} at http://{host!s}:{bound}/ (Ctrl-C to stop)")
    if preview.error:
        click.secho(preview.error, fg="yellow")
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.server_close()
