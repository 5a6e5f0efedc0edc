"""From one source's bytes to its items: parse and clean (`spark.parse`), then for each
entry the source's keyword rules, a stable id, language, format, tags and a content hash.

Everything here is per source and pure, so `prepare_source` is the unit of work of a parse
worker: the main process is left with what needs every source at once (comparing with the
store, telling duplicates apart across sources) and with the network.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from spark.classify import item_format, item_language, item_tags, keep
from spark.clean import CleanEntry, content_hash
from spark.dedupe import TitleKey, title_key
from spark.models import Item, Source
from spark.parse import ParseResult, parse_source


@dataclass(frozen=True)
class SourceItems:
    """What one source's bytes gave: its items, how many its rules filtered out, and a
    plain error (nothing usable) or warning (usable, but something is wrong)."""

    items: tuple[Item, ...] = ()
    title_keys: tuple[TitleKey, ...] = ()  # one per item, for deduplication
    filtered: int = 0
    error: str | None = None
    warning: str | None = None


def item_id(source_id: str, entry: CleanEntry) -> str:
    """Stable across runs: the source plus the entry's GUID (else its canonical URL)."""
    identity = entry.guid or entry.canonical_url
    return f"{source_id}-{hashlib.sha1(identity.encode('utf-8', 'surrogatepass')).hexdigest()[:10]}"


def make_item(source: Source, entry: CleanEntry, now: datetime, default_language: str) -> Item:
    language = item_language(entry, source.language, default_language)
    fmt = item_format(entry)
    tags = item_tags(source.tags, entry.categories)
    return Item(
        id=item_id(source.id, entry),
        source_id=source.id,
        guid=entry.guid,
        url=entry.url,
        canonical_url=entry.canonical_url,
        title=entry.title,
        summary_html=entry.summary_html,
        summary_text=entry.summary_text,
        image_url=entry.image_url,
        author=entry.author,
        published=entry.published,
        first_seen=now,
        language=language,
        format=fmt,
        section=source.section,
        region=source.region,
        tags=tags,
        # Only what the publisher controls goes in: a re-run must not look like a change.
        content_hash=content_hash(
            entry.url,
            entry.title,
            entry.summary_html,
            entry.image_url,
            entry.author,
            entry.published.isoformat() if entry.dated else "",
            language,
            fmt,
            source.section,
            source.region,
            tags,
        ),
    )


def itemize(
    source: Source, parsed: ParseResult, now: datetime, default_language: str
) -> SourceItems:
    """The source's entries as items, in feed order, those its rules exclude left out."""
    if parsed.error:
        return SourceItems(error=parsed.error)
    items: list[Item] = []
    filtered = 0
    for entry in parsed.entries:
        if not keep(entry, source.include, source.exclude):
            filtered += 1
            continue
        items.append(make_item(source, entry, now, default_language))
    keys = tuple(title_key(i.title) for i in items)
    return SourceItems(tuple(items), keys, filtered, None, parsed.warning)


def prepare_source(
    source: Source,
    content: bytes,
    headers: Mapping[str, str],
    url: str,
    now: datetime,
    summary_chars: int,
    default_language: str,
) -> SourceItems:
    """Bytes to items for one source (run in a parse worker). Never raises for bad content."""
    parsed = parse_source(source.kind, source.selectors, content, headers, url, now, summary_chars)
    return itemize(source, parsed, now, default_language)
