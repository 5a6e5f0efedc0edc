"""`spark ingest`: every enabled source fetched concurrently, parsed on every core, cleaned,
classified, deduplicated and stored; one broken source never stops the others.

The I/O (`ingest`, `_gather`) is kept apart from the decisions (`decide`, `next_state`),
which are pure functions of data and `now`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
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
from spark.parse import InlineExecutor, parse_executor
from spark.store import ItemKey, Store

Status = Literal["ok", "warning", "not modified", "failed", "waiting"]
DEDUPE_WINDOW = timedelta(days=60)  # stored items older than this are not compared
ProgressCallback = Callable[[str, int, int], None]  # (source id, done, total)


@dataclass(frozen=True)
class Outcome:
    """What fetching and parsing one source gave (input of the pure `decide`)."""

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
class Decision:
    items: tuple[Item, ...]
    states: tuple[SourceState, ...]
    reports: tuple[SourceReport, ...]


# --------------------------------------------------------------------------- decide (pure)


def decide(
    sources: Sequence[Source],
    outcomes: Mapping[str, Outcome],
    states: Mapping[str, SourceState],
    stored_hashes: Mapping[str, str],
    stored_keys: Sequence[ItemKey],
    now: datetime,
) -> Decision:
    """Given what was fetched and what is stored: the items to save and each source's state.

    Within a source, a repeated GUID or canonical URL is one item, and an entry whose GUID
    changed keeps the id stored for its canonical URL. Across sources, the same canonical
    URL or a near-identical title within a few days makes the later item a duplicate of the
    first (`duplicate_of`), so the review shows it as "also covered by".
    """
    stored_ids = stored_ids_by_url(stored_keys)
    order = {s.id: n for n, s in enumerate(sources)}
    candidates: list[tuple[Source, Item, TitleKey, bool]] = []  # (..., is new)
    counts: dict[str, dict[str, int]] = {}
    for source in sources:
        outcome = outcomes.get(source.id)
        if outcome is None or outcome.parsed is None or outcome.parsed.error:
            continue
        c = counts.setdefault(
            source.id, dict.fromkeys(("new", "updated", "unchanged", "filtered", "duplicates"), 0)
        )
        c["filtered"] = outcome.parsed.filtered
        seen_ids: set[str] = set()
        seen_urls: set[str] = set()
        for item, key in zip(outcome.parsed.items, outcome.parsed.title_keys, strict=True):
            iid = stored_ids.get((source.id, item.canonical_url), item.id)
            if iid in seen_ids or item.canonical_url in seen_urls:
                continue  # the feed repeats itself
            seen_ids.add(iid)
            seen_urls.add(item.canonical_url)
            if iid != item.id:
                item = replace(item, id=iid)
            old_hash = stored_hashes.get(iid)
            if old_hash is None:
                candidates.append((source, item, key, True))
            elif old_hash != item.content_hash:
                candidates.append((source, item, key, False))
                c["updated"] += 1
            else:
                c["unchanged"] += 1

    # Earliest published first, then sources.yaml order: the first telling is the original.
    candidates.sort(key=lambda t: (t[1].published, order[t[0].id], t[1].id))
    items: list[Item] = []
    index: DedupeIndex | None = None  # built only when something new must be compared
    for source, item, key, is_new in candidates:
        if is_new:
            if index is None:
                index = _stored_index(stored_keys, [c[2] for c in candidates if c[3]])
            original = index.original(source.id, item.canonical_url, key, item.published)
            if original is not None:
                item = replace(item, duplicate_of=original)
                counts[source.id]["duplicates"] += 1
            counts[source.id]["new"] += 1
            index.add(
                item.id, source.id, item.canonical_url, key, item.published, item.duplicate_of
            )
        items.append(item)

    new_states: list[SourceState] = []
    reports: list[SourceReport] = []
    for source in sources:
        outcome = outcomes.get(source.id)
        if outcome is None:
            continue
        state = states.get(source.id) or SourceState(source_id=source.id)
        c = counts.get(source.id, {})
        report = _report(source, outcome, c)
        reports.append(report)
        if not outcome.waiting:
            new_states.append(next_state(state, outcome, now, new_items=c.get("new", 0)))
    return Decision(tuple(items), tuple(new_states), tuple(reports))


def stored_ids_by_url(stored_keys: Sequence[ItemKey]) -> dict[tuple[str, str], str]:
    """(source id, canonical URL) -> the stored item's id: the first stored wins."""
    ids: dict[tuple[str, str], str] = {}
    for key in stored_keys:
        ids.setdefault((key.source_id, key.canonical_url), key.id)
    return ids


