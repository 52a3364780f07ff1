"""SQLite cache files for command-line tests: fill one, read it back behind the program's back,
and craft broken backups.

Everything here is blocking (plain ``sqlite3``, or ``asyncio.run`` around the backend), so call
it from synchronous tests: the command line under test runs its own event loop
(:func:`write_lock_held` and :func:`stored` are quick enough for async tests too).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cache import Record, SqliteBackend

FAR_FUTURE = 4_000_000_000.0  # an expiry no test outlives


def fill_cache(path: Path, keys: list[str], tags: tuple[str, ...] = ()) -> None:
    """Store ``keys`` in the cache file at ``path`` (created if missing), each valued ``key``
    encoded."""

    async def fill() -> None:
        backend = await SqliteBackend.open(path)
        try:
            await backend.set_many([Record(key, key.encode(), FAR_FUTURE, tags) for key in keys])
        finally:
            await backend.aclose()

    asyncio.run(fill())


def stored(path: Path) -> dict[str, bytes]:
    """Every row of the file's ``entries`` table, read with a connection of its own."""
    conn = sqlite3.connect(path)
    try:
        return {str(key): bytes(data) for key, data in conn.execute("SELECT key, data FROM entries")}
    finally:
        conn.close()


def stats_row(path: Path) -> tuple[int, int]:
    """The file's ``stats`` totals: (entries, bytes)."""
    conn = sqlite3.connect(path)
    try:
        ((entries, data_bytes),) = conn.execute("SELECT entries, bytes FROM stats").fetchall()
        return int(entries), int(data_bytes)
    finally:
        conn.close()


def trash_pages(path: Path, start: int = 4096, end: int = 40_000) -> bytes:
    """Overwrite bytes ``start``-``end`` of the file (pages after the header page); the new bytes."""
    raw = bytearray(path.read_bytes())
    assert len(raw) > end, "fill the file with more entries first"
    raw[start:end] = b"\xa5" * (end - start)
    path.write_bytes(bytes(raw))
    return bytes(raw)


def desync_an_index(path: Path) -> None:
    """Make the ``entries_lru`` index disagree with its table: damage ``PRAGMA quick_check``
    does not see (it skips index content) and ``PRAGMA integrity_check`` does."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = 'CREATE INDEX entries_lru ON entries(expires_at)' "
            "WHERE name = 'entries_lru'"
        )
        conn.commit()
    finally:
        conn.close()


def tamper(path: Path, *statements: str) -> None:
    """Run ``statements`` on the file with a plain connection (to craft a bad backup)."""
    conn = sqlite3.connect(path)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def craft_backup(path: Path, kind: str) -> None:
    """A file at ``path`` that a restore must refuse, of one ``kind`` (see :data:`BAD_BACKUPS`)."""
    if kind == "empty file":
        path.write_bytes(b"")
        return
    if kind == "not SQLite":
        path.write_bytes(b"key,value\nstocks.quote:v1:2330,1000\n" * 50)
        return
    if kind == "someone else's database":
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.commit()
        conn.close()
        return
    fill_cache(path, [f"evil:{i}:{'x' * 400}" for i in range(150)])
    statements = {
        "another application": ["UPDATE meta SET value = 'other-app' WHERE name = 'application'"],
        "a newer schema version": ["UPDATE meta SET value = '99' WHERE name = 'schema_version'"],
        "entries without a size column": [
            *(f"DROP TRIGGER entries_after_{event}" for event in ("insert", "delete", "replace")),
            "ALTER TABLE entries DROP COLUMN size",
        ],
        "a negative size": ["DROP TRIGGER entries_after_replace", "UPDATE entries SET size = -151000000000"],
        "a size that is not a number": ["UPDATE entries SET size = 'big' WHERE rowid = 1"],
        "negative totals": ["UPDATE stats SET bytes = -151000000000"],
        "an infinite expiry": ["UPDATE entries SET expires_at = 9e999 WHERE rowid = 2"],
        "an infinite last use": ["UPDATE entries SET last_access = -9e999 WHERE rowid = 3"],
        "an infinite creation time": ["UPDATE entries SET created_at = 9e999 WHERE rowid = 4"],
    }
    if kind == "corrupt pages":
        trash_pages(path)
    else:
        tamper(path, *statements[kind])


BAD_BACKUPS = {
    "empty file": "empty",
    "not SQLite": "not a SQLite database",
    "someone else's database": "not a trialstock cache file",
    "another application": "not a trialstock cache file",
    "a newer schema version": "schema version",
    "entries without a size column": "size",
    "a negative size": "negative size",
    "a size that is not a number": "size",
    "negative totals": "negative entry count or byte total",
    "an infinite expiry": "expires_at",
    "an infinite last use": "last_access",
    "an infinite creation time": "created_at",
    "corrupt pages": "integrity_check",
}
"""Each kind of bad backup :func:`craft_backup` makes, and a word the refusal must contain."""


@contextmanager
def write_lock_held(path: Path) -> Iterator[None]:
    """Hold the file's write lock from a connection of its own, as another process writing would
    (``BEGIN IMMEDIATE`` until the block ends): the backend's writer waits for it (up to its
    busy timeout) while WAL readers go on. Quick, non-blocking calls: usable in async tests."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()
