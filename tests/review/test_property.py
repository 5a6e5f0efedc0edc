"""Acceptance: random editor edits, then a refresh with new candidates; nothing is lost."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from ruamel.yaml.comments import CommentedMap

from spark.config import load_settings
from spark.files import dump_yaml
from spark.review import refresh, review_path
from spark.review_file import load_review_yaml, parse_pick
from spark.review_layout import split_header
from spark.store import Store
from tests.support.review import NOW, SECTIONS, make_item, make_newsletter

ISSUE = "2026-12"
text_st = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\ufeff\x85"
    ),
    min_size=1,
    max_size=60,
)
comment_st = st.from_regex(r"[A-Za-z0-9 éà,.]{1,30}", fullmatch=True)

edit_st = st.one_of(
    st.tuples(st.just("pick"), st.integers(0, 99), st.sampled_from(["yes", "no", True, False])),
    st.tuples(st.just("unpick"), st.integers(0, 99), st.none()),
    st.tuples(st.just("section"), st.integers(0, 99), st.sampled_from(SECTIONS)),
    st.tuples(
        st.just("blurb"), st.integers(0, 99), st.tuples(st.sampled_from(["en", "fr"]), text_st)
    ),
    st.tuples(st.just("note"), st.integers(0, 99), text_st),
    st.tuples(st.just("move"), st.integers(0, 99), st.integers(0, 99)),
    st.tuples(st.just("comment"), st.integers(0, 99), comment_st),
    st.tuples(st.just("delete"), st.integers(0, 99), st.none()),
)


def _body(path: Path) -> Any:
    body, _ = split_header(path.read_text("utf-8"))
    return load_review_yaml(body, path)


def _apply(items: Any, edit: tuple[str, int, Any], comments: list[str]) -> None:
    kind, index, arg = edit
    if not items:
        return
    node: CommentedMap = items[index % len(items)]
    if kind == "pick":
        node["pick"] = arg
    elif kind == "unpick":
        node["pick"] = None
    elif kind == "section":
        node["section"] = arg
    elif kind == "blurb":
        lang, text = arg
        node["blurb"][lang] = text
    elif kind == "note":
        node["note"] = arg
    elif kind == "move":
        item = items.pop(index % len(items))
        items.insert(arg % (len(items) + 1), item)
    elif kind == "comment":
        node.yaml_add_eol_comment(f"# {arg}", "section")
        comments.append(arg)
    elif kind == "delete" and parse_pick(node.get("pick"))[0] is None:
        items.remove(node)


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=st.integers(1, 25),
    later=st.integers(0, 25),
    edits=st.lists(edit_st, max_size=25),
)
def test_edits_survive_a_refresh_and_new_candidates_arrive_once(
    first: int, later: int, edits: list[tuple[str, int, Any]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = make_newsletter(Path(tmp) / "n", cap=1000)
        settings = load_settings(root)
        with Store(settings.database_path) as store:
            store.save_items(make_item(n) for n in range(first))
            refresh(settings, store, ISSUE, now=NOW)
            path = review_path(settings, ISSUE)

            # The editor's session, through a YAML round trip as a text editor would leave it.
            data = _body(path)
            comments: list[str] = []
            for edit in edits:
                _apply(data["items"], edit, comments)
            path.write_text(dump_yaml(data), "utf-8")
            edited_text = path.read_text("utf-8")
            edited = _body(path)
            # A second comment on the same line replaces the first: keep those the file holds.
            comments = [c for c in comments if f"# {c}" in edited_text]
            before = [
                (str(n["id"]), n.get("pick"), n.get("section"), dict(n.get("blurb") or {}),
                 n.get("note"))
                for n in edited["items"]
            ]  # fmt: skip

            new = [make_item(1000 + n, prefix="new", first_seen=NOW + timedelta(days=2))
                   for n in range(later)]  # fmt: skip
            store.save_items(new)
            result = refresh(settings, store, ISSUE, now=NOW + timedelta(days=3))

        after_text = path.read_text("utf-8")
        after = _body(path)
        by_id = {str(n["id"]): n for n in after["items"]}
        ids_after = [str(n["id"]) for n in after["items"]]
        # Every edit survived: decisions, sections, blurbs, notes; and the editor's order.
        for item_id, pick, section, blurb, note in before:
            node = by_id[item_id]
            assert node.get("pick") == pick
            assert node.get("section") == section
            assert dict(node.get("blurb") or {}) == blurb
            assert node.get("note") == note
        old_order = [i for i in ids_after if i in {b[0] for b in before}]
        assert old_order == [b[0] for b in before]
        for comment in comments:
            assert f"# {comment}" in after_text
        # Deleted undecided items stay deleted; each new candidate is added exactly once.
        assert len(ids_after) == len(set(ids_after))
        assert len(ids_after) == len(before) + later
        for item in new:
            assert ids_after.count(item.id) == 1
        assert result.added == later
