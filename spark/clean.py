"""Cleaning one parsed entry: sanitize once, absolute URLs, plain text, lead image, UTC dates.

The HTML of an entry is sanitized exactly once, here, with nh3 (feedparser's own sanitizer
is switched off): an allowlist of tags and attributes, no CSS at all, only http(s) and
mailto links. Everything else (plain text, the lead image) is read from that clean HTML.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urljoin, urlsplit

import nh3

from spark.models import ParsedEntry
from spark.normalize import canonical_url

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dl",
        "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
        "ins", "li", "mark", "ol", "p", "pre", "q", "s", "small", "strong", "sub", "sup",
        "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "hreflang"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
    "blockquote": {"cite"},
    "q": {"cite"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
_URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
MAX_HTML_CHARS = 50_000  # the review needs a summary, not a whole book
MAX_TITLE_CHARS = 500
FUTURE_TOLERANCE = timedelta(days=1)
_SPACES = re.compile(r"\s+")
_MARKUP = re.compile(r"<[a-zA-Z/!?]")
_BEFORE_STOP = re.compile(r" ([.,)])")  # left by the tag-spacing above ("<b>x</b>.")
_IMG_SRC = re.compile(r'<img\b[^>]*?\bsrc="([^"]+)"')


@dataclass(frozen=True)
class CleanEntry:
    """An entry after cleaning and normalizing, before classifying and deduplicating."""

    guid: str | None
    url: str
    canonical_url: str
    title: str
    summary_html: str
    summary_text: str
    text: str  # all the plain text available, for keyword rules and language detection
    image_url: str | None
    author: str | None
    published: datetime
    dated: bool  # False when the feed gave no usable date (published = first seen)
    enclosures: tuple[tuple[str, str], ...]
    categories: tuple[str, ...]
    language: str | None


def _absolute(base: str, tag: str, attribute: str, value: str) -> str | None:
    if attribute not in _URL_ATTRIBUTES:
        return value
    resolved = urljoin(base, value.strip()) if base else value.strip()
    scheme = urlsplit(resolved).scheme.lower()
    if scheme not in URL_SCHEMES:
        return None  # a relative link we cannot resolve, or anything exotic: drop it
    return resolved


def sanitize_html(fragment: str, base_url: str = "") -> str:
    """The allowlist sanitizer: safe HTML with absolute http(s)/mailto URLs only."""
    if not fragment:
        return ""
    return nh3.clean(
        fragment[:MAX_HTML_CHARS],
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        attribute_filter=partial(_absolute, base_url),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


def plain_text(fragment: str) -> str:
    """Text of an HTML fragment: tags gone (script/style content too), entities decoded.

    Feeds often escape their HTML twice; markup that appears once entities are decoded is
    stripped too (twice at most), so no tag survives even as text."""
    if not fragment:
        return ""
    text = fragment
    for _ in range(3):
        if "<" not in text and "&" not in text:
            break
        # A space before each tag keeps words of adjacent blocks apart ("<p>a</p><p>b</p>").
        stripped = nh3.clean(text.replace("<", " <"), tags=set(), strip_comments=True)
        text = html.unescape(stripped)
        if not _MARKUP.search(text):
            break
    return _BEFORE_STOP.sub(r"\1", _SPACES.sub(" ", text)).strip()


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 1)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + "…"


def entry_date(entry: ParsedEntry, now: datetime) -> tuple[datetime, bool]:
    """Published (else updated) in UTC; missing -> now; in the future -> now (a typo or a
    time-zone slip should not pin an item to the top for months)."""
    when = entry.published or entry.updated
    if when is None:
        return now, False
    if when > now + FUTURE_TOLERANCE:
        return now, False
    return min(when, now), True


def clean_entry(
    entry: ParsedEntry, *, base_url: str, now: datetime, summary_chars: int
) -> CleanEntry | None:
    """One entry made safe and uniform; None when it has neither a link nor a title."""
    link = _http_url(entry.link, base_url)
    title = shorten(plain_text(entry.title or ""), MAX_TITLE_CHARS)
    body_html = sanitize_html(entry.summary_html or entry.content_html or "", link or base_url)
    content_html = (
        sanitize_html(entry.content_html, link or base_url)
        if entry.content_html and entry.summary_html
        else ""
    )
    if not link and not title:
        return None
    text = plain_text(body_html)
    if not title:
        title = shorten(text, 120) if text else ""
    if not link:
        # No link: identify it by guid if that is a URL, else the page it came from.
        link = _http_url(entry.guid, base_url) or base_url
    published, dated = entry_date(entry, now)
    full_text = text if not content_html else f"{text} {plain_text(content_html)}"
    return CleanEntry(
        guid=(entry.guid or "").strip()[:1000] or None,
        url=link,
        canonical_url=canonical_url(link),
        title=title or link,
        summary_html=body_html,
        summary_text=shorten(text, summary_chars),
        text=full_text[:5000],
        image_url=lead_image(entry, body_html + content_html, link),
        author=shorten(plain_text(entry.author), 200) if entry.author else None,
        published=published,
        dated=dated,
        enclosures=tuple((u, t) for u, t in entry.enclosures if _http_url(u, link)),
        categories=tuple(c for c in (plain_text(c) for c in entry.categories) if c),
        language=entry.language,
    )


def lead_image(entry: ParsedEntry, clean_html: str, base: str) -> str | None:
    """Media tags and image enclosures first (chosen by the publisher), then the first <img>."""
    for url in entry.image_urls:
        resolved = _http_url(url, base)
        if resolved:
            return resolved
    for url, mime in entry.enclosures:
        if mime.startswith("image/"):
            resolved = _http_url(url, base)
            if resolved:
                return resolved
    match = _IMG_SRC.search(clean_html)
    return html.unescape(match.group(1)) if match else None


def _http_url(value: str | None, base: str) -> str | None:
    if not value:
        return None
    resolved = urljoin(base, value.strip()) if base else value.strip()
    parts = urlsplit(resolved)
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return resolved
    return None


def content_hash(*parts: object) -> str:
    digest = hashlib.sha1()
    for part in parts:
        digest.update(str(part).encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()
