"""The SQLite tier: one local file, shared safely by every process on the machine.

Contract (on top of :class:`cache.backends.base.Backend`):

- WAL journal, ``synchronous=NORMAL``, ``busy_timeout``; one writer connection and a read-only
  reader (:mod:`cache.backends.sqlite_file`: how writes are serialised and retried).
- Reads return only rows whose ``expires_at`` is after ``clock()``; expired rows stay in the
  file until :meth:`cleanup_expired` or eviction removes them.
- Size bound: ``max_entries`` rows and ``max_bytes`` (key + data). Over either bound the least
  recently used rows are evicted in batches. Reads do not write: read times are buffered in
  memory and written in one batch at the next write, when ``access_flush_size`` keys are
  buffered, before maintenance, and at close (:mod:`cache.backends.sqlite_lru`).
- Every failure surfaces as :class:`BackendError` with the file name in the message.
- Capabilities (:mod:`cache.backends.capabilities`): creation and use indexes, a count, its
  path as ``where``, and the ``meta`` rows (:class:`~cache.backends.sqlite_meta.SqliteMeta`);
  maintenance is :class:`~cache.backends.sqlite_maintenance.SqliteMaintenance`'s, delegated.

aiosqlite runs each connection on its own thread and every awaited call is a thread hop, so
reads are one statement (``WHERE key IN (...)``) and writes one transaction of executemany.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from cache.backends.base import BackendError
from cache.backends.glob import sqlite_glob
from cache.backends.sqlite_file import SqliteCounters, SqliteFile
from cache.backends.sqlite_lru import AccessTimes, Bounds, flush_access
from cache.backends.sqlite_maintenance import SqliteMaintenance
from cache.backends.sqlite_meta import SqliteMeta
from cache.backends.sqlite_schema import LIVE, SetAside
from cache.backends.sqlite_sql import CHUNK, UPSERT, chunks, marks, select_sql
from cache.config import DEFAULT_SQLITE
from cache.entry import Record

log = logging.getLogger(__name__)


class SqliteBackend:
    """Cache tier on one SQLite file. Build with ``await SqliteBackend.open(path)``."""

    name = "sqlite"

    def __init__(self, file: SqliteFile, bounds: Bounds, clock: Callable[[], float], access_flush_size: int) -> None:
        """Use :meth:`open`; this takes a file already opened by it."""
        self._file = file
        self._clock = clock
        self._bounds = bounds
        self._access = AccessTimes(file, access_flush_size)
        self._meta = SqliteMeta(file)
        self._maintenance = SqliteMaintenance(file, self._access, bounds, clock)

    @classmethod
    async def open(
        cls,
        path: Path | str,
        *,
        max_entries: int = DEFAULT_SQLITE.max_entries,
        max_bytes: int = DEFAULT_SQLITE.max_bytes,
        busy_timeout_ms: int = DEFAULT_SQLITE.busy_timeout_ms,
        cleanup_batch: int = DEFAULT_SQLITE.cleanup_batch,
        clock: Callable[[], float] = time.time,
        access_flush_size: int = 1000,
    ) -> SqliteBackend:
        """Open (or create) the cache file at ``path``, checking its integrity first.

        A corrupt, non-SQLite or foreign file is moved aside to ``<name>.corrupt-<timestamp>``
        (logged as a warning) and a fresh file is created. Raises :class:`BackendError` when
        no usable file can be opened.
        """
        if max_entries < 1 or max_bytes < 1 or cleanup_batch < 1 or access_flush_size < 1:
            raise ValueError("max_entries, max_bytes, cleanup_batch and access_flush_size must be positive")
        file = await SqliteFile.open(Path(path), busy_timeout_ms, clock)
        return cls(file, Bounds(max_entries, max_bytes, cleanup_batch), clock, access_flush_size)

    @property
    def path(self) -> Path:
        """The cache file."""
        return self._file.path

    @property
    def where(self) -> str:
        """The cache file's path (the :class:`~cache.backends.capabilities.Describable` capability)."""
        return str(self._file.path)

    @property
    def set_aside(self) -> SetAside | None:
        """The corrupt, non-SQLite or foreign file found at the path and moved away (and why)
        when this backend opened it, or None: a fresh, empty file replaced it."""
        return self._file.set_aside

    @property
    def counters(self) -> SqliteCounters:
        """What this backend has done since it was opened."""
        return self._file.counters

    # -- Backend protocol -------------------------------------------------------------------

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        """Live values of ``keys`` (absent and expired keys left out); one SELECT per 500 keys."""
        if not keys:
            return {}
        file = self._file
        if file.closed:
            raise BackendError(f"SQLite cache {file.path} is closed")
        now, fetch = self._clock(), file.reader.execute_fetchall
        # The hot path: one statement, no generator or context manager around it. aiosqlite types
        # rows as sqlite3.Row; without a row factory they are (key, data) tuples (hence the ignores).
        found: dict[str, bytes]
        try:
            if len(keys) <= CHUNK:
                found = dict(await fetch(select_sql(len(keys)), (*keys, now)))  # type: ignore[arg-type]
            else:
                found = {}
                for chunk in chunks(keys):
                    found.update(await fetch(select_sql(len(chunk)), (*chunk, now)))  # type: ignore[arg-type]
        except (sqlite3.Error, ValueError) as exc:
            raise BackendError(f"SQLite cache {file.path}: get_many failed: {exc}") from exc
        if found and self._access.read(found, now):
            await self._access.flush()
        return found

    async def set_many(self, records: Sequence[Record]) -> None:
        """Store every record (replacing value, expiry and tags) in one transaction.

        A record whose ``expires_at`` has already passed deletes the key instead; an infinite
        ``expires_at`` never expires; an unknown ``created_at`` (0) is stored as now. Evicts
        least recently used rows when over the bounds.
        """
        if not records:
            return
        now = self._clock()
        latest = {record.key: record for record in records}.values()
        dead = [(r.key,) for r in latest if r.expires_at <= now]
        rows = [
            (
                r.key,
                r.data,
                None if math.isinf(r.expires_at) else r.expires_at,
                len(r.key) + len(r.data),
                now,
                r.created_at if r.created_at > 0 else now,
            )
            for r in latest
            if r.expires_at > now
        ]
        tag_rows = [(tag, r.key) for r in latest if r.expires_at > now for tag in set(r.tags)]
        access = self._access.take()

        async def work(conn: aiosqlite.Connection) -> None:
            await flush_access(conn, access)
            if dead:
                await conn.executemany("DELETE FROM entries WHERE key = ?", dead)
            if rows:
                await conn.executemany(UPSERT, rows)
            if tag_rows:
                await conn.executemany("INSERT OR IGNORE INTO tags (tag, key) VALUES (?, ?)", tag_rows)
            self._file.counters.evicted += await self._bounds.evict(conn, now)

        await self._file.write("set_many", work)

    async def delete_many(self, keys: Sequence[str]) -> int:
        """Delete the keys and their tag links; returns how many rows existed."""
        unique = list(dict.fromkeys(keys))
        if not unique:
            return 0
        self._access.forget(unique)

        async def work(conn: aiosqlite.Connection) -> int:
            deleted = 0
            for chunk in chunks(unique):
                cursor = await conn.execute(f"DELETE FROM entries WHERE key IN ({marks(len(chunk))})", chunk)
                deleted += max(cursor.rowcount, 0)
            return deleted

        return await self._file.write("delete_many", work)

    async def match(self, pattern: str) -> list[str]:
        """Live keys matching the glob (:mod:`cache.backends.glob`, rewritten for SQLite GLOB)."""
        rows = await self._file.read(
            "match", f"SELECT key FROM entries WHERE key GLOB ? AND {LIVE}", (sqlite_glob(pattern), self._clock())
        )
        return [row[0] for row in rows]

    async def tagged(self, tags: Sequence[str]) -> list[str]:
        """Live keys carrying any of ``tags``."""
        unique = list(dict.fromkeys(tags))
        if not unique:
            return []
        keys: dict[str, None] = {}
        for chunk in chunks(unique):
            rows = await self._file.read(
                "tagged",
                "SELECT DISTINCT t.key FROM tags AS t JOIN entries AS e ON e.key = t.key "
                f"WHERE t.tag IN ({marks(len(chunk))}) AND (e.expires_at IS NULL OR e.expires_at > ?)",
                (*chunk, self._clock()),
            )
            keys.update(dict.fromkeys(row[0] for row in rows))
        return list(keys)

    async def clear(self) -> int:
        """Remove every entry and tag link from the file; returns how many entries (rows, expired
        ones included) it removed."""
        self._access.clear()

        async def work(conn: aiosqlite.Connection) -> int:
            await conn.execute("DELETE FROM tags")
            cursor = await conn.execute("DELETE FROM entries")
            return max(cursor.rowcount, 0)

        return await self._file.write("clear", work)

    async def ping(self) -> bool:
        """True when the file answers a trivial query and is still the file at the path (not
        deleted or replaced since it was opened); never raises."""
        if self._file.closed or self._file.moved() is not None:
            return False
        try:
            await self._file.reader.execute_fetchall("SELECT 1")
        except Exception:  # noqa: BLE001 - ping reports, it does not raise
            return False
        return True

    async def aclose(self) -> None:
        """Write buffered read times, then close both connections. Idempotent."""
        if self._file.closed:
            return
        if self._access:
            try:
                await self._access.flush()
            except BackendError as exc:
                log.warning("dropping buffered access times on close: %s", exc)
        await self._file.aclose()

    # -- capabilities and maintenance (SqliteMeta, SqliteMaintenance) --------------------------

    async def meta_get_prefixed(self, prefix: str) -> dict[str, str]:
        """The ``meta`` rows whose name starts with ``prefix``, as ``{name: value}``."""
        return await self._meta.meta_get_prefixed(prefix)

    async def meta_set(self, name: str, value: str) -> None:
        """Store ``value`` under ``name`` in ``meta``; ValueError for the schema's own rows."""
        await self._meta.meta_set(name, value)

    async def meta_increment(self, name: str) -> int:
        """Add one to the integer ``meta`` row ``name`` atomically; the new value."""
        return await self._meta.meta_increment(name)

    async def meta_delete(self, names: Sequence[str]) -> int:
        """Delete the ``meta`` rows named ``names``; how many existed."""
        return await self._meta.meta_delete(names)

    async def count(self) -> int:
        """How many live (unexpired) entries the file holds."""
        return await self._maintenance.count()

    async def created_before(self, cutoff: float, pattern: str = "*") -> list[str]:
        """Keys matching ``pattern`` whose entry was created before ``cutoff`` (expired included)."""
        return await self._maintenance.created_before(cutoff, pattern)

    async def unused_since(self, cutoff: float, pattern: str = "*") -> list[str]:
        """Keys matching ``pattern`` neither read nor written since ``cutoff``."""
        return await self._maintenance.unused_since(cutoff, pattern)

    async def cleanup_expired(self) -> int:
        """Delete expired rows, at most ``cleanup_batch`` per transaction; returns how many."""
        return await self._maintenance.cleanup_expired()

    async def backup(self, dest_path: Path | str) -> None:
        """Online backup of the file to ``dest_path`` (readers and writers keep going)."""
        await self._maintenance.backup(dest_path)

    async def restore(self, src_path: Path | str) -> int:
        """Copy the live entries of one of our backup files in; BackendError for any other file."""
        return await self._maintenance.restore(src_path)

    async def vacuum(self) -> None:
        """Rebuild the file to return free pages to the disk, then truncate the WAL."""
        await self._maintenance.vacuum()

    async def check(self) -> dict[str, Any]:
        """Health report: full integrity_check verdict and size bookkeeping (``ok``), entry,
        expired and tag counts, sizes, path."""
        return await self._maintenance.check()
