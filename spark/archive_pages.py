"""The archive website's pages, rendered in memory: issues in, {relative path: text} out.

Pure: no file is read or written here apart from the templates. Layout (the email's
web-version link relies on it): the first-language pages at the root (`index.html`,
`YYYY-MM/index.html`, `items/index.html`, `search/index.html`, `feed.xml`), every other
edition under its language code (`fr/...`), one `sitemap.xml`, shared `assets/`.
Links between pages are relative, so the site works from any static host and path;
canonical, Open Graph, feed and sitemap URLs are absolute, from `settings.archive_url`.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Protocol

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    select_autoescape,
)
from markdown_it import MarkdownIt

from spark.archive_search import bundle_path
from spark.config import Settings
from spark.i18n import LOCALES, format_date, format_month, t
from spark.models import Issue, IssueItem

PACKAGE_TEMPLATES = Path(__file__).parent / "templates" / "site"
TOP_ITEMS = 3  # items named under each issue on the index page
ROOT_LANGUAGE = "en"  # its pages live at the site root; other editions under /<lang>/


@dataclass(frozen=True)
class ItemView:
    id: str
    anchor: str
    title: str
    url: str
    source: str
    date_text: str
    section: str
    section_label: str
    region: str
    region_label: str
    language: str
    language_note: str  # "in French" when the item's language differs from the page's
    format: str
    format_label: str
    tags: tuple[str, ...]
    blurb_html: str
    also: tuple[tuple[str, str], ...]
    issue: str
    issue_month: str


@dataclass(frozen=True)
class SectionView:
    id: str
    label: str
    items: tuple[ItemView, ...]


@dataclass(frozen=True)
class IssueView:
    issue: str
    lang: str
    title: str
    description: str  # plain text for meta tags and the feed summary
    intro_html: str
    month: str
    date_text: str
    published: datetime
    path: str  # relative to the site root, e.g. "fr/2026-12/"
    sections: tuple[SectionView, ...]
    alternates: dict[str, str] = field(default_factory=dict)  # lang -> path

    @property
    def items(self) -> tuple[ItemView, ...]:
        return tuple(i for s in self.sections for i in s.items)


def lang_root(lang: str) -> str:
    """Where an edition's pages live, relative to the site root."""
    return "" if lang == ROOT_LANGUAGE else f"{lang}/"


def issue_path(issue: str, lang: str) -> str:
    return f"{lang_root(lang)}{issue}/"


def issue_editions(issue: Issue, settings: Settings) -> tuple[str, ...]:
    """The editions an issue was published in: the newsletter's editions it has texts for."""
    out = [
        lang
        for lang in settings.editions
        if issue.title.get(lang) or issue.subject.get(lang) or issue.intro.get(lang)
    ]
    return tuple(out) or settings.editions[:1]


def issue_published(issue: Issue, settings: Settings) -> datetime:
    """When an issue went out: its `send_at`, else the first of its month (local time)."""
    if issue.send_at is not None:
        return issue.send_at.astimezone(UTC)
    year, month = (int(x) for x in issue.issue.split("-"))
    return datetime.combine(date(year, month, 1), time(9), tzinfo=settings.tz).astimezone(UTC)


