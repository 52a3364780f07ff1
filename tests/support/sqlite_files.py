"""SQLite cache files for command-line tests: fill one, read it back behind the program's back,
and craft broken backups.

Everything here is blocking (plain ``sqlite3``, or ``asyncio.run`` around the backend), so call
it from synchronous tests: the command line under test runs its own event loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
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
