"""The review file's format, read into an `Issue`, with every problem located.

`issues/YYYY-MM/review.yaml` is the editors' file for one issue and the editorial record
the archive is rebuilt from. Its shape:

    issue: 2026-12
    status: draft                # draft | approved | sent
    send_at: 2026-12-01 09:00    # optional; local time in the newsletter's time zone
    title:     {en: ..., fr: ...}  # each per-edition text may also be a plain string,
    subject:   {en: ..., fr: ...}  # which then belongs to the first edition
    preheader: {en: ..., fr: ...}
    intro:     {en: ..., fr: ...}
    sections: [research, practices, ideas]   # their order in the email
    items:
      - id: edcan-network-3f2a9c
        pick: yes                # yes / no / blank (undecided); true/false accepted
        section: research
        title: ...
        url: https://...
        source: EdCan Network
        date: 2026-11-14
        language: en
        region: national
        format: report
        blurb: {en: ..., fr: ...}
        note: ...                # the editor's, never shown to readers
        image: https://...       # optional, with image_alt
        image_alt: ...
        tags: [literacy]
        also_covered_by:
          - {source: ..., url: ...}

Reading is pure: text in, (Issue, problems) out. Writing and merging live in `review`.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from spark.config import Settings
from spark.errors import InputError, Problem, ReviewFileError
from spark.files import FastYAMLUnsupported, fast_load_yaml, key_line, parse_yaml, value_line
from spark.models import FORMATS, ISSUE_STATUSES, LANGUAGES, REGIONS, AlsoCovered, Issue, IssueItem

ISSUE_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
ISSUE_KEYS = (
    "issue",
    "status",
    "send_at",
    "title",
    "subject",
    "preheader",
    "intro",
    "sections",
    "items",
)
ITEM_KEYS = (
    "id", "pick", "section", "title", "url", "source", "date", "language", "region", "format",
    "blurb", "note", "image", "image_alt", "tags", "also_covered_by",
)  # fmt: skip
PICK_VALUES = {"yes": True, "no": False, "true": True, "false": False, "y": True, "n": False}


def read_issue(path: Path, settings: Settings) -> Issue:
    """Read and validate a review file; raise ReviewFileError listing every problem."""
    issue, problems = parse_issue(path.read_text(encoding="utf-8"), path, settings)
    if problems or issue is None:
        raise ReviewFileError(problems)
    return issue


def parse_issue(text: str, path: Path, settings: Settings) -> tuple[Issue | None, list[Problem]]:
    """Parse review-file text. Returns the issue (None when unusable) and all problems."""
    issue = read_clean_issue(text, path, settings)
    if issue is not None:
        return issue, []
    data = load_review_yaml(text, path)
    return issue_from_yaml(data, path, settings)


def read_clean_issue(text: str, path: Path, settings: Settings) -> Issue | None:
    """The issue of a review file that reads without any problem, through the fast loader.

    None when the fast loader cannot read the text or the issue has problems: the editors'
    parser (`load_review_yaml`, round-trip, ten times slower) then reads it again and
    locates every problem by line and column, so messages are the same either way.
    """
    try:
        data = fast_load_yaml(text)
    except FastYAMLUnsupported:
        return None
    issue, problems = issue_from_yaml(data, path, settings)
    return None if problems else issue


def load_review_yaml(text: str, path: Path) -> Any:
    """Parse review-file text; a syntax error raises ReviewFileError naming line:column.

    YAML's own messages point where the parser gave up, which for the two commonest slips
    of a text editor is far from the cause: a tab used for indentation (every such line is
    reported) and a quote never closed (reported where it opens).
    """
    try:
        return parse_yaml(text, path)
    except InputError as exc:
        tabs = [
            Problem(
                "a tab character is used for indentation",
                path,
                number,
                line.index("\t") + 1,
                "indent with spaces only (YAML does not allow tabs); most editors can "
                "convert tabs to spaces",
            )
            for number, line in enumerate(text.splitlines(), start=1)
            if "\t" in line[: len(line) - len(line.lstrip())]
        ]
        if tabs:
            raise ReviewFileError(tabs) from exc
        cause = exc.__cause__
        if (
            isinstance(cause, MarkedYAMLError)
            and "quoted scalar" in str(cause.context or "")
            and cause.context_mark is not None
        ):
            mark = cause.context_mark
            raise ReviewFileError(
                Problem(
                    "a quote opened here is never closed",
                    path,
                    mark.line + 1,
                    mark.column + 1,
                    "add the closing quote at the end of the text (or remove the opening one)",
                )
            ) from exc
        raise ReviewFileError(exc.problems) from exc


def issue_from_yaml(
    data: Any, path: Path, settings: Settings
) -> tuple[Issue | None, list[Problem]]:
    problems: list[Problem] = []

    def report(node: Any, key: str | int, message: str, fix: str, *, at_key: bool = False) -> None:
        line, col = key_line(node, key) if at_key else value_line(node, key)
        problems.append(Problem(message, path, line, col, fix))

    if not isinstance(data, CommentedMap):
        return None, [
            Problem(
                "the review file must be a mapping (issue:, status:, items: ...)",
                path,
                1,
                1,
                "restore it from review.yaml.bak or run `spark review` again",
            )
        ]
    for key in data:
        if key not in ISSUE_KEYS:
            report(
                data,
                key,
                f"unknown key {key!r}",
                f"remove it; allowed: {', '.join(ISSUE_KEYS)}",
                at_key=True,
            )

    issue_name = str(data.get("issue") or "")
    if not ISSUE_RE.match(issue_name):
        report(
            data,
            "issue",
            f"`issue` must be YYYY-MM, not {issue_name!r}",
            "write e.g. `issue: 2026-12`",
        )
    status = str(data.get("status") or "draft")
    if status not in ISSUE_STATUSES:
        report(
            data, "status", f"invalid status {status!r}", f"use one of: {', '.join(ISSUE_STATUSES)}"
        )
        status = "draft"
    send_at = _send_at(data, settings, report)
    editions = settings.editions
    texts = {
        k: _per_edition(data, k, editions, report)
        for k in ("title", "subject", "preheader", "intro")
    }

    sections = _sections(data, settings, report)
    items = _items(data.get("items"), data, path, settings, sections, report, problems)
    issue = Issue(
        issue=issue_name,
        status=status,  # type: ignore[arg-type]
        title=texts["title"],
        subject=texts["subject"],
        preheader=texts["preheader"],
        intro=texts["intro"],
        sections=sections,
        items=tuple(items),
        editions=editions,
        send_at=send_at,
    )
    return issue, problems


def _send_at(data: CommentedMap, settings: Settings, report: Any) -> datetime | None:
    raw = data.get("send_at")
    if raw is None or raw == "":
        return None
    value: datetime | None = None
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw.strip())
        except ValueError:
            value = None
    if value is None:
        report(
            data,
            "send_at",
            f"`send_at` is not a date and time: {raw!r}",
            "write e.g. `send_at: 2026-12-01 09:00` (local time)",
        )
        return None
    return value if value.tzinfo else value.replace(tzinfo=settings.tz)


def _per_edition(
    node: CommentedMap, key: str, editions: tuple[str, ...], report: Any
) -> dict[str, str]:
    raw = node.get(key)
    if raw is None:
        return {}
    if isinstance(raw, str):
        return {editions[0]: raw.strip()} if raw.strip() else {}
    if isinstance(raw, CommentedMap):
        out: dict[str, str] = {}
        for lang, text in raw.items():
            if lang not in LANGUAGES:
                report(
                    raw, lang, f"unknown language {lang!r} in {key}", "use en or fr", at_key=True
                )
            elif text is not None and not isinstance(text, str):
                report(raw, lang, f"{key} ({lang}) must be text", "put the text in quotes")
            elif text and text.strip():
                out[str(lang)] = text.strip()
        return out
    report(
        node,
        key,
        f"`{key}` must be text, or one text per edition",
        f"write `{key}: some text` or `{key}: {{en: ..., fr: ...}}`",
    )
    return {}


def _sections(data: CommentedMap, settings: Settings, report: Any) -> tuple[str, ...]:
    raw = data.get("sections")
    if raw is None:
        return settings.section_ids
    if not isinstance(raw, CommentedSeq):
        report(
            data,
            "sections",
            "`sections` must be a list of section ids",
            f"write `sections: [{', '.join(settings.section_ids)}]`",
        )
        return settings.section_ids
    out: list[str] = []
    for index, sid in enumerate(raw):
        if sid not in settings.section_ids:
            report(
                raw,
                index,
                f"unknown section {sid!r}",
                f"use one of: {', '.join(settings.section_ids)}",
                at_key=True,
            )
        elif sid not in out:
            out.append(str(sid))
    return tuple(out)


def parse_pick(value: Any) -> tuple[bool | None, bool]:
    """(pick, valid) for a `pick:` value: yes/no/true/false/blank."""
    if value is None or value == "":
        return None, True
    if isinstance(value, bool):
        return value, True
    if isinstance(value, str) and value.strip().lower() in PICK_VALUES:
        return PICK_VALUES[value.strip().lower()], True
    return None, False


def _items(
    raw: Any,
    data: CommentedMap,
    path: Path,
    settings: Settings,
    sections: tuple[str, ...],
    report: Any,
    problems: list[Problem],
) -> list[IssueItem]:
    if raw is None:
        return []
    if not isinstance(raw, CommentedSeq):
        report(data, "items", "`items` must be a list", "each item starts with `- id: ...`")
        return []
    items: list[IssueItem] = []
    seen_ids: dict[str, int | None] = {}
    picked_urls: dict[str, int | None] = {}
    for index, node in enumerate(raw):
        if not isinstance(node, CommentedMap):
            report(
                raw,
                index,
                f"item {index + 1} is not a mapping",
                "each item starts with `- id: ...`",
                at_key=True,
            )
            continue
        line = node.lc.line + 1
        for key in node:
            if key not in ITEM_KEYS:
                report(
                    node,
                    key,
                    f"unknown key {key!r} in an item",
                    f"remove it; allowed: {', '.join(ITEM_KEYS)}",
                    at_key=True,
                )
        item_id = str(node.get("id") or "")
        if not item_id:
            problems.append(
                Problem(
                    "an item has no `id`",
                    path,
                    line,
                    None,
                    "restore the id from review.yaml.bak; ids link items to the store",
                )
            )
            continue
        if item_id in seen_ids:
            report(
                node,
                "id",
                f"duplicate id {item_id!r} (also on line {seen_ids[item_id]})",
                "each item appears once; delete the copy",
            )
            continue
        seen_ids[item_id] = line
        pick, ok = parse_pick(node.get("pick"))
        if not ok:
            report(
                node,
                "pick",
                f"invalid pick {node.get('pick')!r}",
                "write yes, no, or leave it blank",
            )
        section = str(node.get("section") or "")
        if section not in settings.section_ids:
            report(
                node,
                "section" if "section" in node else "id",
                f"unknown section {section!r}",
                f"use one of: {', '.join(settings.section_ids)}",
            )
        elif pick and section not in sections:
            report(
                node,
                "section",
                f"section {section!r} is not in this issue's `sections` list",
                "add it to `sections:` at the top, or move the item",
            )
        blurb = _per_edition(node, "blurb", settings.editions, report)
        url = str(node.get("url") or "")
        if pick:
            for lang in settings.editions:
                if not blurb.get(lang):
                    raw_blurb = node.get("blurb")
                    at_lang = isinstance(raw_blurb, CommentedMap) and lang in raw_blurb
                    report(
                        raw_blurb if at_lang else node,
                        lang if at_lang else ("blurb" if "blurb" in node else "pick"),
                        f"picked item has no {lang} blurb",
                        f"write a blurb under `blurb: {{{lang}: ...}}`, or unpick the item",
                    )
            if not str(node.get("title") or "").strip():
                report(
                    node,
                    "title" if "title" in node else "pick",
                    "picked item has no title",
                    "give it a title",
                )
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                report(
                    node,
                    "url" if "url" in node else "pick",
                    f"picked item has no valid link: {url!r}",
                    "give the full https:// address of the item",
                )
            elif url in picked_urls:
                report(
                    node,
                    "pick",
                    f"this link is already picked on line {picked_urls[url]}",
                    "pick it once; unpick one of the two",
                )
            else:
                picked_urls[url] = line
        language = str(node.get("language") or settings.default_language)
        if language not in LANGUAGES:
            report(node, "language", f"unknown language {language!r}", "use en or fr")
        region = node.get("region")
        if region is not None and region not in REGIONS:
            report(
                node, "region", f"unknown region {region!r}", f"use one of: {', '.join(REGIONS)}"
            )
        fmt = str(node.get("format") or "article")
        if fmt not in FORMATS:
            report(node, "format", f"unknown format {fmt!r}", f"use one of: {', '.join(FORMATS)}")
        raw_date = node.get("date")
        item_date = raw_date.isoformat() if isinstance(raw_date, date) else str(raw_date or "")
        also = tuple(
            AlsoCovered(str(a.get("source") or ""), str(a.get("url") or ""))
            for a in (node.get("also_covered_by") or [])
            if isinstance(a, CommentedMap)
        )
        tags = node.get("tags") or []
        items.append(
            IssueItem(
                id=item_id,
                title=str(node.get("title") or "").strip(),
                url=url,
                source=str(node.get("source") or ""),
                date=item_date[:10],
                section=section,
                language=language,
                pick=pick,
                region=None if region is None else str(region),
                format=fmt,
                blurb=blurb,
                note=str(node.get("note") or ""),
                image_url=(str(node["image"]) if node.get("image") else None),
                image_alt=str(node.get("image_alt") or ""),
                tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
                also=also,
            )
        )
    return items


def validate_issue_name(value: str) -> str:
    if not ISSUE_RE.match(value):
        raise ReviewFileError(
            Problem(f"{value!r} is not an issue month", fix="write it as YYYY-MM, e.g. 2026-12")
        )
    return value


def set_status(path: Path, status: str) -> None:
    """Change an issue's `status:` in place, keeping every comment and edit of the file.

    The file must already read cleanly; it is written atomically, the previous version kept
    as review.yaml.bak.
    """
    from spark.files import atomic_write_text, dump_yaml

    if status not in ISSUE_STATUSES:
        raise ValueError(f"unknown issue status {status!r}")
    data = parse_yaml(path.read_text(encoding="utf-8"), path, ReviewFileError)
    if not isinstance(data, CommentedMap):
        raise ReviewFileError(Problem("the review file is not a mapping", path, 1, 1))
    data["status"] = status
    atomic_write_text(path, dump_yaml(data), backup=True)