def make_environment(settings: Settings, bytecode_dir: Path | None = None) -> Environment:
    """Templates: the newsletter's `templates/site/` first, then the bundled ones.

    With `bytecode_dir`, compiled templates are kept there between runs (Jinja checks
    each template's source before using its compiled form).
    """
    loader = ChoiceLoader(
        [
            FileSystemLoader(str(settings.root / "templates" / "site")),
            FileSystemLoader(str(PACKAGE_TEMPLATES)),
        ]
    )
    env = Environment(
        loader=loader,
        autoescape=select_autoescape(("html", "xml", "html.j2", "xml.j2"), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=None if bytecode_dir is None else FileSystemBytecodeCache(str(bytecode_dir)),
    )
    env.globals["t"] = t
    return env


class _Markdown:
    """Editors' texts (intro, blurbs) are Markdown; raw HTML stays text, unsafe links drop."""

    def __init__(self) -> None:
        self._md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
        self._cache: dict[str, str] = {}

    def html(self, text: str) -> str:
        out = self._cache.get(text)
        if out is None:
            out = self._md.render(text)
            self._cache[text] = out
        return out


def _plain(text: str, limit: int = 280) -> str:
    flat = " ".join(text.replace("*", "").replace("_", " ").split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0] + "…"


def _region_label(region: str, lang: str) -> str:
    if region in ("national", "international"):
        return t(lang, f"region.{region}")
    return region


def _item_view(
    item: IssueItem, issue: Issue, lang: str, settings: Settings, md: _Markdown, month: str
) -> ItemView:
    section = settings.section(item.section)
    blurb = item.blurb.get(lang) or next(iter(item.blurb.values()), "")
    try:
        item_date = format_date(date.fromisoformat(item.date), lang) if item.date else ""
    except ValueError:
        item_date = item.date
    return ItemView(
        id=item.id,
        anchor=f"item-{item.id}",
        title=item.title,
        url=item.url,
        source=item.source,
        date_text=item_date,
        section=item.section,
        section_label=section.label(lang) if section else item.section,
        region=item.region or "",
        region_label=_region_label(item.region, lang) if item.region else "",
        language=item.language,
        language_note="" if item.language == lang else t(lang, f"in_language.{item.language}"),
        format=item.format,
        format_label=t(lang, f"format.{item.format}"),
        tags=item.tags,
        blurb_html=md.html(blurb),
        also=tuple((a.source, a.url) for a in item.also if a.url.startswith(("http:", "https:"))),
        issue=issue.issue,
        issue_month=month,
    )


def issue_view(issue: Issue, lang: str, settings: Settings, md: _Markdown) -> IssueView:
    year, month_no = (int(x) for x in issue.issue.split("-"))
    month = format_month(year, month_no, lang)
    published = issue_published(issue, settings)
    sections = []
    for sid in issue.sections:
        picked = issue.picked(sid)
        if not picked:
            continue
        section = settings.section(sid)
        sections.append(
            SectionView(
                id=sid,
                label=section.label(lang) if section else sid,
                items=tuple(_item_view(i, issue, lang, settings, md, month) for i in picked),
            )
        )
    title = issue.title.get(lang) or issue.subject.get(lang) or f"{settings.name} — {month}"
    intro = issue.intro.get(lang, "")
    return IssueView(
        issue=issue.issue,
        lang=lang,
        title=title,
        description=_plain(intro) or _plain(issue.preheader.get(lang, "")) or title,
        intro_html=md.html(intro) if intro else "",
        month=month,
        date_text=format_date(published.astimezone(settings.tz).date(), lang),
        published=published,
        path=issue_path(issue.issue, lang),
        sections=tuple(sections),
        alternates={e: issue_path(issue.issue, e) for e in issue_editions(issue, settings)},
    )


def _options(values: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for value, label in values:
        if value and value not in seen:
            seen[value] = label
    return sorted(seen.items(), key=lambda kv: kv[1].casefold())


@dataclass
class _Page:
    """What every page template gets: where it stands and how to reach the rest."""

    settings: Settings
    lang: str
    path: str  # the page's own directory, relative to the site root ("" or "fr/2026-12/")
    alternates: dict[str, str]  # lang -> page path, the page in each edition

    @property
    def root(self) -> str:
        """The relative way back to the site root from this page ("", "../", "../../")."""
        depth = self.path.count("/")
        return "../" * depth

    def rel(self, target: str) -> str:
        """A relative link from this page to `target` (a site-root-relative path)."""
        if not self.path:
            return target or "./"
        rel = posixpath.relpath("/" + target, "/" + self.path)
        if rel == ".":
            return "./"
        return rel + ("/" if target.endswith("/") and not rel.endswith("/") else "")

    def absolute(self, target: str) -> str:
        return self.settings.archive_url + target

    @property
    def home(self) -> str:
        return lang_root(self.lang)

    @property
    def canonical(self) -> str:
        return self.absolute(self.path)

    @property
    def locale(self) -> str:
        return LOCALES.get(self.lang, "en_CA")

    def switch(self) -> list[tuple[str, str]]:
        """(lang, relative link) for each other edition: the same page, else its home."""
        out = []
        for lang in self.settings.editions:
            if lang == self.lang:
                continue
            target = self.alternates.get(lang, lang_root(lang))
            out.append((lang, self.rel(target)))
        return out


@dataclass(frozen=True)
class IssueRender:
    """Everything of one issue's edition the site needs: its view and its rendered parts."""

    view: IssueView
    page: str  # the issue page
    items_html: str  # its items as the items page lists them
    feed_entry: str  # its entry in the edition's feed


class RenderCache(Protocol):
    """Where rendered issues are kept between builds, keyed by `issue_key`."""

    def get(self, key: str) -> IssueRender | None: ...

    def put(self, key: str, value: IssueRender) -> None: ...


def issue_key(issue: Issue, lang: str) -> str:
    """The issue's content and edition; the cache adds the templates and settings."""
    return hashlib.sha256(f"{lang}\0{issue!r}".encode()).hexdigest()


def render_issue(
    issue: Issue, lang: str, settings: Settings, env: Environment, md: _Markdown
) -> IssueRender:
    """One issue's edition: pages that depend on this issue alone."""
    view = issue_view(issue, lang, settings, md)
    common: dict[str, Any] = {"settings": settings, "site_langs": list(settings.editions)}
    home = lang_root(lang)
    page = _Page(settings, lang, view.path, view.alternates)
    html = env.get_template("issue.html.j2").render(common, page=page, issue=view)
    items_page = _Page(
        settings, lang, f"{home}items/", {x: f"{lang_root(x)}items/" for x in settings.editions}
    )
    items_html = env.get_template("_item_list.html.j2").render(
        common, page=items_page, items=view.items
    )
    feed_page = _Page(settings, lang, home, {x: lang_root(x) for x in settings.editions})
    entry = env.get_template("_feed_entry.xml.j2").render(common, page=feed_page, issue=view)
    return IssueRender(view=view, page=html, items_html=items_html, feed_entry=entry)


def render_site(
    issues: list[Issue], settings: Settings, cache: RenderCache | None = None
) -> dict[str, str]:
    """Every file of the site as text, keyed by path relative to the site root.

    `issues` are the public ones (status: sent), in any order. With a `cache`, an issue
    rendered before with the same content is taken from it; the pages listing every
    issue are assembled from the cached parts.
    """
    env = make_environment(settings)
    renders = render_issues(issues, settings, env, cache)
    return {**issue_pages(renders), **render_aggregates(renders, settings, env)}


def render_issues(
    issues: list[Issue],
    settings: Settings,
    env: Environment,
    cache: RenderCache | None = None,
    keys: dict[str, str] | None = None,
) -> dict[str, list[IssueRender]]:
    """Each edition's rendered issues, newest first (from `cache` when it has them).

    `keys` may give, per issue name, a key standing for the issue's content (the hash of
    its review file, say), cheaper than hashing the issue itself.
    """
    md = _Markdown()
    ordered = sorted(issues, key=lambda i: i.issue, reverse=True)
    renders: dict[str, list[IssueRender]] = {lang: [] for lang in settings.editions}
    for issue in ordered:
        for lang in issue_editions(issue, settings):
            source = (keys or {}).get(issue.issue)
            key = f"{lang}\0{source}" if source else issue_key(issue, lang)
            done = cache.get(key) if cache is not None else None
            if done is None:
                done = render_issue(issue, lang, settings, env, md)
                if cache is not None:
                    cache.put(key, done)
            renders[lang].append(done)
    return renders


def issue_pages(renders: dict[str, list[IssueRender]]) -> dict[str, str]:
    """The issue pages of every edition: {relative path: html}."""
    return {f"{r.view.path}index.html": r.page for done in renders.values() for r in done}


def render_aggregates(
    renders: dict[str, list[IssueRender]], settings: Settings, env: Environment
) -> dict[str, str]:
    """The pages that list every issue (index, items, feed, search, sitemap) and assets."""
    site_langs = list(settings.editions)
    out: dict[str, str] = {}
    views = {lang: [r.view for r in renders[lang]] for lang in site_langs}
    common: dict[str, Any] = {"settings": settings, "site_langs": site_langs}
    for lang in site_langs:
        home = lang_root(lang)
        all_langs = {x: lang_root(x) for x in site_langs}
        by_year: dict[str, list[IssueView]] = {}
        for view in views[lang]:
            by_year.setdefault(view.issue[:4], []).append(view)
        page = _Page(settings, lang, home, all_langs)
        out[f"{home}index.html"] = env.get_template("index.html.j2").render(
            common, page=page, years=list(by_year.items()), top=TOP_ITEMS
        )
        items = [i for v in views[lang] for i in v.items]
        filters = {
            "section": _options((i.section, i.section_label) for i in items),
            "region": _options((i.region, i.region_label) for i in items),
            "language": _options(
                (i.language, t(lang, f"language_name.{i.language}")) for i in items
            ),
            "format": _options((i.format, i.format_label) for i in items),
            "tag": _options((tag, tag) for i in items for tag in i.tags),
        }
        page = _Page(
            settings, lang, f"{home}items/", {x: f"{r}items/" for x, r in all_langs.items()}
        )
        out[f"{home}items/index.html"] = env.get_template("items.html.j2").render(
            common,
            page=page,
            items=items,
            filters=filters,
            items_html="".join(r.items_html for r in renders[lang]),
        )
        page = _Page(
            settings, lang, f"{home}search/", {x: f"{r}search/" for x, r in all_langs.items()}
        )
        years = sorted({v.issue[:4] for v in views[lang]}, reverse=True)
        out[f"{home}search/index.html"] = env.get_template("search.html.j2").render(
            common, page=page, bundles=[bundle_path(y) for y in years]
        )
        page = _Page(settings, lang, home, all_langs)
        updated = max((v.published for v in views[lang]), default=datetime(2000, 1, 1, tzinfo=UTC))
        out[f"{home}feed.xml"] = env.get_template("feed.xml.j2").render(
            common,
            page=page,
            issues=views[lang],
            updated=updated,
            entries="".join(r.feed_entry for r in renders[lang]),
        )
    if ROOT_LANGUAGE not in site_langs:
        # The root must answer something: point visitors to the edition that exists.
        page = _Page(settings, site_langs[0], "", {})
        out["index.html"] = env.get_template("redirect.html.j2").render(
            common, page=page, target=lang_root(site_langs[0])
        )
    urls: list[dict[str, str]] = []
    for lang in site_langs:
        home = lang_root(lang)
        alt = {x: settings.archive_url + lang_root(x) for x in site_langs}
        for suffix in ("", "items/", "search/"):
            urls.append(
                {
                    "loc": settings.archive_url + home + suffix,
                    **{f"alt:{x}": u + suffix for x, u in alt.items()},
                }
            )
        for view in views[lang]:
            entry = {"loc": settings.archive_url + view.path}
            entry.update({f"alt:{x}": settings.archive_url + p for x, p in view.alternates.items()})
            urls.append(entry)
    out["sitemap.xml"] = env.get_template("sitemap.xml.j2").render(common, urls=urls)
    out["assets/site.css"] = env.get_template("site.css.j2").render(common)
    out["assets/site.js"] = env.get_template("site.js.j2").render(common)
    return out
