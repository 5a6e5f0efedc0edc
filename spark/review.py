"""The curation queue: create, refresh, check and close an issue's review file.

The editors' file `issues/YYYY-MM/review.yaml` is theirs; this module only ever adds to it.
A refresh keeps every decision, edited field, ordering and comment (ruamel round-trip), adds
new candidates, updates the machine fields of undecided items, and rewrites nothing else
but its own header. It refuses to touch a file that does not parse, or a sent issue.

Rules (documented in docs/editing.md):

- **Next issue** (`default_issue`): the earliest issue directory that is not sent, is later
  than the last sent issue and not earlier than the current month; otherwise the month after
  the last sent issue or the next calendar month, whichever is later.
- **Cut-off** (`cutoff`): candidates are items first seen or published since the previous
  issue was sent: the start of its first send in the store's send log, or, when the log
  does not have it (a database rebuilt elsewhere), the first day of that issue's month at
  midnight local time. With no sent issue before, every unpublished item is a candidate.
- **Offered once**: an item added to an issue's file is remembered in the store, so an
  undecided item an editor deletes does not come back on the next refresh.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from spark import review_merge
from spark.config import SOURCES_FILE, Settings, load_sources
from spark.errors import Problem, ReviewFileError
from spark.files import atomic_write_text, dump_yaml
from spark.i18n import format_month
from spark.models import ISSUE_STATUSES, AlsoCovered, Item
from spark.ranking import Scored, base_score, select, theme_matcher
from spark.review_file import (
    ISSUE_RE,
    issue_from_yaml,
    load_review_yaml,
    parse_pick,
    read_issue,
    set_status,
    validate_issue_name,
)
from spark.review_layout import (
    Candidate,
    header,
    item_node,
    machine_changes,
    per_edition_node,
    split_header,
)
from spark.store import CandidateKey, Store

REVIEW_FILE = "review.yaml"
_STATUS_LINE = re.compile(r"^status:[ \t]*['\"]?([A-Za-z]+)", re.MULTILINE)


@dataclass(frozen=True)
class RefreshResult:
    path: Path
    created: bool
    added: int  # new candidates put in the file
    updated: int  # undecided items whose machine fields changed
    undecided: int  # undecided items in the file after the refresh
    held_back: int  # candidates left out because the undecided cap was reached
    written: bool  # False when the file was already exactly this
    text_merge: bool = False  # merged into the file's text, not by a full round trip


# --------------------------------------------------------------------------- paths, dates


def issue_dir(settings: Settings, issue: str) -> Path:
    return settings.issues_dir / issue


def review_path(settings: Settings, issue: str) -> Path:
    return issue_dir(settings, issue) / REVIEW_FILE


def issue_statuses(settings: Settings) -> dict[str, str]:
    """issue -> status of every issue directory holding a review file (read cheaply)."""
    out: dict[str, str] = {}
    if not settings.issues_dir.is_dir():
        return out
    for entry in settings.issues_dir.iterdir():
        path = entry / REVIEW_FILE
        if ISSUE_RE.match(entry.name) and path.is_file():
            match = _STATUS_LINE.search(path.read_text(encoding="utf-8", errors="replace"))
            out[entry.name] = match.group(1).lower() if match else "draft"
    return out


def _next_month(issue: str) -> str:
    year, month = int(issue[:4]), int(issue[5:7])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


def default_issue(settings: Settings, now: datetime) -> str:
    """The next issue (see the module's docstring for the rule)."""
    local = now.astimezone(settings.tz)
    this_month = f"{local.year:04d}-{local.month:02d}"
    statuses = issue_statuses(settings)
    sent = sorted(k for k, v in statuses.items() if v == "sent")
    last_sent = sent[-1] if sent else None
    open_ = sorted(
        k
        for k, v in statuses.items()
        if v != "sent" and k >= this_month and (last_sent is None or k > last_sent)
    )
    if open_:
        return open_[0]
    candidate = _next_month(this_month)
    if last_sent is not None:
        candidate = max(candidate, _next_month(last_sent))
    return candidate


def previous_sent_issue(settings: Settings, issue: str) -> str | None:
    sent = [k for k, v in issue_statuses(settings).items() if v == "sent" and k < issue]
    return max(sent) if sent else None


def cutoff(settings: Settings, store: Store, issue: str) -> datetime | None:
    """When the previous issue was sent (see the module's docstring), None if never."""
    previous = previous_sent_issue(settings, issue)
    if previous is None:
        return None
    started = store.issue_sent_at(previous)
    if started is not None:
        return started
    first_day = datetime(int(previous[:4]), int(previous[5:7]), 1, tzinfo=settings.tz)
    return first_day.astimezone(UTC)


# --------------------------------------------------------------------------- candidates


def source_names(settings: Settings) -> dict[str, str]:
    path = settings.root / SOURCES_FILE
    if not path.exists():
        return {}
    return {s.id: s.name for s in load_sources(path, settings)}


def build_candidates(
    items: list[Item],
    duplicates: list[tuple[str, str, str, str]],
    settings: Settings,
    names: Mapping[str, str],
    now: datetime,
) -> dict[str, Candidate]:
    """Stored items -> candidates, scored; duplicates folded into `also` of their primary."""
    also = also_covered(duplicates, names)
    matcher = theme_matcher(settings.themes)
    out: dict[str, Candidate] = {}
    for item in items:
        score, themes = base_score(
            item.title, item.summary_text, item.published, now, settings.themes, matcher
        )
        out[item.id] = make_candidate(item, score, themes, also.get(item.id, ()), settings, names)
    return out


def also_covered(
    duplicates: list[tuple[str, str, str, str]], names: Mapping[str, str]
) -> dict[str, tuple[AlsoCovered, ...]]:
    """Primary item id -> the other sources that covered it, sorted, each once."""
    parent = {d[0]: d[1] for d in duplicates}

    def root(item_id: str) -> str:
        for _ in range(20):  # bounded: a cycle in bad data must not hang a refresh
            if item_id not in parent:
                break
            item_id = parent[item_id]
        return item_id

    also: dict[str, list[AlsoCovered]] = {}
    for _dup_id, dup_of, source_id, url in duplicates:
        also.setdefault(root(dup_of), []).append(AlsoCovered(names.get(source_id, source_id), url))
    return {
        item_id: tuple(sorted(set(covered), key=lambda a: (a.source, a.url)))
        for item_id, covered in also.items()
    }


def make_candidate(
    item: Item,
    score: float,
    themes: tuple[str, ...],
    also: tuple[AlsoCovered, ...],
    settings: Settings,
    names: Mapping[str, str],
) -> Candidate:
    section_ids = settings.section_ids
    return Candidate(
        id=item.id,
        section=item.section if item.section in section_ids else section_ids[0],
        title=item.title,
        url=item.url,
        source=names.get(item.source_id, item.source_id),
        source_id=item.source_id,
        date=item.published.astimezone(settings.tz).date(),
        language=item.language,
        region=item.region,
        format=item.format,
        summary=_shorten(item.summary_text, settings.review.summary_chars),
        image=item.image_url,
        tags=tuple(dict.fromkeys((*item.tags, *themes))),
        also=also,
        score=score,
    )


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


# --------------------------------------------------------------------------- reading


def _load_for_update(settings: Settings, issue: str, path: Path) -> CommentedMap:
    """The editors' file, parsed for a merge; refuses anything it could not merge safely."""
    text = path.read_text(encoding="utf-8")
    body, offset = split_header(text)
    try:
        data = load_review_yaml(body, path)
    except ReviewFileError:
        load_review_yaml(text, path)  # re-raises with the line numbers of the whole file
        raise
    problems = [_shifted(p, offset) for p in structure_problems(data, issue, path)]
    if problems:
        raise ReviewFileError(problems)
    assert isinstance(data, CommentedMap)
    if str(data.get("status") or "draft") == "sent":
        raise ReviewFileError(
            Problem(
                f"issue {issue} was sent: its review file is frozen",
                path,
                fix="leave it as the record of what was sent; work on the next issue with "
                "`spark review`",
            )
        )
    return data


def _shifted(problem: Problem, offset: int) -> Problem:
    if problem.line is None or not offset:
        return problem
    line = problem.line + offset
    return Problem(problem.message, problem.path, line, problem.column, problem.fix)


def structure_problems(data: Any, issue: str, path: Path) -> list[Problem]:
    """What would make a merge unsafe: the file's shape, ids, issue name and status."""
    from spark.files import key_line, value_line

    fix_restore = "restore it from review.yaml.bak, or fix it by hand"
    if not isinstance(data, CommentedMap):
        return [
            Problem(
                "the review file must be a mapping (issue:, items: ...)", path, 1, 1, fix_restore
            )
        ]
    problems: list[Problem] = []
    name = str(data.get("issue") or "")
    if name != issue:
        line, col = value_line(data, "issue")
        problems.append(
            Problem(
                f"this file says `issue: {name}` but it is the file of {issue}",
                path,
                line,
                col,
                f"write `issue: {issue}`",
            )
        )
    status = str(data.get("status") or "draft")
    if status not in ISSUE_STATUSES:
        line, col = value_line(data, "status")
        problems.append(
            Problem(
                f"invalid status {status!r}",
                path,
                line,
                col,
                f"use one of: {', '.join(ISSUE_STATUSES)}",
            )
        )
    items = data.get("items")
    if items is None:
        return problems
    if not isinstance(items, CommentedSeq):
        line, col = value_line(data, "items")
        problems.append(
            Problem("`items` must be a list", path, line, col, "each item starts with `- id: ...`")
        )
        return problems
    seen: dict[str, int | None] = {}
    for index, node in enumerate(items):
        line, col = key_line(items, index)
        if not isinstance(node, CommentedMap):
            problems.append(
                Problem(
                    f"item {index + 1} is not a mapping",
                    path,
                    line,
                    col,
                    "each item starts with `- id: ...`",
                )
            )
            continue
        item_id = str(node.get("id") or "")
        if not item_id:
            problems.append(
                Problem(
                    "an item has no `id`", path, line, col, "restore its id from review.yaml.bak"
                )
            )
        elif item_id in seen:
            line, col = value_line(node, "id")
            problems.append(
                Problem(
                    f"duplicate id {item_id!r} (also on line {seen[item_id]})",
                    path,
                    line,
                    col,
                    "each item appears once; delete the copy",
                )
            )
        else:
            seen[item_id] = line
    return problems


def _write(path: Path, issue: str, data: CommentedMap, settings: Settings) -> bool:
    return atomic_write_text(path, header(issue, data, settings) + dump_yaml(data), backup=True)


# --------------------------------------------------------------------------- refresh


def new_issue_data(settings: Settings, issue: str) -> CommentedMap:
    data = CommentedMap()
    data["issue"] = issue
    data["status"] = "draft"
    defaults = default_texts(settings, issue)
    for key in ("title", "subject", "preheader", "intro"):
        data[key] = per_edition_node(defaults.get(key, {}), settings.editions)
    sections = CommentedSeq(settings.section_ids)
    sections.fa.set_flow_style()
    data["sections"] = sections
    data["items"] = CommentedSeq()
    return data


def default_texts(settings: Settings, issue: str) -> dict[str, dict[str, str]]:
    year, month = int(issue[:4]), int(issue[5:7])
    title = {
        lang: f"{settings.name} — {format_month(year, month, lang)}" for lang in settings.editions
    }
    return {"title": title, "subject": dict(title)}


def refresh(
    settings: Settings,
    store: Store,
    issue: str,
    *,
    now: datetime,
    names: Mapping[str, str] | None = None,
    text_merge: bool = True,
) -> RefreshResult:
    """Create the issue's review file, or merge new candidates into it (never clobbering).

    An existing file in the layout Spark writes is merged at the level of its text
    (`review_merge`); anything else, or any doubt, takes the full ruamel round trip, which
    `text_merge=False` forces (the reference the text merge is tested against).
    """
    validate_issue_name(issue)
    path = review_path(settings, issue)
    created = not path.exists()
    fast = None if created or not text_merge else _read_fast(settings, issue, path)
    if fast is not None:
        data: Any = fast.data
    elif created:
        data = new_issue_data(settings, issue)
    else:
        data = _load_for_update(settings, issue, path)
        _add_missing_editions(data, settings, issue)
    if names is None:
        names = source_names(settings)
    pool = CandidatePool(store, settings, names, cutoff(settings, store, issue), now)
    offered = store.offered_ids(issue)

    merge = _merge(data, pool, offered, settings)
    written: bool | None = None
    merged_as_text = False
    if fast is not None:
        body = review_merge.render(fast, data["items"], merge.changes)
        merged_as_text = body is not None
        if body is not None:
            text = header(issue, data, settings) + body
            written = atomic_write_text(path, text, backup=True)
        else:
            data = _load_for_update(settings, issue, path)
            _add_missing_editions(data, settings, issue)
            merge = _merge(data, pool, offered, settings)
    if written is None:
        written = _write(path, issue, data, settings)
    store.record_offered(issue, [c.id for c in merge.batch], now)
    return RefreshResult(
        path=path,
        created=created,
        added=len(merge.batch),
        updated=len(merge.changes),
        undecided=merge.undecided + len(merge.batch),
        held_back=merge.fresh - len(merge.batch),
        written=written,
        text_merge=merged_as_text,
    )


def _read_fast(settings: Settings, issue: str, path: Path) -> review_merge.FastFile | None:
    """The file read for a text-level merge, or None when ruamel's path must take it (any
    problem in the file is then reported by `_load_for_update`, with its line)."""
    body, _ = split_header(path.read_text(encoding="utf-8"))
    fast = review_merge.read(body)
    if fast is None:
        return None
    data = fast.data
    status = str(data.get("status") or "draft")
    if str(data.get("issue") or "") != issue or status not in ISSUE_STATUSES or status == "sent":
        return None
    ids = [str(n.get("id") or "") if isinstance(n, Mapping) else "" for n in data["items"]]
    if "" in ids or len(set(ids)) != len(ids) or _missing_editions(data, settings):
        return None
    return fast


class CandidatePool:
    """The store's candidates for an issue: all scored, and made into `Candidate`s (which
    reads the whole item) only for the few a refresh puts in or updates in the file."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        names: Mapping[str, str],
        since: datetime | None,
        now: datetime,
    ) -> None:
        self.store = store
        self.settings = settings
        self.names = names
        self.keys = store.review_candidate_keys(since)
        matcher = theme_matcher(settings.themes)
        self.scores = {
            k.id: base_score(k.title, k.summary_text, k.published, now, settings.themes, matcher)
            for k in self.keys
        }
        self.also = also_covered(store.duplicate_links(), names)
        self._made: dict[str, Candidate] = {}

    def __contains__(self, item_id: object) -> bool:
        return item_id in self.scores

    def scored(self, k: CandidateKey) -> Scored:
        source = self.names.get(k.source_id, k.source_id)
        return Scored(k.id, source, k.region or "", k.language, self.scores[k.id][0], ())

    def candidates(self, ids: Sequence[str]) -> dict[str, Candidate]:
        missing = [i for i in ids if i not in self._made and i in self.scores]
        for item in self.store.items_by_id(missing).values():
            score, themes = self.scores[item.id]
            self._made[item.id] = make_candidate(
                item, score, themes, self.also.get(item.id, ()), self.settings, self.names
            )
        return {i: self._made[i] for i in ids if i in self._made}


@dataclass
class _Merge:
    batch: list[Candidate]  # new items, in the order inserted
    changes: dict[str, dict[str, Any]]  # item id -> machine fields set
    undecided: int
    fresh: int  # candidates that could have been added


def _merge(data: Any, pool: CandidatePool, offered: set[str], settings: Settings) -> _Merge:
    """Put new candidates into `data` and update undecided items (ruamel nodes or plain)."""
    items = data.get("items")
    if items is None:
        items = data["items"] = CommentedSeq()
    in_file: dict[str, Any] = {str(n.get("id")): n for n in items}
    undecided_ids = [
        item_id for item_id, node in in_file.items() if parse_pick(node.get("pick")) == (None, True)
    ]
    current = pool.candidates([i for i in undecided_ids if i in pool])
    changes: dict[str, dict[str, Any]] = {}
    for item_id in undecided_ids:
        if item_id in current:
            node = in_file[item_id]
            changed = machine_changes(node, current[item_id])
            for key, value in changed.items():
                node[key] = value
            if changed:
                changes[item_id] = changed

    fresh = [k for k in pool.keys if k.id not in in_file and k.id not in offered]
    room = max(0, settings.review.max_undecided - len(undecided_ids))
    already = [
        (str(n.get("source") or ""), str(n.get("region") or ""), str(n.get("language") or ""))
        for n in in_file.values()
    ]
    chosen = select(
        [pool.scored(k) for k in fresh], room, editions=settings.editions, already=already
    )
    made = pool.candidates([s.id for s in chosen])
    order = {sid: i for i, sid in enumerate(settings.section_ids)}
    batch = sorted((made[s.id] for s in chosen), key=lambda c: order.get(c.section, len(order)))
    for c in batch:
        items.insert(_position(items, c.section, order), item_node(c, settings.editions))
    return _Merge(batch, changes, len(undecided_ids), len(fresh))


def _position(items: CommentedSeq, section: str, order: Mapping[str, int]) -> int:
    """After the last item of the section; else before the first of a later section."""
    last = None
    for index, node in enumerate(items):
        if node.get("section") == section:
            last = index
    if last is not None:
        return last + 1
    rank = order.get(section, len(order))
    for index, node in enumerate(items):
        if order.get(str(node.get("section")), len(order)) > rank:
            return index
    return len(items)


def _missing_editions(data: Mapping[str, Any], settings: Settings) -> bool:
    """Whether `_add_missing_editions` would change anything."""
    for key in ("title", "subject", "preheader", "intro"):
        node = data.get(key)
        if key not in data or (
            isinstance(node, Mapping) and any(lang not in node for lang in settings.editions)
        ):
            return True
    return False


def _add_missing_editions(data: CommentedMap, settings: Settings, issue: str) -> None:
    """A newsletter that gains an edition gets its (empty or default) texts; nothing else."""
    defaults = default_texts(settings, issue)
    for key in ("title", "subject", "preheader", "intro"):
        node = data.get(key)
        if key not in data:
            data[key] = per_edition_node(defaults.get(key, {}), settings.editions)
        elif isinstance(node, CommentedMap):
            for lang in settings.editions:
                if lang not in node:
                    node[lang] = defaults.get(key, {}).get(lang, "")


# --------------------------------------------------------------------------- check


def check(settings: Settings, issue: str) -> list[Problem]:
    """Every problem of the issue's review file at once, in file order."""
    path = review_path(settings, issue)
    if not path.exists():
        return [
            Problem(
                f"issue {issue} has no review file yet",
                path,
                fix=f"run `spark review {issue}` to create it",
            )
        ]
    text = path.read_text(encoding="utf-8")
    try:
        data = load_review_yaml(text, path)
    except ReviewFileError as exc:
        return list(exc.problems)
    problems = structure_problems(data, issue, path)
    parsed, more = issue_from_yaml(data, path, settings)
    seen = {(p.line, p.message) for p in problems}
    problems += [p for p in more if (p.line, p.message) not in seen]
    if parsed is not None and isinstance(data, CommentedMap):
        from spark.files import value_line

        for key in ("title", "subject"):
            texts = getattr(parsed, key)
            for lang in settings.editions:
                if not texts.get(lang):
                    line, col = value_line(data, key)
                    problems.append(
                        Problem(
                            f"the issue has no {key} for the {lang} edition",
                            path,
                            line,
                            col,
                            f"write it under `{key}: {{{lang}: ...}}`",
                        )
                    )
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


# --------------------------------------------------------------------------- demo, send


def auto_pick(settings: Settings, issue: str, *, per_section: int = 3) -> int:
    """Pick the top undecided items of each section, fill every missing blurb from the
    summary, and approve the issue (the demo's editor). Returns how many were picked."""
    path = review_path(settings, issue)
    data = _load_for_update(settings, issue, path)
    _add_missing_editions(data, settings, issue)
    items = data.get("items") or CommentedSeq()
    sections = list(data.get("sections") or settings.section_ids)
    picked_now = 0
    for section in sections:
        nodes = [n for n in items if n.get("section") == section]
        have = sum(1 for n in nodes if parse_pick(n.get("pick"))[0] is True)
        for node in nodes:
            if have >= per_section:
                break
            pick, valid = parse_pick(node.get("pick"))
            if pick is None and valid:
                node["pick"] = "yes"
                have += 1
                picked_now += 1
    for node in items:
        if parse_pick(node.get("pick"))[0] is True:
            _fill_blurbs(node, settings)
    defaults = default_texts(settings, issue)
    for key, texts in defaults.items():
        node = data[key]
        if isinstance(node, CommentedMap):
            for lang in settings.editions:
                if not str(node.get(lang) or "").strip():
                    node[lang] = texts[lang]
    data["status"] = "approved"
    _write(path, issue, data, settings)
    return picked_now


def _fill_blurbs(node: CommentedMap, settings: Settings) -> None:
    blurb = node.get("blurb")
    if not isinstance(blurb, CommentedMap):
        text = blurb if isinstance(blurb, str) else ""
        blurb = CommentedMap()
        if text.strip():
            blurb[settings.editions[0]] = text
        node["blurb"] = blurb
    summary = next(
        (str(v) for v in blurb.values() if isinstance(v, str) and v.strip()),
        str(node.get("title") or ""),
    )
    for lang in settings.editions:
        if not str(blurb.get(lang) or "").strip():
            blurb[lang] = summary


def mark_sent(settings: Settings, store: Store, issue: str) -> None:
    """Freeze an approved issue as sent and record its picked items as published."""
    path = review_path(settings, issue)
    parsed = read_issue(path, settings)
    if parsed.status not in ("approved", "sent"):
        raise ReviewFileError(
            Problem(
                f"issue {issue} is {parsed.status}; only an approved issue can be sent",
                path,
                fix="review it, run `spark review --check`, then set `status: approved`",
            )
        )
    # The store first: a crash in between leaves an approved file, and a rerun completes it.
    store.mark_published([i.id for i in parsed.picked()], issue)
    if parsed.status != "sent":
        set_status(path, "sent")
