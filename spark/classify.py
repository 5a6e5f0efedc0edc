"""Classifying a cleaned entry: its language, its format, whether the source's keyword rules
keep it. Pure functions, except the language detector, built once and only when needed."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache
from typing import Any

from spark.clean import CleanEntry

_FORMAT_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("event", ("webinar", "webinaire", "conference", "conférence", "colloque", "symposium",
               "workshop", "atelier", "register now", "inscrivez-vous", "inscription", "event",
               "événement", "evenement", "summit", "sommet", "forum")),
    ("podcast", ("podcast", "balado", "baladodiffusion", "episode", "épisode")),
    ("video", ("video", "vidéo", "watch:", "webcast")),
    ("report", ("report", "rapport", "white paper", "livre blanc", "policy brief",
                "note de recherche", "working paper", "étude", "study finds")),
)  # fmt: skip
_VIDEO_HOSTS = ("youtube.com", "youtu.be", "vimeo.com")
DETECT_CHARS = 160


@cache
def _detector() -> Any:
    # Only English and French are loaded: the other 70 languages would cost memory and
    # accuracy (a short English title can look like Dutch to a 75-language detector).
    # Low-accuracy mode (trigrams only) loads in 30 ms and 20 MB instead of 0.5 s and
    # 100 MB in every parse worker; it differs from the full models only on one-word
    # texts, and it is given a title plus the start of a summary.
    from lingua import Language, LanguageDetectorBuilder

    builder = LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.FRENCH)
    return builder.with_low_accuracy_mode().build()


def detect_language(text: str) -> str | None:
    """'en' or 'fr' for a title plus the start of its summary; None when there is no text."""
    text = text.strip()
    if not text:
        return None
    found = _detector().detect_language_of(text)
    if found is None:
        return None
    return "fr" if found.name == "FRENCH" else "en"


def item_language(entry: CleanEntry, source_language: str, default: str) -> str:
    if source_language in ("en", "fr"):
        return source_language
    # A title and the start of the summary: enough to tell English from French, and the
    # detector's time grows with the text.
    return detect_language(f"{entry.title}. {entry.summary_text}"[:DETECT_CHARS]) or default


def item_format(entry: CleanEntry) -> str:
    """From enclosures and MIME types first (what the publisher declared), then keywords."""
    mimes = [mime.lower() for _url, mime in entry.enclosures]
    urls = [url.lower() for url, _mime in entry.enclosures]
    if any(m.startswith("audio/") for m in mimes):
        return "podcast"
    if any(m.startswith("video/") for m in mimes):
        return "video"
    if any(host in entry.url.lower() for host in _VIDEO_HOSTS):
        return "video"
    if any(m == "application/pdf" for m in mimes) or any(u.endswith(".pdf") for u in urls):
        return "report"
    if entry.url.lower().split("?")[0].endswith(".pdf"):
        return "report"
    words = fold(" ".join((entry.title, *entry.categories)))
    found = {m.lastgroup for m in _format_pattern().finditer(words)}
    return next((fmt for fmt, _ in _FORMAT_WORDS if fmt in found), "article")


@cache
def _format_pattern() -> re.Pattern[str]:
    """Every format's keywords in one pattern (one scan of the text), a group per format;
    the first format of `_FORMAT_WORDS` found wins."""
    groups = (
        f"(?P<{fmt}>{'|'.join(re.escape(fold(k)) for k in keywords)})"
        for fmt, keywords in _FORMAT_WORDS
    )
    return re.compile(rf"(?<!\w)(?:{'|'.join(groups)})(?!\w)")


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Case- and accent-insensitive form used to match keywords."""
    if text.isascii():  # most titles: nothing to decompose
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def _pattern(folded_keyword: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(folded_keyword) + r"(?!\w)")


def _has(folded_text: str, folded_keyword: str) -> bool:
    return bool(folded_keyword) and _pattern(folded_keyword).search(folded_text) is not None


def keep(entry: CleanEntry, include: Iterable[str], exclude: Iterable[str]) -> bool:
    """The source's rules: any `exclude` keyword drops it; with `include`, one must match."""
    include, exclude = tuple(include), tuple(exclude)
    if not include and not exclude:
        return True
    text = fold(" ".join((entry.title, entry.text, *entry.categories)))
    if any(_has(text, fold(k)) for k in exclude):
        return False
    return not include or any(_has(text, fold(k)) for k in include)


def item_tags(
    source_tags: Iterable[str], categories: Iterable[str], limit: int = 12
) -> tuple[str, ...]:
    """The source's tags, then the entry's own categories, without repeats."""
    seen: dict[str, str] = {}
    for tag in (*source_tags, *categories):
        key = fold(tag).strip()
        if key and key not in seen:
            seen[key] = tag.strip()
    return tuple(seen.values())[:limit]
