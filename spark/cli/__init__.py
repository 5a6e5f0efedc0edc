"""The `spark` command: a thin layer over the library functions.

Each verb lives in its own module of this package; this one holds the group, the global
options and the translation of SparkError into messages and exit codes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from spark import __version__
from spark.errors import SparkError


class SparkGroup(click.Group):
    """Turns Spark errors into plain messages and exit codes (0 ok, 1 partial, 2 bad input)."""

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


# Each verb's module registers itself on `cli` when imported.
COMMAND_MODULES: tuple[str, ...] = (
    "demo_cmd",
    "ingest_cmd",
    "review_cmd",
    "render_cmd",
    "archive_cmd",
    "send_cmd",
    "subscribers_cmd",
    "status_cmd",
    "schedule_cmd",
    "preview_cmd",
)


def _register() -> None:
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(f"spark.cli.{name}")


_register()