def _stored_index(stored_keys: Sequence[ItemKey], new_keys: Sequence[TitleKey]) -> DedupeIndex:
    stored_title_keys = [title_key(key.title) for key in stored_keys]
    index = DedupeIndex(shared=shared_bands([*stored_title_keys, *new_keys]))
    for key, title in zip(stored_keys, stored_title_keys, strict=True):
        index.add(key.id, key.source_id, key.canonical_url, title, key.published, key.duplicate_of)
    return index


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
        duplicates=c.get("duplicates", 0),
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
    outcomes = asyncio.run(_gather(settings, chosen, states, now, transport, on_progress))
    fetched = [i for o in outcomes.values() if o.parsed is not None for i in o.parsed.items]
    # Nothing fetched (all 304 or failed): nothing to compare with the stored items.
    keys = store.item_keys(since=now - DEDUPE_WINDOW) if fetched else []
    stored_ids = stored_ids_by_url(keys)
    ids = [stored_ids.get((i.source_id, i.canonical_url), i.id) for i in fetched]
    decision = decide(chosen, outcomes, states, store.item_hashes(ids), keys, now)
    store.save_ingest(decision.items, decision.states)
    return IngestReport(decision.reports, time.perf_counter() - started)


async def _gather(
    settings: Settings,
    sources: Sequence[Source],
    states: Mapping[str, SourceState],
    now: datetime,
    transport: httpx.AsyncBaseTransport | None,
    on_progress: ProgressCallback | None,
) -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    to_fetch: list[Source] = []
    for source in sources:
        state = states.get(source.id)
        if state is not None and state.retry_after is not None and state.retry_after > now:
            outcomes[source.id] = Outcome(source.id, waiting=True)
        else:
            to_fetch.append(source)
    total = len(sources)
    done = len(outcomes)
    executor: Executor = parse_executor(len(to_fetch))
    fallback = InlineExecutor()
    semaphore = asyncio.Semaphore(settings.ingest.concurrency)
    loop = asyncio.get_running_loop()

    async def one(source: Source, client: httpx.AsyncClient) -> None:
        nonlocal done, executor
        state = states.get(source.id) or SourceState(source_id=source.id)
        try:
            async with semaphore:
                fetched = await fetch_source(client, source, state, settings.ingest, now=now)
        except FetchError as exc:
            outcomes[source.id] = Outcome(source.id, error=exc)
        except Exception as exc:  # a bug in one source's handling never stops the run
            outcomes[source.id] = Outcome(
                source.id, error=FetchError(source.id, f"unexpected error: {exc!r}")
            )
        else:
            parsed = SourceItems()
            if not fetched.not_modified:
                args = (source, fetched.content, fetched.headers, fetched.url, now,
                        settings.review.summary_chars, settings.default_language)  # fmt: skip
                try:
                    parsed = await loop.run_in_executor(executor, prepare_source, *args)
                except BrokenProcessPool:
                    executor = fallback  # a worker died (out of memory?): carry on in-process
                    parsed = prepare_source(*args)
            # The bytes are parsed: keep what the source's state needs, not 10 MB of feed.
            kept = replace(fetched, content=b"")
            outcomes[source.id] = Outcome(source.id, fetched=kept, parsed=parsed)
        done += 1
        if on_progress is not None:
            on_progress(source.id, done, total)

    try:
        async with make_client(settings.ingest, transport) as client:
            await asyncio.gather(*(one(s, client) for s in to_fetch))
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return outcomes
