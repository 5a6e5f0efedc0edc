"""The email of one issue edition: review file -> Jinja2 -> MJML -> HTML, plus a text part.

`render_edition` is pure (an Issue and the settings in, a RenderedEmail out);
`render_issue` is the edge that reads the review file and writes issues/YYYY-MM/email.*.

Templates ship in spark/templates/email/; a newsletter's own templates/email/ overrides them
file by file. Everything that comes from items (titles, blurbs, links, images) is turned
into a safe view model here before a template sees it: text is escaped by Jinja's
autoescaping, Markdown blurbs go through `spark.blurbs` (allowlist + nh3), links and image
addresses must be absolute http(s).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import mjml
from markupsafe import Markup

from spark import blurbs
from spark.config import Settings
from spark.errors import Problem, RenderError, ReviewFileError
from spark.i18n import format_date, format_month, t
from spark.models import Issue, IssueItem, RenderedEmail
from spark.preflight import check
from spark.rendered import read_rendered, write_rendered
from spark.review_file import read_issue, validate_issue_name

MJML_TEMPLATE = "email.mjml.j2"
TEXT_TEMPLATE = "email.txt.j2"
FONT_STACK = "-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
DEFAULT_COLORS = {
    "brand": "#0b5cad",
    "accent": "#f4a300",
    "text": "#1f2933",
    "muted": "#52606d",
    "background": "#f3f5f7",
    "surface": "#ffffff",
}
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029\x85]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Line breaks (and the indentation after them) between two tags render as nothing in
# mjml's output; a plain space between inline tags does, so only newline runs go.
_BETWEEN_TAGS = re.compile(r">[ \t]*\n\s*<")


@dataclass(frozen=True)
class RenderResult:
    """What `render_issue` did for one issue."""

    issue: str
    written: list[Path] = field(default_factory=list)
    warnings: dict[str, list[str]] = field(default_factory=dict)  # language -> preflight
    frozen: bool = False  # a sent issue: its email files were left as they are
    emails: dict[str, RenderedEmail] = field(default_factory=dict)


# --------------------------------------------------------------------------- templates


@lru_cache(maxsize=8)
def _environment(override_dir: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader(str(override_dir)),
                jinja2.PackageLoader("spark", "templates/email"),
            ]
        ),
        autoescape=lambda name: not (name or "").endswith(".txt.j2"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wrap"] = _wrap
    return env


def _wrap(text: str, indent: int = 0, width: int = 72) -> str:
    """Greedy word wrap (textwrap is several times slower and we need no hyphenation)."""
    pad = " " * indent
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        line = ""
        for word in paragraph.split():
            if line and len(pad) + len(line) + 1 + len(word) > width:
                lines.append(pad + line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(pad + line if line else "")
    return "\n".join(lines)


def environment(settings: Settings) -> jinja2.Environment:
    return _environment(settings.root / "templates" / "email")


# --------------------------------------------------------------------------- view model


def _color(settings: Settings, key: str) -> str:
    value = str(settings.colors.get(key, "")).strip()
    return value if _COLOR.match(value) else DEFAULT_COLORS[key]


def _one_line(issue: Issue, what: str, value: str, language: str) -> str:
    if _LINE_BREAK.search(value):
        raise ReviewFileError(
            Problem(
                f"the {language} {what} of issue {issue.issue} contains a line break",
                fix=f"write `{what}:` on one line in review.yaml (mail headers cannot hold one)",
            )
        )
    return blurbs.clean_text(value)


def _issue_date(issue: Issue, settings: Settings) -> date:
    if issue.send_at is not None:
        return issue.send_at.astimezone(settings.tz).date()
    year, month = (int(p) for p in issue.issue.split("-"))
    return date(year, month, 1)


def web_url(settings: Settings, issue: str, language: str) -> str:
    """The issue's page in the archive (the layout the archive stage builds)."""
    prefix = "" if language == "en" else f"{language}/"
    return f"{settings.archive_url}{prefix}{issue}/"


def _item_view(item: IssueItem, language: str) -> dict[str, Any]:
    badges = []
    if item.region:
        key = f"region.{item.region}"
        label = t(language, key)
        badges.append(item.region if label == key else label)
    badges.append(t(language, f"format.{item.format}"))
    if item.language != language:
        badges.append(t(language, f"in_language.{item.language}"))
    blurb = item.blurb.get(language) or next(iter(item.blurb.values()), "")
    try:
        when = format_date(date.fromisoformat(item.date), language) if item.date else ""
    except ValueError:
        when = ""
    image = blurbs.safe_url(item.image_url)
    blurb_html, blurb_text = blurbs.render(blurb)
    also = [
        {"source": blurbs.clean_text(a.source) or url, "url": url}
        for a in item.also
        if (url := blurbs.safe_url(a.url))
    ]
    return {
        "id": item.id,
        "title": blurbs.clean_text(item.title),
        "url": blurbs.safe_url(item.url),
        "source": blurbs.clean_text(item.source),
        "date": when,
        "badges": badges,
        "blurb_html": Markup(blurb_html),
        "blurb_text": blurb_text,
        "image_url": image,
        "image_alt": blurbs.clean_text(item.image_alt or item.title) if image else "",
        "also": also,
    }


