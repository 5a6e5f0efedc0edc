"""The parts of a review file Spark writes: the header and summary, and an item's fields.

Pure: data in, text or ruamel nodes out. The header is the only part of the file Spark
owns outright; it runs from `HEADER_FIRST` down to `HEADER_END` and is rewritten on every
refresh. Everything below it belongs to the editors.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from spark.config import Settings
from spark.models import AlsoCovered
from spark.review_file import parse_pick

HEADER_FIRST = "# Spark review file"
HEADER_END = "# ---- end of Spark's summary: everything below is yours ----"

# Fields Spark may update on an undecided item. The editor's own fields (pick, section,
# blurb, note, image_alt) are never written after the item is first added.
MACHINE_FIELDS = (
    "title", "url", "source", "date", "language", "region", "format", "image", "tags",
    "also_covered_by",
)  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    """A stored item made ready for the review file."""

    id: str
    section: str
    title: str
    url: str
    source: str  # display name
    source_id: str
    date: date
    language: str
    region: str | None
    format: str
    summary: str
    image: str | None
    tags: tuple[str, ...]
    also: tuple[AlsoCovered, ...]
    score: float


def split_header(text: str) -> tuple[str, int]:
    """(body, lines removed): the file without Spark's header, if it starts with one."""
    if not text.startswith(HEADER_FIRST):
        return text, 0
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.rstrip("\r\n") == HEADER_END:
            rest = lines[index + 1 :]
            removed = index + 1
            while rest and not rest[0].strip():
                rest = rest[1:]
                removed += 1
            return "".join(rest), removed
    return text, 0


def machine_values(c: Candidate) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": c.title,
        "url": c.url,
        "source": c.source,
        "date": c.date,
        "language": c.language,
        "region": c.region,
        "format": c.format,
        "image": c.image,
        "tags": _flow_seq(c.tags) if c.tags else None,
        "also_covered_by": _also(c.also) if c.also else None,
    }
    return values


def item_node(c: Candidate, editions: Sequence[str]) -> CommentedMap:
    """A new undecided item, its blurb pre-filled from the summary in its own language."""
    node = CommentedMap()
    node["id"] = c.id
    node["pick"] = None
    node["section"] = c.section
    values = machine_values(c)
    for key in ("title", "url", "source", "date", "language", "region", "format"):
        if values[key] is not None:
            node[key] = values[key]
    node["blurb"] = blurb_node(c.summary, c.language, editions)
    if c.image:
        node["image"] = c.image
        node["image_alt"] = ""
    for key in ("tags", "also_covered_by"):
        if values[key] is not None:
            node[key] = values[key]
    return node


def blurb_node(summary: str, language: str, editions: Sequence[str]) -> CommentedMap:
    """One blurb per edition; the summary fills the edition of the item's own language (or
    the first edition when none matches), the others wait for the editor's translation."""
    home = language if language in editions else editions[0]
    node = CommentedMap()
    for lang in editions:
        node[lang] = summary if lang == home else ""
    return node


def update_machine_fields(node: CommentedMap, c: Candidate) -> bool:
    """Bring an undecided item's machine fields up to date; True when anything changed."""
    changes = machine_changes(node, c)
    for key, value in changes.items():
        node[key] = value
    return bool(changes)


def machine_changes(node: Mapping[str, Any], c: Candidate) -> dict[str, Any]:
    """The fields to set on an undecided item to bring it up to date, in the order set."""
    changes: dict[str, Any] = {}
    for key, value in machine_values(c).items():
        if value is None:
            continue  # never erase: it may be the editor's own addition
        if _plain(node.get(key)) != _plain(value):
            changes[key] = value
    if c.image and "image_alt" not in node:
        changes["image_alt"] = ""
    return changes


