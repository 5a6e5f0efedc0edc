"""The command line contract: help and an example on every verb, exit codes, --version."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from spark import __version__
from spark.cli import cli

VERBS = ["demo", "ingest", "review", "render", "archive", "send", "subscribers", "status",
         "schedule", "preview"]  # fmt: skip


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_help_lists_every_verb() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for verb in VERBS:
        assert f"  {verb} " in result.output, verb


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_has_help_with_an_example(verb: str) -> None:
    result = CliRunner().invoke(cli, [verb, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output


def test_console_entry_point_runs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "spark", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and __version__ in out.stdout


@pytest.mark.parametrize(
    ("edit", "line", "words"),
    [
        ("    colour: blue\n", 9, "unknown key 'colour'"),
        (
            "  - id: demo-a\n    name: Copy\n    url: https://x.example.ca/f\n",
            9,
            "duplicate source id",
        ),
    ],
)
def test_bad_sources_file_exits_2_and_writes_nothing(
    newsletter: Path, edit: str, line: int, words: str
) -> None:
    (newsletter / "sources.yaml").write_text(
        "sources:\n  - id: demo-a\n    name: A\n    url: https://a.example.ca/feed\n"
        "    section: research\n    language: en\n    region: ON\n    tags: [x]\n" + edit,
        encoding="utf-8",
    )
    before = sorted(p.name for p in newsletter.iterdir())
    result = CliRunner().invoke(cli, ["--root", str(newsletter), "ingest"])
    assert result.exit_code == 2, result.output
    assert f"sources.yaml:{line}" in result.output and words in result.output
    assert "fix:" in result.output
    assert sorted(p.name for p in newsletter.iterdir()) == before  # no .spark/, nothing written


def test_bad_section_in_sources_exits_2(newsletter: Path) -> None:
    shutil.copy(
        Path(__file__).parents[2] / "examples/demo/sources.yaml", newsletter / "sources.yaml"
    )
    text = (newsletter / "sources.yaml").read_text(encoding="utf-8")
    (newsletter / "sources.yaml").write_text(text.replace("section: research", "section: news", 1))
    result = CliRunner().invoke(cli, ["--root", str(newsletter), "ingest"])
    assert result.exit_code == 2
    assert "'news' is not allowed; use one of: research, practices, ideas" in result.output
