"""The store's schema is versioned and migrations bring any older database up to date."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from spark.errors import StoreError
from spark.models import SourceState, Subscriber
from spark.store import MIGRATIONS, SCHEMA_VERSION, Store


def test_empty_database_is_migrated_to_current_version(tmp_path: Path) -> None:
    path = tmp_path / "spark.db"
    sqlite3.connect(path).close()  # an empty database file, version 0
    with Store(path) as store:
        assert store.version == SCHEMA_VERSION == len(MIGRATIONS)
        tables = {
            r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    assert {"items", "source_state", "subscribers", "sends", "send_batches"} <= tables
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_reopening_keeps_data(tmp_path: Path) -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    path = tmp_path / "spark.db"
    with Store(path) as store:
        store.save_source_state(
            SourceState("a", etag='"x"', last_fetch=now, consecutive_failures=2)
        )
        store.upsert_subscribers([Subscriber("A@Example.org", consent_date="2026-01-01")], now)
    with Store(path) as store:
        state = store.source_state("a")
        assert state.etag == '"x"' and state.last_fetch == now and state.consecutive_failures == 2
        assert [s.email for s in store.subscribers()] == ["a@example.org"]


def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "spark.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer than this Spark"):
        Store(path)


def test_version_1_database_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "spark.db"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0] + "PRAGMA user_version = 1;")
    db.execute("INSERT INTO source_state (source_id, etag) VALUES ('a', '\"x\"')")
    db.commit()
    db.close()
    with Store(path) as store:
        assert store.version == SCHEMA_VERSION
        assert store.source_state("a").etag == '"x"'
        indexes = {
            r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type='index'")
        }
    assert "items_canonical_url" not in indexes and "items_first_seen" in indexes
