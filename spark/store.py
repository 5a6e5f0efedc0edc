"""The SQLite store. All of Spark's SQL lives in this module.

The schema is versioned with `PRAGMA user_version`; `MIGRATIONS[n]` upgrades version n to
n + 1, so a database of any earlier version is brought up to date on open, inside a
transaction. Timestamps are stored as ISO 8601 text in UTC.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from spark.errors import StoreError
from spark.models import Item, SourceState, Subscriber

MIGRATIONS: tuple[str, ...] = (
    # 0 -> 1: the first schema
    """
    CREATE TABLE source_state (
        source_id TEXT PRIMARY KEY,
        url TEXT,
        etag TEXT,
        last_modified TEXT,
        last_fetch TEXT,
        last_success TEXT,
        http_status INTEGER,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        retry_after TEXT,
        items_total INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE items (
        id TEXT PRIMARY KEY,
        source_id TEXT NOT NULL,
        guid TEXT,
        url TEXT NOT NULL,
        canonical_url TEXT NOT NULL,
        title TEXT NOT NULL,
        summary_html TEXT NOT NULL,
        summary_text TEXT NOT NULL,
        image_url TEXT,
        author TEXT,
        published TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        language TEXT NOT NULL,
        format TEXT NOT NULL,
        section TEXT,
        region TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        duplicate_of TEXT,
        content_hash TEXT NOT NULL DEFAULT '',
        published_in TEXT
    );
    CREATE INDEX items_canonical_url ON items (canonical_url);
    CREATE INDEX items_first_seen ON items (first_seen);
    CREATE INDEX items_published ON items (published);
    CREATE TABLE subscribers (
        email TEXT PRIMARY KEY,
        name TEXT NOT NULL DEFAULT '',
        language TEXT NOT NULL DEFAULT 'en',
        status TEXT NOT NULL DEFAULT 'active',
        consent TEXT NOT NULL,
        consent_date TEXT NOT NULL,
        consent_source TEXT NOT NULL DEFAULT '',
        consent_wording TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE TABLE suppressions (
        email TEXT NOT NULL,
        kind TEXT NOT NULL,
        synced TEXT NOT NULL,
        PRIMARY KEY (email, kind)
    );
    CREATE TABLE sends (
        id INTEGER PRIMARY KEY,
        issue TEXT NOT NULL,
        edition TEXT NOT NULL,
        started TEXT NOT NULL,
        finished TEXT,
        status TEXT NOT NULL,
        recipients INTEGER NOT NULL DEFAULT 0,
        UNIQUE (issue, edition)
    );
    CREATE TABLE send_batches (
        send_id INTEGER NOT NULL REFERENCES sends (id),
        batch_no INTEGER NOT NULL,
        status TEXT NOT NULL,
        recipients TEXT NOT NULL,
        message_id TEXT,
        error TEXT,
        requested TEXT,
        answered TEXT,
        PRIMARY KEY (send_id, batch_no)
    );
    CREATE TABLE job_runs (
        job TEXT NOT NULL,
        started TEXT NOT NULL,
        finished TEXT,
        ok INTEGER,
        message TEXT
    );
    CREATE INDEX job_runs_job ON job_runs (job, started);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)

_UPSERT_ITEM = """INSERT INTO items (id, source_id, guid, url, canonical_url, title,
        summary_html, summary_text, image_url, author, published, first_seen,
        language, format, section, region, tags, duplicate_of, content_hash)
    VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
    ON CONFLICT (id) DO UPDATE SET url=excluded.url,
        canonical_url=excluded.canonical_url, title=excluded.title,
        summary_html=excluded.summary_html, summary_text=excluded.summary_text,
        image_url=excluded.image_url, author=excluded.author,
        published=excluded.published, language=excluded.language,
        format=excluded.format, section=excluded.section,
        region=excluded.region, tags=excluded.tags,
        duplicate_of=COALESCE(items.duplicate_of, excluded.duplicate_of),
        content_hash=excluded.content_hash
    WHERE items.content_hash != excluded.content_hash"""


class ItemKey(NamedTuple):
    """The few fields of a stored item that deduplication compares."""

    id: str
    source_id: str
    canonical_url: str
    title: str
    published: datetime
    duplicate_of: str | None


def _ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


class Store:
    """A connection to the Spark database, migrated to the current schema on open."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the database {path}: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    # ------------------------------------------------------------------ schema

    @property
    def version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        current = self.version
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"the database {self.path} has schema version {current}, newer than this "
                f"Spark ({SCHEMA_VERSION}); upgrade Spark"
            )
        for version in range(current, SCHEMA_VERSION):
            with self.transaction() as db:
                for statement in MIGRATIONS[version].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {version + 1}")

    # ------------------------------------------------------------------ source state

    def source_state(self, source_id: str) -> SourceState:
        row = self.db.execute(
            "SELECT * FROM source_state WHERE source_id = ?", (source_id,)
        ).fetchone()
        return SourceState(source_id=source_id) if row is None else _state(row)

    def source_states(self) -> dict[str, SourceState]:
        return {r["source_id"]: _state(r) for r in self.db.execute("SELECT * FROM source_state")}

    def save_source_state(self, state: SourceState) -> None:
        self.db.execute(
            """INSERT INTO source_state (source_id, url, etag, last_modified, last_fetch,
                   last_success, http_status, consecutive_failures, last_error, retry_after,
                   items_total)
               VALUES (?,?,?,?,?,?,?,?,?,?,?)
               ON CONFLICT (source_id) DO UPDATE SET url=excluded.url, etag=excluded.etag,
                   last_modified=excluded.last_modified, last_fetch=excluded.last_fetch,
                   last_success=excluded.last_success, http_status=excluded.http_status,
                   consecutive_failures=excluded.consecutive_failures,
                   last_error=excluded.last_error, retry_after=excluded.retry_after,
                   items_total=excluded.items_total""",
            (
                state.source_id,
                state.url,
                state.etag,
                state.last_modified,
                _ts(state.last_fetch),
                _ts(state.last_success),
                state.http_status,
                state.consecutive_failures,
                state.last_error,
                _ts(state.retry_after),
                state.items_total,
            ),
        )

    # ------------------------------------------------------------------ items (ingest)

    def item_ids(self, ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        batch = list(ids)
        for start in range(0, len(batch), 500):
            chunk = batch[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                r[0] for r in self.db.execute(f"SELECT id FROM items WHERE id IN ({marks})", chunk)
            )
        return found

    def save_items(self, items: Iterable[Item]) -> int:
        """Insert new items and update changed ones; returns how many rows changed."""
        rows = [_item_row(i) for i in items]
        if not rows:
            return 0
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(_UPSERT_ITEM, rows)
            return db.total_changes - before

    def items(self, *, since: datetime | None = None, unpublished: bool = False) -> list[Item]:
        sql = "SELECT * FROM items WHERE 1=1"
        args: list[object] = []
        if since is not None:
            sql += " AND (first_seen >= ? OR published >= ?)"
            args += [_ts(since), _ts(since)]
        if unpublished:
            sql += " AND published_in IS NULL"
        sql += " ORDER BY published DESC, id"
        return [_item(r) for r in self.db.execute(sql, args)]

    def item_hashes(self, ids: Iterable[str]) -> dict[str, str]:
        """content_hash of each stored item among `ids` (to tell new, changed, unchanged)."""
        found: dict[str, str] = {}
        batch = list(ids)
        for start in range(0, len(batch), 500):
            chunk = batch[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                (r[0], r[1])
                for r in self.db.execute(
                    f"SELECT id, content_hash FROM items WHERE id IN ({marks})", chunk
                )
            )
        return found

    def item_keys(self, *, since: datetime) -> list[ItemKey]:
        """What deduplication needs of the items first seen or published since `since`."""
        rows = self.db.execute(
            """SELECT id, source_id, canonical_url, title, published, duplicate_of FROM items
               WHERE first_seen >= ? OR published >= ? ORDER BY first_seen, id""",
            (_ts(since), _ts(since)),
        )
        return [ItemKey(r[0], r[1], r[2], r[3], datetime.fromisoformat(r[4]), r[5]) for r in rows]

    def save_ingest(self, items: Iterable[Item], states: Iterable[SourceState]) -> int:
        """Items and source states of one run in one transaction; returns rows changed."""
        rows = [_item_row(i) for i in items]
        with self.transaction() as db:
            before = db.total_changes
            if rows:
                db.executemany(_UPSERT_ITEM, rows)
            changed = db.total_changes - before
            for state in states:
                self.save_source_state(state)
        return changed

    def count_items(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM items").fetchone()[0])

    # ------------------------------------------------------------------ review

    def mark_published(self, item_ids: Iterable[str], issue: str) -> None:
        with self.transaction() as db:
            db.executemany(
                "UPDATE items SET published_in = ? WHERE id = ? AND published_in IS NULL",
                [(issue, i) for i in item_ids],
            )

    # ------------------------------------------------------------------ subscribers

    def upsert_subscribers(self, subscribers: Iterable[Subscriber], now: datetime) -> int:
        rows = [
            (
                s.email.lower(),
                s.name,
                s.language,
                s.status,
                s.consent,
                s.consent_date,
                s.consent_source,
                s.consent_wording,
                _ts(now),
                _ts(now),
            )
            for s in subscribers
        ]
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(
                """INSERT INTO subscribers (email, name, language, status, consent,
                       consent_date, consent_source, consent_wording, created, updated)
                   VALUES (?,?,?,?,?,?,?,?,?,?)
                   ON CONFLICT (email) DO UPDATE SET name=excluded.name,
                       language=excluded.language, consent=excluded.consent,
                       consent_date=excluded.consent_date,
                       consent_source=excluded.consent_source,
                       consent_wording=excluded.consent_wording, updated=excluded.updated
                   WHERE (subscribers.name, subscribers.language, subscribers.consent,
                          subscribers.consent_date, subscribers.consent_source,
                          subscribers.consent_wording)
                      IS NOT (excluded.name, excluded.language, excluded.consent,
                          excluded.consent_date, excluded.consent_source,
                          excluded.consent_wording)""",
                rows,
            )
            return db.total_changes - before

    def subscribers(
        self, *, status: str | None = None, language: str | None = None
    ) -> list[Subscriber]:
        sql = "SELECT * FROM subscribers WHERE 1=1"
        args: list[object] = []
        if status is not None:
            sql += " AND status = ?"
            args.append(status)
        if language is not None:
            sql += " AND language = ?"
            args.append(language)
        return [_subscriber(r) for r in self.db.execute(sql + " ORDER BY email", args)]

    # ------------------------------------------------------------------ send log

    # ------------------------------------------------------------------ scheduler


def _state(row: sqlite3.Row) -> SourceState:
    return SourceState(
        source_id=row["source_id"],
        url=row["url"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_fetch=_dt(row["last_fetch"]),
        last_success=_dt(row["last_success"]),
        http_status=row["http_status"],
        consecutive_failures=row["consecutive_failures"],
        last_error=row["last_error"],
        retry_after=_dt(row["retry_after"]),
        items_total=row["items_total"],
    )


def _item_row(i: Item) -> tuple[object, ...]:
    return (
        i.id,
        i.source_id,
        i.guid,
        i.url,
        i.canonical_url,
        i.title,
        i.summary_html,
        i.summary_text,
        i.image_url,
        i.author,
        _ts(i.published),
        _ts(i.first_seen),
        i.language,
        i.format,
        i.section,
        i.region,
        json.dumps(list(i.tags)),
        i.duplicate_of,
        i.content_hash,
    )


def _item(r: sqlite3.Row) -> Item:
    published = _dt(r["published"])
    first_seen = _dt(r["first_seen"])
    assert published is not None and first_seen is not None
    return Item(
        id=r["id"],
        source_id=r["source_id"],
        guid=r["guid"],
        url=r["url"],
        canonical_url=r["canonical_url"],
        title=r["title"],
        summary_html=r["summary_html"],
        summary_text=r["summary_text"],
        image_url=r["image_url"],
        author=r["author"],
        published=published,
        first_seen=first_seen,
        language=r["language"],
        format=r["format"],
        section=r["section"],
        region=r["region"],
        tags=tuple(json.loads(r["tags"])),
        duplicate_of=r["duplicate_of"],
        content_hash=r["content_hash"],
    )


def _subscriber(r: sqlite3.Row) -> Subscriber:
    return Subscriber(
        email=r["email"],
        name=r["name"],
        language=r["language"],
        status=r["status"],
        consent=r["consent"],
        consent_date=r["consent_date"],
        consent_source=r["consent_source"],
        consent_wording=r["consent_wording"],
        created=_dt(r["created"]),
        updated=_dt(r["updated"]),
    )
