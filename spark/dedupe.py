"""Telling the same story apart from a new one, across sources: same canonical URL, or a
near-identical title published within a few days. Pure: an index built from data."""

from __future__ import annotations

import hashlib
import re
import struct
from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import islice
from operator import itemgetter
from typing import NamedTuple

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
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared) >= SIMILARITY  # Jaccard, without the union set


_BANDS, _ROWS = 5, 3  # locality-sensitive hashing: 5 bands of 3 min-hashes each
_WORD_HASHES = struct.Struct(f"<{_BANDS * _ROWS}I")


@lru_cache(maxsize=1 << 14)  # titles share most of their words: hash each word once
def _word_hashes(word: str) -> tuple[int, ...]:
    """One independent 32-bit hash per min-hash, from one keyed digest: stable across
    runs (unlike `hash`), so a run finds the same duplicates whatever the process."""
    digest = hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=_WORD_HASHES.size)
    return _WORD_HASHES.unpack(digest.digest())


def _bands(words: frozenset[str]) -> tuple[bytes, ...]:
    """Keys under which similar titles meet: two titles whose word sets overlap by 80 %
    share at least one key 97 % of the time (identical sets always); titles sharing a
    third of their words meet 2 times in 10, and are then compared exactly. A key is the
    band's number and its min-hashes packed in bytes (a third of the memory of tuples)."""
    mins = _WORD_HASHES.pack(*map(min, zip(*map(_word_hashes, words), strict=True)))
    width = _WORD_HASHES.size // _BANDS
    return tuple(bytes((b,)) + mins[b * width : (b + 1) * width] for b in range(_BANDS))


class TitleKey(NamedTuple):
    """What the index compares of a title: its words, and the min-hash keys it is filed
    under (none when it is too short to compare). Computed where the item is made, in a
    parse worker, and sent along with it."""

    words: frozenset[str]
    bands: tuple[bytes, ...]


def title_key(title: str) -> TitleKey:
    words = title_words(title)
    return TitleKey(words, _bands(words) if len(words) >= MIN_WORDS else ())


class Known(NamedTuple):
    id: str
    source_id: str
    published: datetime
    words: frozenset[str]
    root: str  # the first item of the story: its own id, or the id it duplicates


_published = itemgetter(2)  # Known.published, read in C by the bisections


def shared_bands(keys: Iterable[TitleKey]) -> frozenset[bytes]:
    """The min-hash keys that two or more of these titles carry. Most keys belong to one
    title only, and a key no other title has can never bring two titles together."""
    counts = Counter(band for key in keys for band in key.bands)
    return frozenset(band for band, n in counts.items() if n > 1)


@dataclass
class DedupeIndex:
    """Items already accepted (stored or earlier in this run), looked up two ways.

    `shared`, when given, holds the only band keys worth filing: those that two or more of
    the titles that will be added or looked up carry (`shared_bands`)."""

    shared: frozenset[bytes] | None = None
    by_url: dict[str, Known] = field(default_factory=dict)
    by_band: dict[bytes, list[Known]] = field(default_factory=dict)  # by publication

    def add(
        self,
        item_id: str,
        source_id: str,
        canonical_url: str,
        title: str | TitleKey,
        published: datetime,
        duplicate_of: str | None,
    ) -> None:
        key = title_key(title) if isinstance(title, str) else title
        known = Known(item_id, source_id, published, key.words, duplicate_of or item_id)
        self.by_url.setdefault(canonical_url, known)
        for band in key.bands:
            if self.shared is None or band in self.shared:
                insort(self.by_band.setdefault(band, []), known, key=_published)

    def original(
        self, source_id: str, canonical_url: str, title: str | TitleKey, published: datetime
    ) -> str | None:
        """The id of the first item of the same story from another source, if any."""
        hit = self.by_url.get(canonical_url)
        if hit is not None and hit.source_id != source_id:
            return hit.root
        key = title_key(title) if isinstance(title, str) else title
        earliest, latest = published - TITLE_WINDOW, published + TITLE_WINDOW
        for band in key.bands:
            filed = self.by_band.get(band)
            if not filed:
                continue
            # Each band's list is in publication order: look only within the window.
            start = bisect_left(filed, earliest, key=_published)
            for known in islice(filed, start, None):
                if known.published > latest:
                    break
                if known.source_id != source_id and similar(key.words, known.words):
                    return known.root
        return None
