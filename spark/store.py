"""The SQLite store. All of Spark's SQL lives in this module.

The schema is versioned with `PRAGMA user_version`; `MIGRATIONS[n]` upgrades version n to
n + 1, so a database of any earlier version is brought up to date on open, inside a
transaction. Timestamps are stored as ISO 8601 text in UTC.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from spark.errors import StoreError
from spark.models import Item, JobRun, SourceState, Subscriber
from spark.send_log import SendBatch, SendRecord

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
    CREATE TABLE review_offers (
        issue TEXT NOT NULL,
        item_id TEXT NOT NULL,
        offered TEXT NOT NULL,
        PRIMARY KEY (issue, item_id)
    );
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
    CREATE INDEX subscribers_language ON subscribers (language, status);
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
    CREATE INDEX send_batches_status ON send_batches (send_id, status);
    CREATE TABLE job_runs (
        job TEXT NOT NULL,
        started TEXT NOT NULL,
        finished TEXT,
        ok INTEGER,
        message TEXT
    );
    CREATE INDEX job_runs_job ON job_runs (job, started);
    """,
    # 1 -> 2: no query looks items up by canonical URL (ingest compares them in memory), and
    # the index cost a tenth of the time of saving a run's items. Ingest saves each source
    # as it comes in; its new items wait in dedupe_pending for the cross-source duplicate
    # check at the end of the run (or of the next run, if this one was cut short).
    """
    DROP INDEX IF EXISTS items_canonical_url;
    CREATE TABLE dedupe_pending (item_id TEXT PRIMARY KEY) WITHOUT ROWID;
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


# A review candidate: not yet in an issue, not a duplicate, and checked for duplicates
# (an ingest run saves its sources one by one and checks across them at the end).
_CANDIDATE = """published_in IS NULL AND duplicate_of IS NULL
    AND id NOT IN (SELECT item_id FROM dedupe_pending)"""


_ITEM_KEY = "items.id, source_id, canonical_url, title, published, duplicate_of"


class ItemKey(NamedTuple):
    """The few fields of a stored item that deduplication compares."""

    id: str
    source_id: str
    canonical_url: str
    title: str
    published: datetime
    duplicate_of: str | None


class CandidateKey(NamedTuple):
    """The few fields of a review candidate that ranking reads."""

    id: str
    source_id: str
    title: str
    summary_text: str
    published: datetime
    language: str
    region: str | None


def _ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
    return value.isoformat(timespec="seconds")


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
        items = list(items)
        if not items:
            return 0
        with self.transaction() as db:
            before = db.total_changes
            _upsert_items(db, items)
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
            f"""SELECT {_ITEM_KEY} FROM items
                WHERE first_seen >= ? OR published >= ? ORDER BY first_seen, id""",
            (_ts(since), _ts(since)),
        )
        return _item_keys(rows)

    def save_source_result(
        self, items: Sequence[Item], state: SourceState | None, pending: Sequence[str]
    ) -> None:
        """One source's new and changed items and its state, in one transaction; the ids
        in `pending` await the cross-source duplicate check (`finish_dedupe`)."""
        if not items and state is None:
            return
        with self.transaction() as db:
            if items:
                _upsert_items(db, items)
            if pending:
                db.executemany(
                    "INSERT OR IGNORE INTO dedupe_pending (item_id) VALUES (?)",
                    [(i,) for i in pending],
                )
            if state is not None:
                self.save_source_state(state)

    def pending_ids(self) -> set[str]:
        """The ids of the items still waiting for the cross-source duplicate check."""
        return {r[0] for r in self.db.execute("SELECT item_id FROM dedupe_pending")}

    def pending_item_keys(self, ids: Iterable[str] | None = None) -> list[ItemKey]:
        """What deduplication needs of the items waiting for the check (of those in `ids`,
        when given)."""
        wanted = sorted(self.pending_ids() if ids is None else ids)
        keys: list[ItemKey] = []
        for start in range(0, len(wanted), 500):  # under SQLite's bound-parameter limit
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            keys += _item_keys(
                self.db.execute(
                    f"""SELECT {_ITEM_KEY} FROM items JOIN dedupe_pending
                        ON dedupe_pending.item_id = items.id
                        WHERE items.id IN ({marks}) ORDER BY items.id""",
                    chunk,
                )
            )
        return keys

    def finish_dedupe(self, duplicates: Mapping[str, str], checked: Iterable[str]) -> None:
        """Mark each duplicate (id -> the original's id) and clear the checked items."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE items SET duplicate_of = ? WHERE id = ? AND duplicate_of IS NULL",
                [(original, item) for item, original in duplicates.items()],
            )
            db.executemany("DELETE FROM dedupe_pending WHERE item_id = ?", [(i,) for i in checked])

    def count_items(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM items").fetchone()[0])

    # ------------------------------------------------------------------ review

    def mark_published(self, item_ids: Iterable[str], issue: str) -> None:
        with self.transaction() as db:
            db.executemany(
                "UPDATE items SET published_in = ? WHERE id = ? AND published_in IS NULL",
                [(issue, i) for i in item_ids],
            )

    def review_candidates(self, since: datetime | None) -> list[Item]:
        """Primary items not yet published in an issue, first seen or published at or
        after `since` (every unpublished primary item when `since` is None)."""
        sql = f"SELECT * FROM items WHERE {_CANDIDATE}"
        args: list[object] = []
        if since is not None:
            sql += " AND (first_seen >= ? OR published >= ?)"
            args += [_ts(since), _ts(since)]
        return [_item(r) for r in self.db.execute(sql + " ORDER BY id", args)]

    def review_candidate_keys(self, since: datetime | None) -> list[CandidateKey]:
        """What ranking needs of `review_candidates(since)`, the same rows in no particular
        order: reading only these columns keeps a refresh over a large store fast, and
        `items_by_id` then reads the few items that go into the file."""
        sql = (
            "SELECT id, source_id, title, summary_text, published, language, region FROM items "
            f"WHERE {_CANDIDATE}"
        )
        args: list[object] = []
        if since is not None:
            sql += " AND (first_seen >= ? OR published >= ?)"
            args += [_ts(since), _ts(since)]
        cursor = self.db.cursor()
        cursor.row_factory = None  # plain tuples: 20,000 rows at a time
        return [
            CandidateKey(r[0], r[1], r[2], r[3], datetime.fromisoformat(r[4]), r[5], r[6])
            for r in cursor.execute(sql, args)
        ]

    def items_by_id(self, item_ids: Iterable[str]) -> dict[str, Item]:
        ids = list(dict.fromkeys(item_ids))
        out: dict[str, Item] = {}
        for start in range(0, len(ids), 500):  # under SQLite's bound-parameter limit
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self.db.execute(f"SELECT * FROM items WHERE id IN ({marks})", chunk):
                out[r["id"]] = _item(r)
        return out

    def duplicate_links(self) -> list[tuple[str, str, str, str]]:
        """(id, duplicate_of, source_id, url) of every item that repeats another."""
        return [
            (r[0], r[1], r[2], r[3])
            for r in self.db.execute(
                "SELECT id, duplicate_of, source_id, url FROM items "
                "WHERE duplicate_of IS NOT NULL ORDER BY id"
            )
        ]

    def issue_sent_at(self, issue: str) -> datetime | None:
        """When the first send of any edition of `issue` started, from the send log."""
        row = self.db.execute("SELECT MIN(started) FROM sends WHERE issue = ?", (issue,)).fetchone()
        return _dt(row[0]) if row and row[0] else None

    def offered_ids(self, issue: str) -> set[str]:
        """Items already put in the issue's review file once (an editor may delete them)."""
        rows = self.db.execute("SELECT item_id FROM review_offers WHERE issue = ?", (issue,))
        return {r[0] for r in rows}

    def record_offered(self, issue: str, item_ids: Iterable[str], now: datetime) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO review_offers (issue, item_id, offered) VALUES (?,?,?)",
                [(issue, i, _ts(now)) for i in item_ids],
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

    def subscriber(self, email: str) -> Subscriber | None:
        row = self.db.execute(
            "SELECT * FROM subscribers WHERE email = ?", (email.lower(),)
        ).fetchone()
        return None if row is None else _subscriber(row)

    def set_subscriber_status(self, emails: Iterable[str], status: str, now: datetime) -> int:
        """Mark subscribers unsubscribed or bounced; an address absent from the list is ignored."""
        rows = [(status, _ts(now), e.lower(), status) for e in emails]
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(
                "UPDATE subscribers SET status = ?, updated = ? WHERE email = ? AND status != ?",
                rows,
            )
            return db.total_changes - before

    def replace_suppressions(self, kind: str, emails: Iterable[str], now: datetime) -> None:
        """The synced list of one kind (asm_group, global, bounce, spam) replaces the last one."""
        rows = [(e.lower(), kind, _ts(now)) for e in set(emails)]
        with self.transaction() as db:
            db.execute("DELETE FROM suppressions WHERE kind = ?", (kind,))
            db.executemany(
                "INSERT OR IGNORE INTO suppressions (email, kind, synced) VALUES (?,?,?)", rows
            )

    def suppressed_emails(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT DISTINCT email FROM suppressions")}

    # ------------------------------------------------------------------ send log

    def send_record(self, issue: str, edition: str) -> SendRecord | None:
        row = self.db.execute(
            "SELECT * FROM sends WHERE issue = ? AND edition = ?", (issue, edition)
        ).fetchone()
        return None if row is None else _send(row)

    def begin_send(self, issue: str, edition: str, recipients: int, now: datetime) -> SendRecord:
        """The send of one edition: created on its first run, kept across reruns."""
        with self.transaction() as db:
            db.execute(
                """INSERT INTO sends (issue, edition, started, status, recipients)
                   VALUES (?,?,?,'sending',?)
                   ON CONFLICT (issue, edition) DO UPDATE SET recipients = excluded.recipients
                   WHERE sends.status != 'sent'""",
                (issue, edition, _ts(now), recipients),
            )
        record = self.send_record(issue, edition)
        assert record is not None
        return record

    def finish_send(self, send_id: int, now: datetime) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE sends SET status = 'sent', finished = ? WHERE id = ?", (_ts(now), send_id)
            )

    def send_batches(self, send_id: int) -> list[SendBatch]:
        return [
            _batch(r)
            for r in self.db.execute(
                "SELECT * FROM send_batches WHERE send_id = ? ORDER BY batch_no", (send_id,)
            )
        ]

    def next_batch_no(self, send_id: int) -> int:
        row = self.db.execute(
            "SELECT COALESCE(MAX(batch_no), 0) FROM send_batches WHERE send_id = ?", (send_id,)
        ).fetchone()
        return int(row[0]) + 1

    def mark_pending(
        self,
        send_id: int,
        batch_no: int,
        recipients: list[tuple[str, str]],
        now: datetime,
    ) -> None:
        """Committed before the request goes out: a crash after this leaves the batch in doubt."""
        with self.transaction() as db:
            db.execute(
                """INSERT INTO send_batches (send_id, batch_no, status, recipients, requested)
                   VALUES (?,?,'pending',?,?)
                   ON CONFLICT (send_id, batch_no) DO UPDATE SET status = 'pending',
                       requested = excluded.requested, error = NULL""",
                (send_id, batch_no, json.dumps(recipients), _ts(now)),
            )

    def mark_answered(
        self,
        send_id: int,
        batch_no: int,
        status: str,
        now: datetime,
        *,
        message_id: str | None = None,
        error: str | None = None,
    ) -> None:
        with self.transaction() as db:
            db.execute(
                """UPDATE send_batches SET status = ?, message_id = ?, error = ?, answered = ?
                   WHERE send_id = ? AND batch_no = ?""",
                (status, message_id, error, _ts(now), send_id, batch_no),
            )

    def last_send_records(self) -> list[SendRecord]:
        """Every edition's send of the issue sent (or being sent) most recently."""
        row = self.db.execute("SELECT issue FROM sends ORDER BY started DESC, id DESC").fetchone()
        if row is None:
            return []
        return [
            _send(r)
            for r in self.db.execute(
                "SELECT * FROM sends WHERE issue = ? ORDER BY edition", (row[0],)
            )
        ]

    # ------------------------------------------------------------------ scheduler

    def start_job_run(self, job: str, started: datetime) -> int:
        """Record that JOB started; returns the run's id for `finish_job_run`."""
        cursor = self.db.execute(
            "INSERT INTO job_runs (job, started) VALUES (?, ?)", (job, _ts(started))
        )
        return int(cursor.lastrowid or 0)

    def finish_job_run(self, run_id: int, finished: datetime, ok: bool, message: str) -> None:
        self.db.execute(
            "UPDATE job_runs SET finished = ?, ok = ?, message = ? WHERE rowid = ?",
            (_ts(finished), int(ok), message, run_id),
        )

    def last_job_runs(self) -> dict[str, JobRun]:
        """The latest run of each job (by start time)."""
        rows = self.db.execute(
            """SELECT job, started, finished, ok, message FROM job_runs AS r
               WHERE rowid = (SELECT rowid FROM job_runs WHERE job = r.job
                              ORDER BY started DESC, rowid DESC LIMIT 1)"""
        )
        return {r["job"]: _job_run(r) for r in rows}

    def job_runs(self, job: str | None = None, limit: int = 100) -> list[JobRun]:
        """Runs, newest first."""
        sql = "SELECT job, started, finished, ok, message FROM job_runs"
        args: list[object] = []
        if job is not None:
            sql += " WHERE job = ?"
            args.append(job)
        sql += " ORDER BY started DESC, rowid DESC LIMIT ?"
        args.append(limit)
        return [_job_run(r) for r in self.db.execute(sql, args)]

    def scheduled_jobs(self) -> dict[str, datetime | None]:
        """Next run time of each job in APScheduler's job store (the `apscheduler_jobs`
        table it keeps in this database), read without starting a scheduler. None = paused;
        empty when no scheduler has run yet."""
        exists = self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'apscheduler_jobs'"
        ).fetchone()
        if exists is None:
            return {}
        return {
            r["id"]: None
            if r["next_run_time"] is None
            else datetime.fromtimestamp(float(r["next_run_time"]), UTC)
            for r in self.db.execute("SELECT id, next_run_time FROM apscheduler_jobs")
        }


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