def plain(value: Any) -> Any:
    """Comparable plain data: mappings as dicts with text keys, sequences as lists."""
    return _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _flow_seq(values: Sequence[str]) -> CommentedSeq:
    seq = CommentedSeq(values)
    seq.fa.set_flow_style()
    return seq


def _also(also: Sequence[AlsoCovered]) -> CommentedSeq:
    seq = CommentedSeq()
    for a in also:
        entry = CommentedMap()
        entry["source"] = a.source
        entry["url"] = a.url
        entry.fa.set_flow_style()
        seq.append(entry)
    return seq


def per_edition_node(texts: Mapping[str, str], editions: Sequence[str]) -> CommentedMap:
    node = CommentedMap()
    for lang in editions:
        node[lang] = texts.get(lang, "")
    return node


def header(issue: str, data: Any, settings: Settings) -> str:
    """The explanatory comment and the summary of picks, for the top of the file."""
    sections = " | ".join(settings.section_ids)
    editions = ", ".join(settings.editions)
    lines = [
        f"{HEADER_FIRST} for the {issue} issue of {settings.name}.",
        "# Spark rewrites these lines (down to the marker line) on every refresh;",
        "# everything below the marker is yours and is never lost or overwritten.",
        "#",
        "# How to edit:",
        "#   pick:     yes to include an item, no to leave it out, blank = undecided",
        f"#   section:  {sections}   (move items up or down to order them)",
        f"#   blurb:    a plain-language summary for each edition ({editions})",
        "#   note:     for the team only, never shown to readers",
        "#   Add # comments anywhere. Undecided items may be updated by the next refresh;",
        "#   items you decided on (yes or no) are never changed or removed.",
        "#   When done: `spark review --check`, then set `status: approved`.",
        "#",
        *summary_lines(data, settings),
        HEADER_END,
        "",
        "",
    ]
    return "\n".join(lines)


def summary_lines(data: Any, settings: Settings) -> list[str]:
    # Plain data (the fast read of a refresh) or ruamel's nodes: both are Mappings.
    items = data.get("items") if isinstance(data, Mapping) else None
    picked: list[Mapping[str, Any]] = []
    undecided = declined = 0
    missing: Counter[str] = Counter()
    for node in items or ():
        if not isinstance(node, Mapping):
            continue
        pick, _ = parse_pick(node.get("pick"))
        if pick is None:
            undecided += 1
        elif pick is False:
            declined += 1
        else:
            picked.append(node)
            blurb = node.get("blurb")
            for lang in settings.editions:
                text = (
                    blurb.get(lang)
                    if isinstance(blurb, Mapping)
                    else (blurb if lang == settings.editions[0] else None)
                )
                if not (isinstance(text, str) and text.strip()):
                    missing[lang] += 1
    by_section = Counter(str(n.get("section") or "?") for n in picked)
    by_region = Counter(str(n.get("region") or "none") for n in picked)
    by_language = Counter(str(n.get("language") or "?") for n in picked)
    sections = ", ".join(f"{s} {by_section[s]}" for s in settings.section_ids)
    extra = sorted(set(by_section) - set(settings.section_ids))
    if extra:
        sections += ", " + ", ".join(f"{s} {by_section[s]}" for s in extra)
    lines = [
        "# Summary:",
        f"#   picked {len(picked)}: {sections}",
        f"#   picked by region: {_counts(by_region)}",
        f"#   picked by language: {_counts(by_language, settings.editions)}",
        f"#   undecided {undecided}, not picked {declined}",
    ]
    if missing:
        lines.append(
            "#   picked items still without a blurb: "
            + ", ".join(f"{lang} {missing[lang]}" for lang in settings.editions if missing[lang])
        )
    return lines


def _counts(counter: Counter[str], first: Sequence[str] = ()) -> str:
    # Edition languages always show, so "fr 0" tells the editor French is missing.
    keys = list(first) + sorted(k for k in counter if k not in first)
    return ", ".join(f"{k} {counter[k]}" for k in keys) or "none yet"
