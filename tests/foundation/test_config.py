"""spark.yaml and sources.yaml validation: every problem located, with a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from spark.config import load_settings, load_sources
from spark.errors import ConfigError

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"

GOOD = """\
sources:
  - id: good-one
    name: Good
    url: https://research.example.ca/feed.xml
    section: research
    language: en
    region: ON
"""


def _load(newsletter: Path, text: str) -> ConfigError:
    path = newsletter / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_sources(path, load_settings(newsletter))
    return info.value


def test_demo_settings_and_sources_load() -> None:
    settings = load_settings(DEMO)
    assert settings.editions == ("en", "fr")
    assert settings.section("research") is not None
    assert settings.section("research").label("fr") == "Recherche et analyses"  # type: ignore[union-attr]
    sources = load_sources(DEMO / "sources.yaml", settings)
    assert len(sources) >= 8
    assert all(s.url.startswith("file://") for s in sources)
    assert {s.language for s in sources} >= {"en", "fr", "auto"}


def test_production_sources_load() -> None:
    repo = DEMO.parents[1]
    sources = load_sources(repo / "sources.yaml", load_settings(DEMO))
    assert all(s.url.startswith("https://") or s.url.startswith("http://") for s in sources)


def test_unknown_key_names_line_and_allowed_keys(newsletter: Path) -> None:
    err = _load(newsletter, GOOD + "    colour: blue\n")
    (problem,) = err.problems
    assert problem.line == 8
    assert "unknown key 'colour'" in problem.message
    assert problem.fix and "section" in problem.fix and "region" in problem.fix
    assert str(newsletter / "sources.yaml") + ":8" in str(err)


def test_bad_url(newsletter: Path) -> None:
    err = _load(newsletter, GOOD.replace("https://research.example.ca/feed.xml", "htp:/broken"))
    (problem,) = err.problems
    assert problem.line == 4 and "unsupported address scheme" in problem.message
    err = _load(newsletter, GOOD.replace("https://research.example.ca/feed.xml", "https://"))
    assert err.problems[0].line == 4 and "not a valid web address" in err.problems[0].message


def test_duplicate_id_points_at_both_lines(newsletter: Path) -> None:
    text = GOOD + GOOD.removeprefix("sources:\n")
    err = _load(newsletter, text)
    (problem,) = err.problems
    assert problem.line == 8
    assert "duplicate source id 'good-one' (first used on line 2)" in problem.message


def test_bad_section_lists_allowed_values(newsletter: Path) -> None:
    err = _load(newsletter, GOOD.replace("section: research", "section: news"))
    (problem,) = err.problems
    assert problem.line == 5
    assert "'news' is not allowed" in problem.message
    assert "research, practices, ideas" in problem.message


def test_every_problem_reported_at_once(newsletter: Path) -> None:
    text = GOOD.replace("region: ON", "region: Ontario").replace("language: en", "language: de")
    err = _load(newsletter, text)
    assert [p.line for p in err.problems] == [6, 7]


def test_yaml_syntax_error_has_line_and_column(newsletter: Path) -> None:
    err = _load(newsletter, GOOD.replace("name: Good", 'name: "Good'))
    # The quote that was never closed, not the end of the file where the parser gave up.
    assert (err.problems[0].line, err.problems[0].column) == (3, 11)
    assert "not valid YAML" in err.problems[0].message


def test_settings_problems(newsletter: Path) -> None:
    (newsletter / "spark.yaml").write_text(
        "name: Spark\neditions: [en, de]\ntimezone: Mars/Olympus\nsendgrid:\n  batch_size: -1\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_settings(newsletter)
    lines = sorted(p.line or 0 for p in info.value.problems)
    assert lines == [2, 3, 5]


def test_missing_settings_file_gives_embedded_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert settings.database_path == tmp_path.resolve() / ".spark" / "spark.db"
    assert settings.timezone == "America/Toronto"
