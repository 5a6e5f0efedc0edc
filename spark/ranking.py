"""Ranking the review queue: relevance to the themes, recency, then diversity. Pure.

A candidate's base score is the sum of the weights of the themes its title or summary
mention (a title mention counts 1.5 times) plus a recency bonus that halves every
`HALF_LIFE_DAYS`. Selection is greedy on the base score minus diversity penalties that
grow with every candidate already chosen (or already in the file) from the same source,
region and language. Candidates sharing source, region and language share every penalty,
so each step only compares the best remaining candidate of each such group: the exact
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
    found: tuple[str, ...] = ()
    if matcher is not None:
        # Called for every stored candidate on every refresh: kept lean.
        title_hits = matcher.findall(title)
        summary_hits = matcher.findall(summary)
        if title_hits or summary_hits:
            in_title = set(map(str.lower, title_hits))
            found = tuple(sorted(in_title.union(map(str.lower, summary_hits))))
            for word in found:
                weight = themes.get(word, 0.0)
                score += weight * (TITLE_FACTOR if word in in_title else 1.0)
    age_days = max(0.0, (now - published).total_seconds() / 86400)
    score += math.pow(0.5, age_days / HALF_LIFE_DAYS)
    return score, found


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

    members: dict[tuple[str, str, str], list[Scored]] = {}
    for c in candidates:
        members.setdefault((c.source, c.region, c.language), []).append(c)
    groups = [_Group(key, group) for key, group in members.items()]
    chosen: list[Scored] = []
    while len(chosen) < limit:
        best: tuple[tuple[float, str], _Group, int] | None = None
        for group in groups:
            source, region, language = group.key
            head = group.head(
                SOURCE_PENALTY * sources[source],
                REGION_PENALTY * regions[region],
                LANGUAGE_PENALTY * languages[language],
            )
            if head is not None and (best is None or head[0] < best[0]):
                best = (head[0], group, head[1])
        if best is None:
            break
        c = best[1].take(best[2])
        chosen.append(c)
        sources[c.source] += 1
        regions[c.region] += 1
        languages[c.language] += 1
    return _language_share(chosen, candidates, limit, editions)


class _Group:
    """Candidates that share (source, region, language), hence every penalty.

    Their order by current score is their order by base score, so only the best of them
    needs looking at on each step. Members are kept in blocks of equal base score, best
    block first, each block sorted by id (taken from its end). The greedy order is by
    (-current score, id); two different base scores can round to the same current score,
    so the head is the smallest id among the leading blocks whose current scores tie.
    """

    def __init__(self, key: tuple[str, str, str], members: list[Scored]) -> None:
        self.key = key
        by_score: dict[float, list[Scored]] = {}
        for c in members:
            by_score.setdefault(c.score, []).append(c)
        self.blocks = [
            sorted(block, key=lambda c: c.id, reverse=True)
            for _, block in sorted(by_score.items(), key=lambda kv: -kv[0])
        ]
        self.first = 0

    def head(
        self, source: float, region: float, language: float
    ) -> tuple[tuple[float, str], int] | None:
        """((-current score, id), block index) of the group's best candidate, if any."""
        blocks = self.blocks
        while self.first < len(blocks) and not blocks[self.first]:
            self.first += 1
        top: tuple[tuple[float, str], int] | None = None
        for index in range(self.first, len(blocks)):
            block = blocks[index]
            if not block:
                continue
            # The same expression, in the same order, as the score it is compared with.
            current = block[-1].score - source - region - language
            key = (-current, block[-1].id)
            if top is None:
                top = (key, index)
            elif key[0] != top[0][0]:
                break  # base scores only fall from here on, and so do current scores
            elif key < top[0]:
                top = (key, index)
        return top

    def take(self, index: int) -> Scored:
        return self.blocks[index].pop()


def _language_share(
    chosen: list[Scored], candidates: Sequence[Scored], limit: int, editions: tuple[str, ...]
) -> list[Scored]:
    if len(editions) < 2:
        return chosen
    quota = math.ceil(limit * MIN_LANGUAGE_SHARE)
    taken = {c.id for c in chosen}
    for language in editions:
        have = sum(1 for c in chosen if c.language == language)
        if quota - have <= 0:
            continue
        # The best few only: equal to sorted(...)[:n], without sorting every candidate.
        spare = heapq.nsmallest(
            quota - have,
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
