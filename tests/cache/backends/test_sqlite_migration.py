"""Schema 1 files (no ``created_at``) are migrated in place, idempotently, keeping their data;
a schema 1 backup can still be restored; new rows carry their entry's creation time."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cache.backends.sqlite import SqliteBackend
from cache.entry import Record
from tests.support.clock import ManualClock

# The schema 1 layout as shipped before created_at existed (a recorded fixture of the old format).
V1_DDL = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE entries (key TEXT PRIMARY KEY, data BLOB NOT NULL, expires_at REAL, size INTEGER NOT NULL,
                      last_access REAL NOT NULL);
CREATE INDEX entries_expiry ON entries(expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX entries_lru ON entries(last_access);
CREATE TABLE tags (tag TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (tag, key)) WITHOUT ROWID;
CREATE INDEX tags_by_key ON tags(key);
CREATE TABLE stats (id INTEGER PRIMARY KEY CHECK (id = 1), entries INTEGER NOT NULL, bytes INTEGER NOT NULL);
INSERT INTO stats (id, entries, bytes) VALUES (1, 0, 0);
CREATE TRIGGER entries_after_insert AFTER INSERT ON entries BEGIN
    UPDATE stats SET entries = entries + 1, bytes = bytes + NEW.size WHERE id = 1;
END;
CREATE TRIGGER entries_after_delete AFTER DELETE ON entries BEGIN
    UPDATE stats SET entries = entries - 1, bytes = bytes - OLD.size WHERE id = 1;
    DELETE FROM tags WHERE key = OLD.key;
END;
CREATE TRIGGER entries_after_replace AFTER UPDATE OF data ON entries BEGIN
    UPDATE stats SET bytes = bytes - OLD.size + NEW.size WHERE id = 1;
    DELETE FROM tags WHERE key = OLD.key;
END;
INSERT INTO meta (name, value) VALUES ('schema_version', '1'), ('application', 'trialstock-cache'),
                                      ('tunables.cutoff', '2.5');
INSERT INTO entries VALUES ('ns:a', x'0102', 2000000000.0, 10, 1000.0), ('ns:b', x'0304', NULL, 10, 3000.0);
INSERT INTO tags VALUES ('t1', 'ns:a');
"""


def make_v1(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(V1_DDL)
    conn.close()


def columns(path: Path) -> list[tuple[str, float]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT key, created_at FROM entries ORDER BY key").fetchall()
    finally:
        conn.close()


async def test_a_v1_file_is_migrated_keeping_its_data(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "old.sqlite3"
    make_v1(path)
    backend = await SqliteBackend.open(path, clock=clock)
    try:
        assert await backend.get_many(["ns:a", "ns:b"]) == {"ns:a": b"\x01\x02", "ns:b": b"\x03\x04"}
        assert await backend.tagged(["t1"]) == ["ns:a"]
        assert await backend.meta_get_prefixed("") == {
            "schema_version": "2",
            "application": "trialstock-cache",
            "tunables.cutoff": "2.5",
        }
        assert await backend.created_before(2000.0) == ["ns:a"]  # created_at = last access
        assert (await backend.check())["entries"] == 2
    finally:
        await backend.aclose()
    assert [p.name for p in tmp_path.iterdir() if "corrupt" in p.name] == []
    assert columns(path) == [("ns:a", 1000.0), ("ns:b", 3000.0)]
    again = await SqliteBackend.open(path, clock=clock)  # idempotent: nothing to do the second time
    await again.aclose()
    assert columns(path) == [("ns:a", 1000.0), ("ns:b", 3000.0)]


async def test_a_v1_backup_restores_into_a_v2_file(tmp_path: Path, clock: ManualClock) -> None:
    backup = tmp_path / "backup.sqlite3"
    make_v1(backup)
    backend = await SqliteBackend.open(tmp_path / "live.sqlite3", clock=clock)
    try:
        assert await backend.restore(backup) == 2
        assert sorted(await backend.created_before(5000.0)) == ["ns:a", "ns:b"]
        assert await backend.created_before(2000.0) == ["ns:a"]
    finally:
        await backend.aclose()


async def test_rows_carry_the_records_creation_time(tmp_path: Path, clock: ManualClock) -> None:
    backend = await SqliteBackend.open(tmp_path / "c.sqlite3", clock=clock)
    try:
        later = clock() + 3600
        await backend.set_many(
            [Record("ns:known", b"x", later, created_at=clock() - 500), Record("ns:unknown", b"y", later)]
        )  # 0.0: stored as now
        assert await backend.created_before(clock() - 100) == ["ns:known"]
        assert sorted(await backend.created_before(clock() + 1)) == ["ns:known", "ns:unknown"]
        assert await backend.created_before(clock() + 1, "ns:u*") == ["ns:unknown"]
        clock.advance(100)
        await backend.get_many(["ns:known"])  # buffered read time, flushed by unused_since
        assert await backend.unused_since(clock() - 50) == ["ns:unknown"]
    finally:
        await backend.aclose()
