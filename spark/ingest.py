"""`spark ingest`: every enabled source fetched concurrently, parsed on every core, cleaned,
classified, deduplicated and stored; one broken source never stops the others.

The pipeline of a run:

1. `_gather` fetches each source and has a parse worker turn its bytes into items.
2. As each source comes in, `plan_source` decides what is new, changed or unchanged and
   the source's next state; the store saves that source in one transaction, its new items
   marked as awaiting the duplicate check. Saving while other sources are still being
   parsed keeps the end of the run short, and a run cut short keeps what it finished.
3. At the end, `find_duplicates` compares the run's new items (and any an interrupted run
   left waiting) across sources, earliest first, and the store marks the duplicates.

The I/O (`ingest`, `_gather`) is kept apart from the decisions (`plan_source`,
`find_duplicates`, `next_state`), which are pure functions of data and `now`.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

import httpx

from spark.config import SOURCES_FILE, Settings
from spark.dedupe import DedupeIndex, TitleKey, shared_bands, title_key
from spark.errors import ConfigError, FetchError, Problem
from spark.fetch import Fetched, fetch_source, make_client
from spark.itemize import SourceItems, prepare_source
from spark.models import Item, Source, SourceState
from spark.parse import parse_executor, unreadable
from spark.store import ItemKey, Store

Status = Literal["ok", "warning", "not modified", "failed", "waiting"]
DEDUPE_WINDOW = timedelta(days=60)  # stored items older than this are not compared
ProgressCallback = Callable[[str, int, int], None]  # (source id, done, total)


@dataclass(frozen=True)
class Outcome:
    """What fetching and parsing one source gave (input of the pure `plan_source`)."""

    source_id: str
    fetched: Fetched | None = None
    parsed: SourceItems | None = None
    error: FetchError | None = None
    waiting: bool = False


@dataclass(frozen=True)
class SourceReport:
    source_id: str
    name: str
    status: Status
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    filtered: int = 0
    duplicates: int = 0
    message: str | None = None


@dataclass(frozen=True)
class IngestReport:
    sources: tuple[SourceReport, ...]
    seconds: float = 0.0

    @property
    def failed(self) -> tuple[SourceReport, ...]:
        return tuple(s for s in self.sources if s.status == "failed")

    @property
    def new(self) -> int:
        return sum(s.new for s in self.sources)

    @property
    def updated(self) -> int:
        return sum(s.updated for s in self.sources)


@dataclass(frozen=True)
class Candidate:
    """A new item, as the cross-source duplicate check compares it."""

    id: str
    source_id: str
    canonical_url: str
    title: TitleKey
    published: datetime


@dataclass(frozen=True)
class SourcePlan:
    """What to store for one source, and what to report about it."""

    items: tuple[Item, ...]  # new and changed items
    state: SourceState | None  # None: leave the stored state as it is (the source waits)
    new: tuple[Candidate, ...]
    report: SourceReport


# --------------------------------------------------------------------------- decisions (pure)


def plan_source(
    source: Source,
    outcome: Outcome,
    state: SourceState,
    stored_hashes: Mapping[str, str],
    stored_ids: Mapping[tuple[str, str], str],
    now: datetime,
) -> SourcePlan:
    """Given what one source gave and what is stored: its new and changed items and state.

    A repeated GUID or canonical URL within the source is one item, and an entry whose GUID
    changed keeps the id stored for its canonical URL (`stored_ids`)."""
    counts = dict.fromkeys(("new", "updated", "unchanged", "filtered"), 0)
    items: list[Item] = []
    new: list[Candidate] = []
    parsed = outcome.parsed
    if parsed is not None and not parsed.error:
        counts["filtered"] = parsed.filtered
        seen_ids: set[str] = set()
        seen_urls: set[str] = set()
        for item, key in zip(parsed.items, parsed.title_keys, strict=True):
            iid = stored_ids.get((source.id, item.canonical_url), item.id)
            if iid in seen_ids or item.canonical_url in seen_urls:
                continue  # the feed repeats itself
            seen_ids.add(iid)
            seen_urls.add(item.canonical_url)
            if iid != item.id:
                item = replace(item, id=iid)
            old_hash = stored_hashes.get(iid)
            if old_hash is None:
                items.append(item)
                new.append(Candidate(iid, source.id, item.canonical_url, key, item.published))
                counts["new"] += 1
            elif old_hash != item.content_hash:
                items.append(item)
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
    next_ = None if outcome.waiting else next_state(state, outcome, now, new_items=counts["new"])
    return SourcePlan(tuple(items), next_, tuple(new), _report(source, outcome, counts))


def find_duplicates(
    candidates: Sequence[Candidate], stored_keys: Sequence[ItemKey], order: Mapping[str, int]
) -> dict[str, str]:
    """New item id -> the id of the first item of the same story from another source.

    The same canonical URL, or a near-identical title within a few days, makes the later
    item a duplicate (the review shows it as "also covered by"). Earliest published first,
    then by the sources' order (`order`: source id -> position in sources.yaml): the first
    telling is the original. `stored_keys` are the stored items already checked."""
    last = len(order)
    ordered = sorted(candidates, key=lambda c: (c.published, order.get(c.source_id, last), c.id))
    stored_titles = [title_key(key.title) for key in stored_keys]
    index = DedupeIndex(shared=shared_bands([*stored_titles, *(c.title for c in ordered)]))
    for key, title in zip(stored_keys, stored_titles, strict=True):
        index.add(key.id, key.source_id, key.canonical_url, title, key.published, key.duplicate_of)
    found: dict[str, str] = {}
    for c in ordered:
        original = index.original(c.source_id, c.canonical_url, c.title, c.published)
        if original is not None:
            found[c.id] = original
        index.add(c.id, c.source_id, c.canonical_url, c.title, c.published, original)
    return found


def stored_ids_by_url(stored_keys: Sequence[ItemKey]) -> dict[tuple[str, str], str]:
    """(source id, canonical URL) -> the stored item's id: the first stored wins."""
    ids: dict[tuple[str, str], str] = {}
    for key in stored_keys:
        ids.setdefault((key.source_id, key.canonical_url), key.id)
    return ids


