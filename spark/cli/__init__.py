"""The `spark` command: a thin layer over the library functions.

Each verb lives in its own module of this package; this one holds the group, the global
options and the translation of SparkError into messages and exit codes.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from spark import __version__
from spark.errors import SparkError

# The verbs; each lives in `spark.cli.<verb>_cmd`, which registers itself on `cli`.
VERBS: tuple[str, ...] = ("demo", "ingest", "review", "render", "archive", "send",
                          "subscribers", "status", "schedule", "preview")  # fmt: skip


class SparkGroup(click.Group):
    """Turns Spark errors into plain messages and exit codes (0 ok, 1 partial, 2 bad input).

    A verb's module is imported when that verb is asked for: `spark ingest` does not load
    the renderer, the mailer and the scheduler, and neither do its parse workers, which
    import the command's main module when they start."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*VERBS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in VERBS and cmd_name not in self.commands:
            importlib.import_module(f"spark.cli.{cmd_name}_cmd")
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except SparkError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=SparkGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="spark")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    envvar="SPARK_ROOT",
    help="The newsletter directory (holds spark.yaml, sources.yaml, templates/, issues/).",
)
@click.pass_context
def cli(ctx: click.Context, root: Path) -> None:
    """Spark: gather education research, curate an issue, render it and send it.

    \b
    Example:
      spark demo            # build ./demo from the bundled sample feeds and run everything
      spark --root demo status
    """
    ctx.obj = root


def main() -> None:
    cli(prog_name="spark")
