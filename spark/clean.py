"""Cleaning one parsed entry: sanitize once, absolute URLs, plain text, lead image, UTC dates.

The HTML of an entry is sanitized exactly once, here, with nh3 (feedparser's own sanitizer
is switched off): an allowlist of tags and attributes, no CSS at all, only http(s) and
mailto links. Everything else (plain text, the lead image) is read from that clean HTML.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
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
}  # no `cite`: nh3 does not check it as a URL, and no reader ever sees it
URL_SCHEMES = frozenset({"http", "https", "mailto"})
_RESOLVED_SCHEMES = tuple(f"{scheme}:" for scheme in sorted(URL_SCHEMES))
MAX_HTML_CHARS = 50_000  # the review needs a summary, not a whole book
MAX_TITLE_CHARS = 500
FUTURE_TOLERANCE = timedelta(days=1)
_MARKUP = re.compile(r"<[a-zA-Z/!?]")
_CLEAN_TAG = re.compile(r'<[^>"]*(?:"[^"]*"[^>"]*)*>')  # a tag as nh3 writes it
_IMG_SRC = re.compile(r'<img\b[^>]*?\bsrc="([^"]+)"')
# Links within the same site ("/more/12", "/img/1.jpg") are most of a feed's relative URLs.
_ORIGIN = re.compile(r"(https?)://([A-Za-z0-9.:-]+)(?=[/?#]|\Z)", re.ASCII | re.IGNORECASE)
_URL_BREAKS = frozenset("\t\r\n")
_ROOT_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9._~!$&'()*+,;=:@%/-]*(?=[?#]|\Z)", re.ASCII)


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


class _Sanitizer:
    """nh3's allowlist `Cleaner`, built once per process: building one costs three times
    what a clean does. nh3 keeps absolute URLs of the allowed schemes and drops the others;
    relative ones come to `_resolve`, which makes them absolute against the entry's address
    (kept per thread, since the callback cannot be given it)."""

    def __init__(self) -> None:
        self._base = threading.local()
        self._cleaner = nh3.Cleaner(
            tags=set(ALLOWED_TAGS),
            attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
            url_schemes=set(URL_SCHEMES),
            url_relative=self._resolve,
            link_rel="noopener noreferrer nofollow",
            strip_comments=True,
        )
        self._text = nh3.Cleaner(tags=set(), strip_comments=True)

    def _resolve(self, url: str) -> str | None:
        base = getattr(self._base, "url", "")
        if not base:
            return None  # a relative link we cannot resolve: drop it
        resolved = resolve_url(base, url.strip())
        return resolved if resolved and resolved.startswith(_RESOLVED_SCHEMES) else None

    def clean(self, fragment: str, base_url: str) -> str:
        self._base.url = base_url
        try:
            return self._cleaner.clean(fragment)
        finally:
            self._base.url = ""

    def strip_tags(self, fragment: str) -> str:
        return self._text.clean(fragment)


_SANITIZER = _Sanitizer()


def resolve_url(base: str, url: str) -> str | None:
    """`urljoin(base, url)`, or None for an address that does not even parse
    ("http://[oops/"). Without urljoin's two URL parses for the common case of a path from
    the root of the same site with no dot segments ("/img/1.jpg")."""
    path = _ROOT_PATH.match(url)
    # urljoin deletes tabs and line breaks anywhere in the address: leave those to it.
    if path is not None and "/." not in path.group() and not _URL_BREAKS.intersection(url):
        origin = _ORIGIN.match(base)
        if origin is not None:
            return f"{origin[1].lower()}://{origin[2]}{url}"
    try:
        return urljoin(base, url)  # gives the scheme in lower case
    except ValueError:
        return None


def sanitize_html(fragment: str, base_url: str = "") -> str:
    """The allowlist sanitizer: safe HTML with absolute http(s)/mailto URLs only."""
    if not fragment:
        return ""
    return _SANITIZER.clean(fragment[:MAX_HTML_CHARS], base_url).strip()


def plain_text(fragment: str, *, sanitized: bool = False) -> str:
    """Text of an HTML fragment: tags gone (script/style content too), entities decoded.

    Feeds often escape their HTML twice; markup that appears once entities are decoded is
    stripped too (twice at most), so no tag survives even as text. `sanitized`: the
    fragment came out of `sanitize_html`, whose tags are well-formed with every attribute
    in double quotes, so a pattern strips them (a quarter of the cost) on the first pass."""
    if not fragment:
        return ""
    text = fragment
    for attempt in range(3):
        if "<" not in text and "&" not in text:
            break
        # A space for each tag keeps words of adjacent blocks apart ("<p>a</p><p>b</p>").
        if sanitized and attempt == 0:
            stripped = _CLEAN_TAG.sub(" ", text)
        else:
            stripped = _SANITIZER.strip_tags(text.replace("<", " <"))
        text = html.unescape(stripped)
        if not _MARKUP.search(text):
            break
    text = " ".join(text.split())
    # The space put for each tag above leaves "x ." from "<b>x</b>.": take it back.
    return text.replace(" .", ".").replace(" ,", ",").replace(" )", ")")


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
    text = plain_text(body_html, sanitized=True)
    if not title:
        title = shorten(text, 120) if text else ""
    if not link:
        # No link: identify it by guid if that is a URL, else the page it came from.
        link = _http_url(entry.guid, base_url) or base_url
    published, dated = entry_date(entry, now)
    full_text = text if not content_html else f"{text} {plain_text(content_html, sanitized=True)}"
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
    value = value.strip()
    # Most feed links are absolute already; resolving them would only re-assemble them.
    absolute = value[:8].lower().startswith(("http://", "https://"))
    resolved = resolve_url(base, value) if base and not absolute else value
    if resolved is None:
        return None
    try:
        parts = urlsplit(resolved)
    except ValueError:  # "http://[oops/": not an address at all
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return resolved
    return None


def content_hash(*parts: object) -> str:
    digest = hashlib.sha1()
    for part in parts:
        digest.update(str(part).encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()
