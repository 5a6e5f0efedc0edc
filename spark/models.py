"""Domain data. Frozen dataclasses; "as parsed from a feed" is kept apart from "as stored"."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Language = Literal["en", "fr"]
SourceLanguage = Literal["en", "fr", "auto"]
Format = Literal["article", "report", "podcast", "video", "event"]
FORMATS: tuple[str, ...] = ("article", "report", "podcast", "video", "event")
LANGUAGES: tuple[str, ...] = ("en", "fr")
REGIONS: tuple[str, ...] = (
    "AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT",
    "national", "international",
)  # fmt: skip


@dataclass(frozen=True)
class PageSelectors:
    """CSS selectors that read a `kind: page` source (an HTML listing with no feed)."""

    item: str
    title: str
    link: str
    date: str | None = None
    summary: str | None = None


@dataclass(frozen=True)
class Source:
    """One entry of sources.yaml, validated."""

    id: str
    name: str
    url: str  # http(s):// or file:// (relative paths are resolved when loading)
    kind: Literal["feed", "page"] = "feed"
    section: str | None = None
    language: SourceLanguage = "auto"
    region: str | None = None
    tags: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    enabled: bool = True
    selectors: PageSelectors | None = None
    line: int | None = None  # where it stands in sources.yaml, for messages


@dataclass(frozen=True)
class ParsedEntry:
    """One entry as found in a feed or page: raw, unsanitized, nothing decided yet."""

    guid: str | None
    link: str | None
    title: str | None
    summary_html: str | None
    content_html: str | None
    published: datetime | None  # aware UTC when the feed gave a parseable date
    updated: datetime | None
    author: str | None
    image_urls: tuple[str, ...] = ()  # from media tags and image enclosures, in order
    enclosures: tuple[tuple[str, str], ...] = ()  # (url, mime type)
    categories: tuple[str, ...] = ()
    language: str | None = None  # as declared by the feed, if any


@dataclass(frozen=True)
class Item:
    """An item as stored: cleaned, normalized, classified. Dates are aware UTC."""

    id: str  # stable: derived from the source id and the entry's identity
    source_id: str
    guid: str | None
    url: str
    canonical_url: str
    title: str
    summary_html: str  # sanitized
    summary_text: str  # plain text, bounded length, cut at a word boundary
    image_url: str | None
    author: str | None
    published: datetime
    first_seen: datetime
    language: str
    format: str
    section: str | None
    region: str | None
    tags: tuple[str, ...] = ()
    duplicate_of: str | None = None  # id of the item this one repeats ("also covered by")
    content_hash: str = ""


@dataclass(frozen=True)
class SourceState:
    """What Spark remembers about fetching one source."""

    source_id: str
    url: str | None = None  # a permanent redirect's target, remembered
    etag: str | None = None
    last_modified: str | None = None
    last_fetch: datetime | None = None
    last_success: datetime | None = None
    http_status: int | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    retry_after: datetime | None = None
    items_total: int = 0


@dataclass(frozen=True)
class Subscriber:
    email: str
    name: str = ""
    language: str = "en"
    status: Literal["active", "unsubscribed", "bounced"] = "active"
    consent: Literal["express", "implied"] = "express"
    consent_date: str = ""  # ISO date
    consent_source: str = ""
    consent_wording: str = ""
    created: datetime | None = None
    updated: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False)


IssueStatus = Literal["draft", "approved", "sent"]
ISSUE_STATUSES: tuple[str, ...] = ("draft", "approved", "sent")


@dataclass(frozen=True)
class AlsoCovered:
    """Another source that carried the same story."""

    source: str
    url: str


@dataclass(frozen=True)
class IssueItem:
    """One item of an issue as held in its review file (self-contained: no database needed)."""

    id: str
    title: str
    url: str
    source: str  # the source's display name
    date: str  # ISO date (YYYY-MM-DD)
    section: str
    language: str  # the item's own language
    pick: bool | None = None  # None = undecided
    region: str | None = None
    format: str = "article"
    blurb: dict[str, str] = field(default_factory=dict)  # edition language -> text
    note: str = ""
    image_url: str | None = None
    image_alt: str = ""
    tags: tuple[str, ...] = ()
    also: tuple[AlsoCovered, ...] = ()


@dataclass(frozen=True)
class Issue:
    """One issue as read from issues/YYYY-MM/review.yaml.

    Per-edition texts are keyed by language (`en`, `fr`).
    """

    issue: str  # YYYY-MM
    status: IssueStatus
    title: dict[str, str]
    subject: dict[str, str]
    preheader: dict[str, str]
    intro: dict[str, str]
    sections: tuple[str, ...]  # section ids in their order in the email
    items: tuple[IssueItem, ...]
    editions: tuple[str, ...] = ("en",)
    send_at: datetime | None = None

    def picked(self, section: str | None = None) -> tuple[IssueItem, ...]:
        return tuple(
            i for i in self.items if i.pick is True and (section is None or i.section == section)
        )


@dataclass(frozen=True)
class RenderedEmail:
    """One edition of an issue, rendered: what `spark send` mails."""

    issue: str
    language: str
    subject: str
    preheader: str
    html: str
    text: str
    web_url: str  # the issue's page in the archive


@dataclass(frozen=True)
class JobRun:
    """One run of a scheduled job, as recorded in the store's job_runs table."""

    job: str
    started: datetime
    finished: datetime | None = None
    ok: bool | None = None  # None while running (or when the process died mid-run)
    message: str = ""