def _report(source: Source, outcome: Outcome, c: Mapping[str, int]) -> SourceReport:
    status: Status = "ok"
    message: str | None = None
    parsed = outcome.parsed
    if outcome.waiting:
        status, message = "waiting", "the server asked us to wait"
    elif outcome.error is not None:
        status, message = "failed", outcome.error.message
    elif outcome.fetched is not None and outcome.fetched.not_modified:
        status = "not modified"
    elif parsed is None or parsed.error:
        status, message = "failed", parsed.error if parsed else None
    elif parsed.warning:
        status, message = "warning", parsed.warning
    return SourceReport(
        source.id,
        source.name,
        status,
        new=c.get("new", 0),
        updated=c.get("updated", 0),
        unchanged=c.get("unchanged", 0),
        filtered=c.get("filtered", 0),
        message=message,
    )


def next_state(
    state: SourceState, outcome: Outcome, now: datetime, *, new_items: int = 0
) -> SourceState:
    """The source's remembered state after this run (pure)."""
    fetched = outcome.fetched
    error = outcome.error.message if outcome.error else None
    if error is None and outcome.parsed is not None and outcome.parsed.error:
        error = outcome.parsed.error
    if error is not None:
        status = outcome.error.status if outcome.error else (fetched.status if fetched else None)
        wait = outcome.error.retry_after if outcome.error else None
        return replace(
            state,
            last_fetch=now,
            http_status=status,
            consecutive_failures=state.consecutive_failures + 1,
            last_error=error,
            retry_after=now + timedelta(seconds=wait) if wait else None,
        )
    assert fetched is not None
    warning = outcome.parsed.warning if outcome.parsed else None
    moved = fetched.permanent_url or state.url
    if fetched.not_modified:
        etag, modified = fetched.etag or state.etag, fetched.last_modified or state.last_modified
    elif warning and "malformed" in warning:
        etag = modified = None  # a cut-off answer must be fetched whole next time, not 304'd
    else:
        etag, modified = fetched.etag, fetched.last_modified
    return replace(
        state,
        url=moved,
        etag=etag,
        last_modified=modified,
        last_fetch=now,
        last_success=now,
        http_status=fetched.status,
        consecutive_failures=0,
        last_error=warning,
        retry_after=None,
        items_total=state.items_total + new_items,
    )


# --------------------------------------------------------------------------- I/O


def select_sources(sources: Sequence[Source], only: str | None) -> list[Source]:
    if only is None:
        return [s for s in sources if s.enabled]
    chosen = [s for s in sources if s.id == only]
    if not chosen:
        raise ConfigError(
            Problem(
                f"there is no source with id {only!r} in {SOURCES_FILE}",
                fix="use one of: " + ", ".join(s.id for s in sources)
                if sources
                else "add it first",
            )
        )
    return chosen


