"""The fast, read-only YAML loader gives what the editors' round-trip parser gives, or steps aside.

`fast_load_yaml` (libyaml) reads review files for the archive, render and send; whenever it
cannot promise the round-trip parser's result, or the issue has a problem, the round-trip
parser reads the file again, so every error keeps its line and column.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.archive import review_text
from spark.config import Settings, load_settings
from spark.errors import ReviewFileError
from spark.files import FastYAMLUnsupported, fast_load_yaml, parse_yaml
from spark.review_file import (
    issue_from_yaml,
    load_review_yaml,
    parse_issue,
    read_clean_issue,
    read_issue,
)

TESTS = Path(__file__).resolve().parent.parent
REVIEW_FILES = sorted(TESTS.glob("*/data/**/review.yaml"))


@pytest.fixture
def archive_settings() -> Settings:
    return load_settings(TESTS / "archive" / "data")


def _full(text: str, path: Path, settings: Settings) -> object:
    """The issue and problems as the round-trip parser alone gives them."""
    return issue_from_yaml(load_review_yaml(text, path), path, settings)


def test_review_files_read_the_same_fast_and_in_full(archive_settings: Settings) -> None:
    assert len(REVIEW_FILES) >= 8
    texts = [(p, p.read_text(encoding="utf-8")) for p in REVIEW_FILES]
    texts.append((Path("generated.yaml"), review_text(7)))
    for path, text in texts:
        assert fast_load_yaml(text) == parse_yaml(text, path), path
        fast = read_clean_issue(text, path, archive_settings)
        assert fast is not None, path
        assert (fast, []) == _full(text, path, archive_settings), path


# A review file with a problem the fast loader cannot see (a duplicate key) or that
# validation finds (an unknown section, a picked item without a blurb).
BROKEN = {
    "duplicate key": "issue: 2026-01\nstatus: sent\nstatus: draft\nitems: []\n",
    "tab": "issue: 2026-01\nitems:\n\t- id: a\n",
    "unclosed quote": 'issue: 2026-01\ntitle: "Spark\nitems: []\n',
    "unknown section": (
        "issue: 2026-01\nstatus: sent\nitems:\n  - id: a\n    pick: yes\n"
        "    section: gossip\n    title: T\n    url: https://example.org/a\n"
        "    blurb: {en: B, fr: C}\n"
    ),
    "no blurb": (
        "issue: 2026-01\nstatus: sent\nitems:\n  - id: a\n    pick: yes\n"
        "    section: research\n    title: T\n    url: https://example.org/a\n"
        "    blurb: {en: B}\n"
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_file_gives_the_same_located_problems(
    name: str, archive_settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "review.yaml"
    text = BROKEN[name]
    path.write_text(text, encoding="utf-8")
    assert read_clean_issue(text, path, archive_settings) is None
    try:
        expected = _full(text, path, archive_settings)
    except ReviewFileError as exc:  # a syntax error: raised, located, the same either way
        with pytest.raises(ReviewFileError) as got:
            parse_issue(text, path, archive_settings)
        assert list(got.value.problems) == list(exc.problems)
        assert all(p.line for p in got.value.problems)
        return
    assert parse_issue(text, path, archive_settings) == expected
    with pytest.raises(ReviewFileError) as raised:
        read_issue(path, archive_settings)
    assert list(raised.value.problems) == expected[1]  # type: ignore[index]
    assert all(p.line and p.column for p in raised.value.problems)


@pytest.mark.parametrize(
    "value",
    ["yes", "No", "on", "1:20", "2026-12", "2026-12-01", "~", "", "true", "FALSE", "'yes'", "x #"],
)
def test_scalars_get_the_types_of_yaml_1_2(value: str) -> None:
    text = f"a: {value}\n"
    assert fast_load_yaml(text) == parse_yaml(text, Path("x.yaml"))


@pytest.mark.parametrize(
    "value", ["1", "0o17", "1_000", "1.5", ".inf", "2026-12-01 09:00:00", "!x y", "<<: {}"]
)
def test_what_the_fast_loader_could_read_differently_is_left_to_the_full_parser(
    value: str,
) -> None:
    with pytest.raises(FastYAMLUnsupported):
        fast_load_yaml(f"a: {value}\n")
    with pytest.raises(FastYAMLUnsupported):
        fast_load_yaml(f"%YAML 1.1\n---\na: {value}\n")


@pytest.mark.parametrize(
    "text",
    ["a: \t\n", "a: x\u2028b: y\n", "&0?0\n", "a: >#\n  x\n", "a: [?]]\n", "a: !\n", "true: x\n"],
)
def test_texts_libyaml_reads_differently_are_left_to_the_full_parser(text: str) -> None:
    # Each was found by the property test below: libyaml reads it, differently or at all.
    with pytest.raises(FastYAMLUnsupported):
        fast_load_yaml(text)


@settings(max_examples=int(os.environ.get("SPARK_FAST_YAML_EXAMPLES", "300")), deadline=None)
@given(
    st.text(
        alphabet=st.one_of(
            st.sampled_from(list("aYn0.1-: ?[]{},#&*!|>'\"%@`\\~\n")),
            st.characters(codec="utf-8", exclude_categories=("Cs",)),
        ),
        max_size=12,
    )
)
def test_any_scalar_the_fast_loader_accepts_reads_the_same(value: str) -> None:
    for text in (f"a: {value}\n", f"- {value}\n", f"a: [{value}]\n"):
        try:
            fast = fast_load_yaml(text)
        except FastYAMLUnsupported:
            continue
        assert fast == parse_yaml(text, Path("x.yaml")), text