def _context(issue: Issue, settings: Settings, language: str) -> dict[str, Any]:
    year, month = (int(p) for p in issue.issue.split("-"))
    month_label = format_month(year, month, language)
    name = blurbs.clean_text(settings.name)
    title = blurbs.clean_text(issue.title.get(language, "")) or f"{name} — {month_label}"
    subject = _one_line(issue, "subject", issue.subject.get(language, ""), language) or title
    intro_html, intro_text = blurbs.render(issue.intro.get(language, ""))
    preheader = _one_line(issue, "preheader", issue.preheader.get(language, ""), language)
    if not preheader:
        preheader = textwrap.shorten(intro_text, 110, placeholder="…")
    sections = []
    for sid in issue.sections:
        items = [_item_view(i, language) for i in issue.picked(sid)]
        if not items:
            continue  # render_issue warns about it; an empty heading helps nobody
        section = settings.section(sid)
        sections.append(
            {"id": sid, "label": section.label(language) if section else sid, "entries": items}
        )
    contact = settings.contact.strip()
    contact_url = f"mailto:{contact}" if _EMAIL.match(contact) else blurbs.safe_url(contact)
    unsubscribe = blurbs.safe_url(settings.unsubscribe_url) or (
        f"mailto:{settings.unsubscribe_mailto}?subject=unsubscribe"
        if settings.unsubscribe_mailto
        else None
    )
    return {
        "lang": language,
        "name": name,
        "title": title,
        "subject": subject,
        "preheader": preheader,
        "date": format_date(_issue_date(issue, settings), language),
        "month": month_label,
        "intro_html": Markup(intro_html),
        "intro_text": intro_text,
        "sections": sections,
        "web_url": web_url(settings, issue.issue, language),
        "archive_url": settings.archive_url,
        "subscribe_url": blurbs.safe_url(settings.subscribe_url),
        "unsubscribe_url": unsubscribe,
        "sender_name": blurbs.clean_text(settings.sender_name),
        "organization": blurbs.clean_text(settings.organization),
        "address_lines": [
            blurbs.clean_text(line) for line in settings.postal_address.splitlines() if line.strip()
        ],
        "contact": contact,
        "contact_url": contact_url,
        "logo_url": blurbs.safe_url(settings.logo_url),
        "colors": {k: _color(settings, k) for k in DEFAULT_COLORS},
        "font": FONT_STACK,
        "labels": _Labels(language, name),
    }


class _Labels:
    """`labels.read_more` in templates: the localized message for the edition."""

    def __init__(self, language: str, name: str) -> None:
        self._language = language
        self._name = name

    def __getattr__(self, key: str) -> str:
        if key.startswith("_"):
            raise AttributeError(key)
        return t(self._language, key.replace("__", "."), name=self._name)

    def __call__(self, key: str) -> str:
        return t(self._language, key, name=self._name)


# --------------------------------------------------------------------------- rendering


def render_mjml(issue: Issue, settings: Settings, language: str) -> str:
    """The MJML source of one edition (exposed for benchmarks and template debugging)."""
    return _render_template(settings, MJML_TEMPLATE, _context(issue, settings, language))


def _render_template(settings: Settings, name: str, context: dict[str, Any]) -> str:
    try:
        return environment(settings).get_template(name).render(context)
    except Exception as exc:  # an edited template can fail in any way; say where
        where = getattr(exc, "filename", None) or name
        line = getattr(exc, "lineno", None)
        raise RenderError(f"template {where}{f':{line}' if line else ''} failed: {exc}") from exc


def mjml_to_html(source: str) -> str:
    try:
        html = mjml.mjml2html(source, fonts={})
    except Exception as exc:  # mjml-python raises plain exceptions from its Rust core
        raise RenderError(f"the MJML could not be rendered: {exc}") from exc
    return _BETWEEN_TAGS.sub("><", html.strip()) + "\n"


def render_edition(issue: Issue, settings: Settings, language: str) -> RenderedEmail:
    """One edition of an issue as HTML, text, subject and preheader. Pure: writes nothing."""
    context = _context(issue, settings, language)
    html = mjml_to_html(_render_template(settings, MJML_TEMPLATE, context))
    text = _render_template(settings, TEXT_TEMPLATE, context)
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    return RenderedEmail(
        issue=issue.issue,
        language=language,
        subject=context["subject"],
        preheader=context["preheader"],
        html=html,
        text=text,
        web_url=context["web_url"],
    )


def section_warnings(issue: Issue) -> list[str]:
    """Sections listed in the review file that have no picked item (left out of the email)."""
    return [
        f"section {sid!r} has no picked item; it is left out of the email"
        for sid in issue.sections
        if not issue.picked(sid)
    ]


def render_issue(settings: Settings, issue_name: str) -> RenderResult:
    """Render every edition of issues/YYYY-MM/ and write email.<lang>.html/.txt/.json.

    A sent issue is frozen: its email files are not rewritten (the result says so and
    carries the preflight of the files as they are).
    """
    validate_issue_name(issue_name)
    issue_dir = settings.issues_dir / issue_name
    path = issue_dir / "review.yaml"
    if not path.exists():
        raise ReviewFileError(
            Problem(
                f"issue {issue_name} has no review file",
                path,
                fix=f"run `spark review {issue_name}` first",
            )
        )
    issue = read_issue(path, settings)
    result = RenderResult(issue=issue_name, frozen=issue.status == "sent")
    for language in settings.editions:
        if result.frozen:
            try:
                email = read_rendered(issue_dir, language)
            except Exception:  # an edition never rendered before it was sent
                continue
        else:
            try:
                email = render_edition(issue, settings, language)
            except ReviewFileError as exc:
                raise ReviewFileError(
                    [
                        Problem(p.message, p.path or path, p.line, p.column, p.fix)
                        for p in exc.problems
                    ]
                ) from exc
            result.written.extend(write_rendered(issue_dir, email))
        result.emails[language] = email
        result.warnings[language] = section_warnings(issue) + check(email, settings)
    return result