def ingest(
    settings: Settings,
    sources: Sequence[Source],
    store: Store,
    *,
    now: datetime,
    transport: httpx.AsyncBaseTransport | None = None,
    only: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> IngestReport:
    """Fetch, parse, clean, classify, deduplicate and store every enabled source."""
    started = time.perf_counter()
    chosen = select_sources(sources, only)
    states = store.source_states()
    stored: list[ItemKey] | None = None  # read when first needed: never in an all-304 run
    stored_ids: dict[tuple[str, str], str] = {}
    plans: dict[str, SourcePlan] = {}

    def stored_keys() -> list[ItemKey]:
        nonlocal stored, stored_ids
        if stored is None:  # before this run saves anything
            stored = store.item_keys(since=now - DEDUPE_WINDOW)
            stored_ids = stored_ids_by_url(stored)
        return stored

    def record(source: Source, outcome: Outcome) -> None:
        items = outcome.parsed.items if outcome.parsed is not None else ()
        if items:
            stored_keys()
        ids = [stored_ids.get((source.id, i.canonical_url), i.id) for i in items]
        state = states.get(source.id) or SourceState(source_id=source.id)
        plan = plan_source(source, outcome, state, store.item_hashes(ids), stored_ids, now)
        store.save_source_result(plan.items, plan.state, [c.id for c in plan.new])
        plans[source.id] = replace(plan, items=())  # saved: keep only what the end needs

    asyncio.run(_gather(settings, chosen, states, now, transport, record, on_progress))

    fresh = [c for plan in plans.values() for c in plan.new]
    waiting = store.pending_ids()  # this run's new items, and any a cut-short run left
    left = store.pending_item_keys(waiting - {c.id for c in fresh})  # as they are now
    candidates = fresh + [
        Candidate(k.id, k.source_id, k.canonical_url, title_key(k.title), k.published) for k in left
    ]
    duplicates: dict[str, str] = {}
    if candidates:
        checked = [key for key in stored_keys() if key.id not in waiting]
        order = {s.id: n for n, s in enumerate(sources)}
        duplicates = find_duplicates(candidates, checked, order)
        store.finish_dedupe(duplicates, [c.id for c in candidates])
    per_source = Counter(c.source_id for c in fresh if c.id in duplicates)  # this run's only
    reports = tuple(
        replace(plans[s.id].report, duplicates=per_source[s.id]) for s in chosen if s.id in plans
    )
    return IngestReport(reports, time.perf_counter() - started)


async def _gather(
    settings: Settings,
    sources: Sequence[Source],
    states: Mapping[str, SourceState],
    now: datetime,
    transport: httpx.AsyncBaseTransport | None,
    record: Callable[[Source, Outcome], None],
    on_progress: ProgressCallback | None,
) -> None:
    """Fetch and parse every source, handing each outcome to `record` as it comes in."""
    to_fetch: list[Source] = []
    for source in sources:
        state = states.get(source.id)
        if state is not None and state.retry_after is not None and state.retry_after > now:
            record(source, Outcome(source.id, waiting=True))
        else:
            to_fetch.append(source)
    total = len(sources)
    done = total - len(to_fetch)
    semaphore = asyncio.Semaphore(settings.ingest.concurrency)
    loop = asyncio.get_running_loop()
    # The parse workers start on a thread (the first run of a process starts their fork
    # server, a tenth of a second): the first requests go out meanwhile.
    pool = loop.run_in_executor(None, parse_executor, len(to_fetch))
    in_process = False

    async def parse(source: Source, fetched: Fetched) -> SourceItems:
        nonlocal in_process
        args = (source, fetched.content, fetched.headers, fetched.url, now,
                settings.review.summary_chars, settings.default_language)  # fmt: skip
        try:
            if not in_process:
                try:
                    return await loop.run_in_executor(await pool, prepare_source, *args)
                except BrokenProcessPool:
                    in_process = True  # a worker died (out of memory?): carry on in-process
            return prepare_source(*args)
        except Exception as exc:  # a parser bug fails this source, never the run
            return SourceItems(error=unreadable(exc))

    async def one(source: Source, client: httpx.AsyncClient) -> None:
        nonlocal done
        state = states.get(source.id) or SourceState(source_id=source.id)
        try:
            async with semaphore:
                fetched = await fetch_source(client, source, state, settings.ingest, now=now)
        except FetchError as exc:
            record(source, Outcome(source.id, error=exc))
        except Exception as exc:  # a bug in one source's handling never stops the run
            record(
                source,
                Outcome(source.id, error=FetchError(source.id, f"unexpected error: {exc!r}")),
            )
        else:
            parsed = SourceItems()
            if not fetched.not_modified:
                parsed = await parse(source, fetched)
            # The bytes are parsed: keep what the source's state needs, not 10 MB of feed.
            kept = replace(fetched, content=b"")
            record(source, Outcome(source.id, fetched=kept, parsed=parsed))
        done += 1
        if on_progress is not None:
            on_progress(source.id, done, total)

    try:
        # A task group: should saving a source fail (the database locked for 30 s), the
        # other fetches stop at once instead of being recorded as failures.
        async with make_client(settings.ingest, transport) as client, asyncio.TaskGroup() as group:
            for source in to_fetch:
                group.create_task(one(source, client))
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    finally:
        (await pool).shutdown(wait=True, cancel_futures=True)
