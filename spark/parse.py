"""Bytes -> entries. Feeds through feedparser (its fetching and sanitizing switched off),
`kind: page` sources through beautifulsoup4 and the source's CSS selectors.

`parse_source` parses and cleans one source's bytes; `spark.itemize.prepare_source` wraps
it as the unit of CPU work of an ingest run, run on every core by `parse_executor`. Both
take and return picklable data and never raise for bad content: they report.
"""

from __future__ import annotations

import calendar
import importlib
import os
from collections.abc import Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext
from typing import Any

import feedparser
from feedparser.datetimes import _parse_date

from spark.clean import CleanEntry, clean_entry, resolve_url
from spark.errors import FeedParseError
from spark.models import PageSelectors, ParsedEntry


@dataclass(frozen=True)
class ParseResult:
    """What one source's bytes gave: entries, and a plain error or warning if any."""

    entries: tuple[CleanEntry, ...] = ()
    error: str | None = None  # nothing usable: the source failed
    warning: str | None = None  # usable, but something is wrong with the feed


# --------------------------------------------------------------------------- feeds


def parse_feed(
    content: bytes, headers: Mapping[str, str] | None = None, url: str = ""
) -> tuple[list[ParsedEntry], str, list[str]]:
    """Parse feed bytes: (entries, base URL for relative links, warnings).

    Raises FeedParseError (source id left empty) when the bytes are not a feed at all."""
    if not content.strip():
        raise FeedParseError("", "the server sent an empty answer instead of a feed")
    d = feedparser.parse(
        content,
        response_headers=dict(headers or {}),
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    warnings: list[str] = []
    if not d.get("version"):
        head = content[:2048].lower()
        if b"<html" in head or b"<!doctype html" in head:
            raise FeedParseError(
                "",
                "this address returns a web page (HTML), not a feed: look on that page for "
                "its RSS/Atom link (often ending in /feed or .xml), or read the page with "
                "`kind: page` and selectors",
            )
        if not d.entries:
            problem = _bozo_words(d.get("bozo_exception"))
            raise FeedParseError(
                "", f"the answer is not an RSS or Atom feed{f' ({problem})' if problem else ''}"
            )
    if d.get("bozo"):
        exc = d.get("bozo_exception")
        name = type(exc).__name__
        if name == "CharacterEncodingOverride":
            warnings.append(
                f"the feed declares the wrong character encoding; it was read as {d.encoding}"
            )
        elif name != "NonXMLContentType":
            words = _bozo_words(exc)
            if not d.entries:
                raise FeedParseError("", f"the feed is broken and has no readable entry ({words})")
            warnings.append(
                f"the feed is malformed or cut off ({words}); "
                f"{len(d.entries)} entries could still be read"
            )
    feed = d.get("feed", {})
    base = url
    feed_link = feed.get("link")
    if feed_link and (not url or url.startswith("file:")):
        base = feed_link  # read from a file (the demo): links are relative to the site
    language = (feed.get("language") or "")[:2].lower() or None
    entries = [_entry(e, language) for e in d.entries]
    unreadable = sum(
        1
        for e, p in zip(d.entries, entries, strict=True)
        if (dict.get(e, "published") or dict.get(e, "updated")) and not (p.published or p.updated)
    )
    if unreadable:
        warnings.append(
            f"{unreadable} entries have dates Spark cannot read; "
            "they are dated when Spark first saw them"
        )
    return entries, base, warnings


def _bozo_words(exc: Any) -> str:
    if exc is None:
        return ""
    message = getattr(exc, "getMessage", lambda: str(exc))()
    line = getattr(exc, "getLineNumber", lambda: None)()
    return f"{message} at line {line}" if line else str(message)


def _when(parsed: Any) -> datetime | None:
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def _entry(e: Any, feed_language: str | None) -> ParsedEntry:
    # dict.get: these keys are stored as named, and FeedParserDict.get would first look
    # them up in its table of legacy aliases (a tenth of the cost of reading an entry).
    # `enclosures` alone is computed by FeedParserDict (from the entry's links).
    get = dict.get
    content = get(e, "content") or ()
    images: list[str] = [m["url"] for m in get(e, "media_thumbnail", ()) if m.get("url")]
    for m in get(e, "media_content", ()):
        if m.get("url") and (m.get("medium") == "image" or m.get("type", "").startswith("image/")):
            images.append(m["url"])
    enclosures = tuple(
        (x.get("href", ""), x.get("type", "")) for x in e.get("enclosures", ()) if x.get("href")
    )
    return ParsedEntry(
        guid=get(e, "id") or None,
        link=get(e, "link") or None,
        title=get(e, "title"),
        summary_html=get(e, "summary") or None,
        content_html=content[0].get("value") if content else None,
        published=_when(get(e, "published_parsed")),
        # not e.get: FeedParserDict would fall back to published_parsed, with a warning
        updated=_when(get(e, "updated_parsed")),
        author=get(e, "author") or None,
        image_urls=tuple(images),
        enclosures=enclosures,
        categories=tuple(t["term"] for t in get(e, "tags", ()) if t.get("term")),
        language=(get(e, "language") or feed_language or None),
    )


# --------------------------------------------------------------------------- pages


def parse_page(content: bytes, selectors: PageSelectors, url: str) -> list[ParsedEntry]:
    """Read an HTML listing with the source's CSS selectors (item, title, link, date, summary)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(content, "lxml")
    base_tag = soup.find("base", href=True)
    base = (resolve_url(url, str(base_tag["href"])) if base_tag else None) or url
    try:
        blocks = soup.select(selectors.item)
    except Exception as exc:  # soupsieve raises its own SelectorSyntaxError
        raise FeedParseError(
            "", f"the `item` selector {selectors.item!r} is invalid: {exc}"
        ) from exc
    entries: list[ParsedEntry] = []
    for block in blocks:
        title_el = block.select_one(selectors.title)
        link_el = block.select_one(selectors.link)
        href = None
        if link_el is not None:
            anchor = link_el if link_el.name == "a" else link_el.find("a", href=True)
            if anchor is not None and anchor.get("href"):
                href = resolve_url(base, str(anchor["href"]))
        published = None
        if selectors.date:
            date_el = block.select_one(selectors.date)
            if date_el is not None:
                raw = str(date_el.get("datetime") or date_el.get_text(" ", strip=True))
                published = _when(_parse_date(raw))
        summary = None
        if selectors.summary:
            summary_el = block.select_one(selectors.summary)
            summary = summary_el.decode_contents() if summary_el is not None else None
        img = block.find("img", src=True)
        image = resolve_url(base, str(img["src"])) if img is not None else None
        entries.append(
            ParsedEntry(
                guid=href,
                link=href,
                title=title_el.get_text(" ", strip=True) if title_el is not None else None,
                summary_html=summary,
                content_html=None,
                published=published,
                updated=None,
                author=None,
                image_urls=(image,) if image else (),
            )
        )
    if not blocks:
        raise FeedParseError(
            "",
            f"the page has no element matching the `item` selector {selectors.item!r}; "
            "the site's layout may have changed",
        )
    return entries


# --------------------------------------------------------------------------- one source


def unreadable(exc: Exception) -> str:
    """The plain error of a source whose content made the parser itself fail."""
    return f"the content could not be read ({type(exc).__name__}: {exc})"


def parse_source(
    kind: str,
    selectors: PageSelectors | None,
    content: bytes,
    headers: Mapping[str, str],
    url: str,
    now: datetime,
    summary_chars: int,
) -> ParseResult:
    """Parse and clean one source's bytes. Never raises for bad content."""
    try:
        if kind == "page":
            if selectors is None:
                return ParseResult(error="a page source needs selectors")
            parsed, base, warnings = parse_page(content, selectors, url), url, list[str]()
        else:
            parsed, base, warnings = parse_feed(content, headers, url)
    except FeedParseError as exc:
        return ParseResult(error=exc.message)
    except Exception as exc:  # a parser bug must not stop the run; say what happened
        return ParseResult(error=unreadable(exc))
    cleaned: list[CleanEntry] = []
    dropped = failed = 0
    for entry in parsed:
        try:
            item = clean_entry(entry, base_url=base, now=now, summary_chars=summary_chars)
        except Exception:  # a cleaning bug costs one entry, not the source
            failed += 1
            continue
        if item is None:
            dropped += 1
            continue
        cleaned.append(item)
    if dropped:
        warnings.append(f"{dropped} entries had neither a title nor a link and were skipped")
    if failed:
        warnings.append(f"{failed} entries could not be read and were skipped")
    return ParseResult(tuple(cleaned), None, "; ".join(warnings) or None)


# --------------------------------------------------------------------------- the pool

# Below this many sources a process pool costs more (start-up, pickling) than it saves:
# see bench/ingest.py, which measures both ways.
POOL_MIN_SOURCES = 40


class InlineExecutor(Executor):
    """Runs work in the calling thread: for small runs, where a pool does not pay."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def parse_executor(
    sources: int, workers: int | None = None, *, preload: str = "spark.itemize"
) -> Executor:
    """A process pool over every core when the run is big enough, else inline. Never
    raises: when processes cannot be started, the work runs inline."""
    workers = workers or os.cpu_count() or 1
    if sources < POOL_MIN_SOURCES or workers < 2:
        return InlineExecutor()
    try:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=_worker_context(preload))
        for _ in range(workers):  # start every worker while the first answers travel
            pool.submit(_preload, preload)
    except Exception:  # no processes here (no semaphores, a process limit): parse inline
        return InlineExecutor()
    return pool


def _worker_context(preload: str) -> BaseContext:
    """Workers forked from a fork server that has imported the parsing code once.

    Forking the parent itself would copy its event loop and threads half-done; spawning
    makes every worker of every run import everything again. The fork server is a clean,
    single-threaded process started on first use and kept for the life of this one, so
    the workers of later runs (the scheduler's) start in milliseconds."""
    if "forkserver" not in get_all_start_methods():
        return get_context("spawn")
    context = get_context("forkserver")
    context.set_forkserver_preload([preload])
    return context


def _preload(module: str) -> None:
    importlib.import_module(module)
