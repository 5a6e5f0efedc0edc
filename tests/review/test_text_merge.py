"""The text-level merge writes the very bytes of the full ruamel round trip.

Each scenario is played twice, in two newsletter directories built the same way: once with
the text merge, once with `text_merge=False` (the round trip). The files, their backups and
the refresh's counts must be identical.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from spark.config import load_settings
from spark.files import dump_yaml
from spark.models import Item
from spark.review import RefreshResult, refresh, review_path
from spark.review_file import load_review_yaml
from spark.review_layout import split_header
from spark.store import Store
from tests.review.test_property import _apply as apply_edit
from tests.review.test_property import edit_st
from tests.support.review import NOW, make_item, make_newsletter

ISSUE = "2026-12"
LATER = NOW + timedelta(days=3)

# Edits made in a text editor after the structured ones: comment lines (at column 0 or
# indented) and blank lines before an item, end-of-line comments on machine fields.
text_edit_st = st.tuples(
    st.sampled_from(["comment0", "comment2", "blank", "eol-title", "eol-tags", "trailing"]),
    st.integers(0, 99),
)
# What arrives in the store before the refresh: corrected titles, a new image, a near
# duplicate from another source (a new `also_covered_by`), and new items.
store_edit_st = st.tuples(st.sampled_from(["title", "image", "duplicate"]), st.integers(0, 99))


@dataclass(frozen=True)
class Scenario:
    first: int
    images: frozenset[int]
    edits: tuple[tuple[str, int, Any], ...]
    text_edits: tuple[tuple[str, int], ...]
    store_edits: tuple[tuple[str, int], ...]
    later: int


def _item(n: int, images: frozenset[int]) -> Item:
    item = make_item(n)
    return replace(item, image_url=f"https://img.example.org/{n}.jpg") if n in images else item


def _text_edit(text: str, kind: str, index: int) -> str:
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.startswith("  - id: ")]
    if not starts:
        return text
    at = starts[index % len(starts)]
    if kind == "comment0":
        lines.insert(at, f"# editor's note {index}\n")
    elif kind == "comment2":
        lines.insert(at, f"  # editor's note {index}\n")
    elif kind == "blank":
        lines.insert(at, "\n")
    elif kind == "trailing":
        lines.append(f"# the end {index}\n")
    else:
        key = "    title: " if kind == "eol-title" else "    tags: "
        found = [i for i, line in enumerate(lines) if i > at and line.startswith(key)]
        if found:
            lines[found[0]] = lines[found[0]].rstrip("\n") + f"  # checked {index}\n"
    return "".join(lines)


def play(root: Path, s: Scenario, *, text_merge: bool) -> tuple[bytes, bytes, RefreshResult]:
    settings = load_settings(make_newsletter(root, cap=1000))
    with Store(settings.database_path) as store:
        stored = [_item(n, s.images) for n in range(s.first)]
        store.save_items(stored)
        refresh(settings, store, ISSUE, now=NOW)
        path = review_path(settings, ISSUE)

        body, _ = split_header(path.read_text("utf-8"))
        data = load_review_yaml(body, path)
        for edit in s.edits:
            apply_edit(data["items"], edit, [])
        text = dump_yaml(data)
        for kind, index in s.text_edits:
            text = _text_edit(text, kind, index)
        path.write_text(text, "utf-8")

        changed: list[Item] = []
        for n, (kind, index) in enumerate(s.store_edits):
            item = stored[index % len(stored)]
            if kind == "title":
                changed.append(replace(item, title=f"Corrected {n}", content_hash=f"c{n}"))
            elif kind == "image":
                url = f"https://img.example.org/new-{n}.jpg"
                changed.append(replace(item, image_url=url, content_hash=f"i{n}"))
            else:
                changed.append(make_item(500 + n, source=(n + 1) % 4, duplicate_of=item.id))
        store.save_items(changed)
        store.save_items(
            make_item(1000 + n, prefix="new", first_seen=LATER) for n in range(s.later)
        )
        result = refresh(settings, store, ISSUE, now=LATER, text_merge=text_merge)
    return path.read_bytes(), path.with_name("review.yaml.bak").read_bytes(), result


scenario_st = st.builds(
    Scenario,
    first=st.integers(1, 12),
    images=st.frozensets(st.integers(0, 12), max_size=4),
    edits=st.lists(edit_st, max_size=12).map(tuple),
    text_edits=st.lists(text_edit_st, max_size=3).map(tuple),
    store_edits=st.lists(store_edit_st, max_size=3).map(tuple),
    later=st.integers(0, 8),
)


def _same(tmp: Path, s: Scenario) -> RefreshResult:
    text, backup, fast = play(tmp / "text", s, text_merge=True)
    text_rt, backup_rt, slow = play(tmp / "round-trip", s, text_merge=False)
    assert not slow.text_merge
    assert text.decode() == text_rt.decode()
    assert backup == backup_rt
    assert replace(fast, path=slow.path, text_merge=False) == slow
    return fast


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=scenario_st)
def test_the_text_merge_writes_what_the_round_trip_writes(s: Scenario) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        fast = _same(Path(tmp), s)
    event("text merge" if fast.text_merge else "round trip")


def test_the_daily_refresh_is_a_text_merge(tmp_path: Path) -> None:
    """New items, a corrected title, a new image and a near duplicate: all spliced."""
    s = Scenario(
        first=10,
        images=frozenset({2}),
        edits=(("pick", 1, "yes"), ("pick", 4, "no"), ("blurb", 1, ("fr", "Un résumé.")),
               ("move", 7, 0), ("comment", 3, "à revoir")),
        text_edits=(("eol-title", 5),),
        store_edits=(("title", 3), ("image", 6), ("duplicate", 8)),
        later=5,
    )  # fmt: skip
    fast = _same(tmp_path, s)
    assert fast.text_merge
    assert (fast.added, fast.updated) == (5, 3)
    text = review_path(load_settings(tmp_path / "text"), ISSUE).read_text("utf-8")
    assert "title: Corrected 0" in text and "image_alt: ''" in text
    assert "also_covered_by:" in text and "# à revoir" in text


def test_a_splice_next_to_an_editors_comment_is_left_to_the_round_trip(tmp_path: Path) -> None:
    # A comment line after every item: wherever the new item goes, ruamel decides whether
    # it comes before or after the comment, so the text merge steps aside.
    s = Scenario(1, frozenset(), (), (("trailing", 0),), (), later=1)
    fast = _same(tmp_path, s)
    assert not fast.text_merge and fast.added == 1
    assert "# the end 0" in (tmp_path / "text" / "issues" / ISSUE / "review.yaml").read_text()


def _refresh_edited(tmp_path: Path, edit: Callable[[bytes], bytes]) -> tuple[RefreshResult, Path]:
    """A file of three items, edited by `edit`, then refreshed with one new item."""
    settings = load_settings(make_newsletter(tmp_path / "n"))
    with Store(settings.database_path) as store:
        store.save_items([make_item(n) for n in range(3)])
        refresh(settings, store, ISSUE, now=NOW)
        path = review_path(settings, ISSUE)
        path.write_bytes(edit(path.read_bytes()))
        store.save_items([make_item(9, prefix="new", first_seen=LATER)])
        return refresh(settings, store, ISSUE, now=LATER), path


def test_a_file_indented_differently_is_left_to_the_round_trip(tmp_path: Path) -> None:
    # The dashes at the left margin: valid YAML, but new items written at Spark's
    # indentation would not belong to the list.
    result, path = _refresh_edited(
        tmp_path, lambda b: b.replace(b"\n  - id: ", b"\n- id: ").replace(b"\n    ", b"\n  ")
    )
    assert not result.text_merge and result.added == 1
    ids = [n["id"] for n in load_review_yaml(path.read_text("utf-8"), path)["items"]]
    assert len(ids) == 4 and make_item(9, prefix="new").id in ids


def test_windows_line_ends_are_read_as_any_other(tmp_path: Path) -> None:
    result, path = _refresh_edited(tmp_path, lambda b: b.replace(b"\n", b"\r\n"))
    assert result.text_merge and result.added == 1
    assert b"\r" not in path.read_bytes()  # written as the round trip writes it
    assert re.search(rb"- id: [a-z-]+-new-000009\n", path.read_bytes())
