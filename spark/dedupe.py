"""Telling the same story apart from a new one, across sources: same canonical URL, or a
near-identical title published within a few days. Pure: an index built from data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from spark.classify import fold

TITLE_WINDOW = timedelta(days=4)
_WORD = re.compile(r"\w+")
_SHORT = frozenset(
    {"the", "a", "an", "of", "and", "in", "on", "for", "to", "is", "with",
     "le", "la", "les", "de", "des", "du", "et", "un", "une", "en", "au", "aux"}
)  # fmt: skip
MIN_WORDS = 4  # shorter titles ("Editorial", "News roundup") are too generic to compare
SIMILARITY = 0.8


def title_words(title: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(fold(title)) if w not in _SHORT)


def similar(a: frozenset[str], b: frozenset[str]) -> bool:
    if len(a) < MIN_WORDS or len(b) < MIN_WORDS:
        return False
    return len(a & b) / len(a | b) >= SIMILARITY


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
    by_word: dict[str, list[Known]] = field(default_factory=dict)

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
            # Bucketed by the title's rarest-looking word (longest), so a lookup compares a
            # handful of titles, not every title of the month.
            anchor = max(known.words, key=lambda w: (len(w), w))
            self.by_word.setdefault(anchor, []).append(known)

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
        for anchor in words:
            for known in self.by_word.get(anchor, ()):
                if (
                    known.source_id != source_id
                    and abs(known.published - published) <= TITLE_WINDOW
                    and similar(words, known.words)
                ):
                    return known.root
        return None