def _item_keys(rows: Iterable[sqlite3.Row]) -> list[ItemKey]:
    return [ItemKey(r[0], r[1], r[2], r[3], datetime.fromisoformat(r[4]), r[5]) for r in rows]


def _upsert_items(db: sqlite3.Connection, items: Iterable[Item]) -> None:
    db.executemany(_UPSERT_ITEM, [_item_row(i) for i in items])


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
        json.dumps(list(i.tags)) if i.tags else "[]",
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


def _job_run(r: sqlite3.Row) -> JobRun:
    started = _dt(r["started"])
    assert started is not None
    return JobRun(
        job=r["job"],
        started=started,
        finished=_dt(r["finished"]),
        ok=None if r["ok"] is None else bool(r["ok"]),
        message=r["message"] or "",
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


def _send(r: sqlite3.Row) -> SendRecord:
    started = _dt(r["started"])
    assert started is not None
    return SendRecord(
        id=r["id"],
        issue=r["issue"],
        edition=r["edition"],
        started=started,
        finished=_dt(r["finished"]),
        status=r["status"],
        recipients=r["recipients"],
    )


def _batch(r: sqlite3.Row) -> SendBatch:
    return SendBatch(
        send_id=r["send_id"],
        batch_no=r["batch_no"],
        status=r["status"],
        recipients=tuple((str(e), str(n)) for e, n in json.loads(r["recipients"])),
        message_id=r["message_id"],
        error=r["error"],
        requested=_dt(r["requested"]),
        answered=_dt(r["answered"]),
    )
