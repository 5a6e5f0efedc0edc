"""Selection: the grouped greedy gives exactly the plain greedy order, ties included."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from spark.ranking import (
    LANGUAGE_PENALTY,
    REGION_PENALTY,
    SOURCE_PENALTY,
    Scored,
    _language_share,
    select,
)


def _plain_greedy(
    candidates: list[Scored],
    limit: int,
    editions: tuple[str, ...],
    already: list[tuple[str, str, str]],
) -> list[Scored]:
    """The definition: at every step, rescore everything and take the best (then its id)."""
    sources = Counter(a[0] for a in already)
    regions = Counter(a[1] for a in already)
    languages = Counter(a[2] for a in already)
    left = list(candidates)
    chosen: list[Scored] = []
    while left and len(chosen) < limit:
        best = min(
            left,
            key=lambda c: (
                -(
                    c.score
                    - SOURCE_PENALTY * sources[c.source]
                    - REGION_PENALTY * regions[c.region]
                    - LANGUAGE_PENALTY * languages[c.language]
                ),
                c.id,
            ),
        )
        left.remove(best)
        chosen.append(best)
        sources[best.source] += 1
        regions[best.region] += 1
        languages[best.language] += 1
    return _language_share(chosen, candidates, limit, editions)


# Few distinct scores, so ties (equal scores, and scores the penalties round together) abound.
score_st = st.one_of(
    st.sampled_from([0.0, 0.5, 1.0, 1.2, 2.7, 0.1 + 0.2, 0.3]),
    st.floats(0, 5, allow_nan=False),
)
candidate_st = st.tuples(
    st.sampled_from(["a", "b", "c"]),
    st.sampled_from(["ON", "QC", ""]),
    st.sampled_from(["en", "fr"]),
    score_st,
)


@hsettings(max_examples=300, deadline=None)
@given(
    raw=st.lists(candidate_st, max_size=60),
    limit=st.integers(0, 70),
    already=st.lists(
        st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(["ON", ""]), st.just("en")),
        max_size=5,
    ),
    editions=st.sampled_from([("en",), ("en", "fr")]),
)
def test_select_is_the_plain_greedy_order(
    raw: list[tuple[str, str, str, float]],
    limit: int,
    already: list[tuple[str, str, str]],
    editions: tuple[str, ...],
) -> None:
    candidates = [Scored(f"id-{n:03d}", *fields, ()) for n, fields in enumerate(reversed(raw))]
    expected = _plain_greedy(candidates, limit, editions, already)
    assert select(candidates, limit, editions=editions, already=already) == expected


def test_ties_go_to_the_smaller_id_across_groups() -> None:
    candidates = [
        Scored("b", "s1", "ON", "en", 1.0, ()),
        Scored("a", "s2", "QC", "en", 1.0, ()),
        Scored("c", "s1", "ON", "en", 1.0, ()),
    ]
    picked = select(candidates, 3, editions=("en",))
    assert [c.id for c in picked] == ["a", "b", "c"]
