"""Telling the same story apart from a new one, across sources: same canonical URL, or a
near-identical title published within a few days. Pure: an index built from data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from spark.classify import fold

TITLE_WINDOW = timedelta(days=4)
_WORD = re.compile(r"\w+")
_SHORT = frozenset(
    {"the", "a", "an", "of", "and", "in", "on", "for", "to", "is", "with",
     "le", "la", "les", "de", "des", "du", "et", "un", "une", "en", "au", "aux"}
)  # fmt: skip
MIN_WORDS = 4  # shorter titles ("Editorial", "News roundup") are too generic to compare
SIMILARITY = 0.8


@lru_cache(maxsize=1 << 16)  # a new title is looked up, then added: fold it once
def title_words(title: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(fold(title)) if w not in _SHORT)


def similar(a: frozenset[str], b: frozenset[str]) -> bool:
    if len(a) < MIN_WORDS or len(b) < MIN_WORDS:
        return False
    return len(a & b) / len(a | b) >= SIMILARITY


_BANDS, _ROWS = 4, 2  # locality-sensitive hashing: 4 bands of 2 min-hashes each
_SALTS = tuple(range(_BANDS * _ROWS))


@lru_cache(maxsize=1 << 16)
def _bands(words: frozenset[str]) -> tuple[tuple[int, ...], ...]:
    """Keys under which similar titles meet: two titles whose word sets overlap by 80 %
    share at least one key 98 % of the time (identical sets always); titles sharing a
    third of their words meet 4 in 10 times, and are then compared exactly."""
    hashes = [min(hash((salt, w)) for w in words) for salt in _SALTS]
    return tuple((b, *hashes[b * _ROWS : (b + 1) * _ROWS]) for b in range(_BANDS))


@dataclass(frozen=True)
class Known:
    id: str
    source_id: str
    published: datetime
    words: frozenset[str]
    root: str  # the first item of the story: its own id, or the id it duplicates


@dataclass
class DedupeIndex:
    """Items already accepted (stored or earlier in this run), looked up two ways."""

    by_url: dict[str, Known] = field(default_factory=dict)
    by_band: dict[tuple[int, ...], list[Known]] = field(default_factory=dict)

    def add(
        self,
        item_id: str,
        source_id: str,
        canonical_url: str,
        title: str,
        published: datetime,
        duplicate_of: str | None,
    ) -> None:
        known = Known(item_id, source_id, published, title_words(title), duplicate_of or item_id)
        self.by_url.setdefault(canonical_url, known)
        if len(known.words) >= MIN_WORDS:
            for key in _bands(known.words):
                self.by_band.setdefault(key, []).append(known)

    def original(
        self, source_id: str, canonical_url: str, title: str, published: datetime
    ) -> str | None:
        """The id of the first item of the same story from another source, if any."""
        hit = self.by_url.get(canonical_url)
        if hit is not None and hit.source_id != source_id:
            return hit.root
        words = title_words(title)
        if len(words) < MIN_WORDS:
            return None
        for key in _bands(words):
            for known in self.by_band.get(key, ()):
                if (
                    known.source_id != source_id
                    and abs(known.published - published) <= TITLE_WINDOW
                    and similar(words, known.words)
                ):
                    return known.root
        return None
