"""Ranking the review queue: relevance to the themes, recency, then diversity. Pure.

A candidate's base score is the sum of the weights of the themes its title or summary
mention (a title mention counts 1.5 times) plus a recency bonus that halves every
`HALF_LIFE_DAYS`. Selection is greedy on the base score minus diversity penalties that
grow with every candidate already chosen (or already in the file) from the same source,
region and language; the penalties only ever grow, so a lazy priority queue gives the exact
greedy order without rescoring every candidate at every step.

Then each edition's language is guaranteed a share of the selection (`MIN_LANGUAGE_SHARE`
of it, or all its candidates when it has fewer), so French items stay visible when English
sources are more numerous, and the reverse.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

HALF_LIFE_DAYS = 14.0
SOURCE_PENALTY = 0.6
REGION_PENALTY = 0.2
LANGUAGE_PENALTY = 0.05
TITLE_FACTOR = 1.5
MIN_LANGUAGE_SHARE = 0.25  # per edition language, when the newsletter has two editions


@dataclass(frozen=True)
class Scored:
    """A candidate's identity, what diversity is measured on, and its base score."""

    id: str
    source: str
    region: str
    language: str
    score: float
    themes: tuple[str, ...]


def theme_matcher(themes: Mapping[str, float]) -> re.Pattern[str] | None:
    """One regex for every theme keyword, matched at a word start, case-insensitively."""
    if not themes:
        return None
    words = sorted(themes, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")", re.IGNORECASE)


def base_score(
    title: str,
    summary: str,
    published: datetime,
    now: datetime,
    themes: Mapping[str, float],
    matcher: re.Pattern[str] | None,
) -> tuple[float, tuple[str, ...]]:
    """(score, matched themes) of one candidate."""
    score = 0.0
    found: dict[str, None] = {}
    if matcher is not None:
        in_title = {m.lower() for m in matcher.findall(title)}
        in_summary = {m.lower() for m in matcher.findall(summary)}
        for word in sorted(in_title | in_summary):
            weight = themes.get(word, 0.0)
            score += weight * (TITLE_FACTOR if word in in_title else 1.0)
            found[word] = None
    age_days = max(0.0, (now - published).total_seconds() / 86400)
    score += math.pow(0.5, age_days / HALF_LIFE_DAYS)
    return score, tuple(found)


def select(
    candidates: Sequence[Scored],
    limit: int,
    *,
    editions: tuple[str, ...],
    already: Iterable[tuple[str, str, str]] = (),
) -> list[Scored]:
    """The `limit` best candidates in greedy order, diversity and language share applied.

    `already` holds (source, region, language) of the items the file already offers, so a
    refresh does not pile more of the same on top of them.
    """
    if limit <= 0 or not candidates:
        return []
    sources: Counter[str] = Counter()
    regions: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    for source, region, language in already:
        sources[source] += 1
        regions[region] += 1
        languages[language] += 1

    def current(c: Scored) -> float:
        return (
            c.score
            - SOURCE_PENALTY * sources[c.source]
            - REGION_PENALTY * regions[c.region]
            - LANGUAGE_PENALTY * languages[c.language]
        )

    heap = [(-current(c), c.id, i) for i, c in enumerate(candidates)]
    heapq.heapify(heap)
    chosen: list[Scored] = []
    while heap and len(chosen) < limit:
        bound, cid, index = heapq.heappop(heap)
        c = candidates[index]
        now_score = current(c)
        if -now_score != bound:
            # Stale: penalties grew since it was pushed. Scores only fall, so re-queueing
            # it at its true score keeps the heap's top exact.
            heapq.heappush(heap, (-now_score, cid, index))
            continue
        chosen.append(c)
        sources[c.source] += 1
        regions[c.region] += 1
        languages[c.language] += 1
    return _language_share(chosen, candidates, limit, editions)


def _language_share(
    chosen: list[Scored], candidates: Sequence[Scored], limit: int, editions: tuple[str, ...]
) -> list[Scored]:
    if len(editions) < 2:
        return chosen
    quota = math.ceil(limit * MIN_LANGUAGE_SHARE)
    taken = {c.id for c in chosen}
    for language in editions:
        have = sum(1 for c in chosen if c.language == language)
        spare = sorted(
            (c for c in candidates if c.language == language and c.id not in taken),
            key=lambda c: (-c.score, c.id),
        )
        missing = min(quota - have, len(spare))
        if missing <= 0:
            continue
        # Drop the last-chosen items of languages above their own quota to make room.
        counts = Counter(c.language for c in chosen)
        kept: list[Scored] = []
        dropped = 0
        for c in reversed(chosen):
            if dropped < missing and c.language != language and counts[c.language] > quota:
                counts[c.language] -= 1
                dropped += 1
                taken.discard(c.id)
            else:
                kept.append(c)
        kept.reverse()
        room = limit - len(kept)
        promoted = spare[: min(missing, room)]
        taken.update(c.id for c in promoted)
        chosen = kept + promoted
    return chosen
