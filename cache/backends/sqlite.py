"""The SQLite tier: one local file, shared safely by every process on the machine.

Contract (on top of :class:`cache.backends.base.Backend`):

- WAL journal, ``synchronous=NORMAL``, ``busy_timeout``; ONE writer connection (writes are
  serialised in-process by a lock and across processes by ``BEGIN IMMEDIATE`` + busy_timeout,
  with a short retry when the lock is still busy) and a separate read-only reader connection
  (WAL readers never wait for writers).
- Reads return only rows whose ``expires_at`` is after ``clock()``; expired rows stay in the
  file until :meth:`cleanup_expired` or eviction removes them.
- Size bound: ``max_entries`` rows and ``max_bytes`` (key + data). Over either bound the least
  recently used rows are evicted in batches. Reads do not write: read times are buffered in
  memory and written in one batch at the next write, when ``access_flush_size`` keys are
  buffered, before maintenance, and at close.
- Every failure surfaces as :class:`BackendError` with the file name in the message.

aiosqlite runs each connection on its own thread and every awaited call is a thread hop, so
reads are one statement (``WHERE key IN (...)``) and writes one transaction of executemany.
"""

from __future__ import annotations

import asyncio
import logging
import math
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import aiosqlite

from cache.backends.base import BackendError
from cache.backends.sqlite_maintenance import SqliteCounters, SqliteMaintenance, evict_over_bounds, flush_access
from cache.backends.sqlite_meta import SqliteMeta
from cache.backends.sqlite_schema import LIVE, connect, is_busy, open_writer
from cache.entry import Record

log = logging.getLogger(__name__)

T = TypeVar("T")
_CHUNK = 500  # keys per statement, far below SQLite's bound-variable limit
_BUSY_ATTEMPTS = 4
_UPSERT = (
    "INSERT INTO entries (key, data, expires_at, size, last_access, created_at) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(key) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, "
    "size = excluded.size, last_access = excluded.last_access, created_at = excluded.created_at"
)


class SqliteBackend(SqliteMaintenance, SqliteMeta):
    """Cache tier on one SQLite file. Build with ``await SqliteBackend.open(path)``."""

    name = "sqlite"

    def __init__(self, *, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection,
                 max_entries: int, max_bytes: int, cleanup_batch: int, clock: Callable[[], float],
                 access_flush_size: int) -> None:
        """Use :meth:`open`; this takes connections already prepared by it."""
        self.path = path
        self.counters = SqliteCounters()
        self._writer, self._reader = writer, reader
        self._max_entries, self._max_bytes = max_entries, max_bytes
        self._cleanup_batch = cleanup_batch
        self._clock = clock
        self._access_flush_size = access_flush_size
        self._access: dict[str, float] = {}
        self._write_lock = asyncio.Lock()
        self._closed = False

    @classmethod
    async def open(
        cls,
        path: Path | str,
        *,
        max_entries: int = 200_000,
        max_bytes: int = 512 * 1024 * 1024,
        busy_timeout_ms: int = 5000,
        cleanup_batch: int = 500,
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
        path = Path(path)
        try:
            writer = await open_writer(path, busy_timeout_ms, clock)
            try:
                reader = await connect(path, busy_timeout_ms, reader=True)
            except BaseException:
                await writer.close()
                raise
        except sqlite3.Error as exc:
            raise BackendError(f"cannot open SQLite cache {path}: {exc}") from exc
        return cls(
            path=path, writer=writer, reader=reader, max_entries=max_entries, max_bytes=max_bytes,
            cleanup_batch=cleanup_batch, clock=clock, access_flush_size=access_flush_size,
        )

    @property
    def where(self) -> str:
        """The cache file's path (the :class:`~cache.backends.capabilities.Describable` capability)."""
        return str(self.path)

    # -- Backend protocol -------------------------------------------------------------------

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        """Live values of ``keys`` (absent and expired keys left out); one SELECT per 500 keys."""
        if not keys:
            return {}
        if self._closed:
            raise BackendError(f"SQLite cache {self.path} is closed")
        now = self._clock()
        try:  # the hot path: one statement, no generator or context manager around it
            if len(keys) <= _CHUNK:
                found = dict(await self._reader.execute_fetchall(_select_sql(len(keys)), (*keys, now)))
            else:
                found = {}
                for chunk in _chunks(keys):
                    found.update(await self._reader.execute_fetchall(_select_sql(len(chunk)), (*chunk, now)))
        except (sqlite3.Error, ValueError) as exc:
            raise BackendError(f"SQLite cache {self.path}: get_many failed: {exc}") from exc
        if found:
            access = self._access
            for key in found:
                access[key] = now
            if len(access) >= self._access_flush_size:
                await self._flush_pending()
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
            (r.key, r.data, None if math.isinf(r.expires_at) else r.expires_at, len(r.key) + len(r.data), now,
             r.created_at if r.created_at > 0 else now)
            for r in latest
            if r.expires_at > now
        ]
        tag_rows = [(tag, r.key) for r in latest if r.expires_at > now for tag in set(r.tags)]
        access = self._take_access()

        async def work(conn: aiosqlite.Connection) -> None:
            await flush_access(conn, access)
            if dead:
                await conn.executemany("DELETE FROM entries WHERE key = ?", dead)
            if rows:
                await conn.executemany(_UPSERT, rows)
            if tag_rows:
                await conn.executemany("INSERT OR IGNORE INTO tags (tag, key) VALUES (?, ?)", tag_rows)
            await self._evict(conn, now)

        await self._write("set_many", work)

    async def delete_many(self, keys: Sequence[str]) -> int:
        """Delete the keys and their tag links; returns how many rows existed."""
        unique = list(dict.fromkeys(keys))
        if not unique:
            return 0
        for key in unique:
            self._access.pop(key, None)

        async def work(conn: aiosqlite.Connection) -> int:
            deleted = 0
            for chunk in _chunks(unique):
                cursor = await conn.execute(f"DELETE FROM entries WHERE key IN ({_marks(len(chunk))})", chunk)
                deleted += max(cursor.rowcount, 0)
            return deleted

        return await self._write("delete_many", work)

    async def match(self, pattern: str) -> list[str]:
        """Live keys matching the glob (SQLite GLOB: case-sensitive, ``*?[...]``)."""
        self._ensure_open()
        with self._errors("match"):
            rows = await self._reader.execute_fetchall(
                f"SELECT key FROM entries WHERE key GLOB ? AND {LIVE}", (pattern, self._clock())
            )
        return [row[0] for row in rows]

    async def tagged(self, tags: Sequence[str]) -> list[str]:
        """Live keys carrying any of ``tags``."""
        unique = list(dict.fromkeys(tags))
        if not unique:
            return []
        self._ensure_open()
        keys: dict[str, None] = {}
        with self._errors("tagged"):
            for chunk in _chunks(unique):
                rows = await self._reader.execute_fetchall(
                    "SELECT DISTINCT t.key FROM tags AS t JOIN entries AS e ON e.key = t.key "
                    f"WHERE t.tag IN ({_marks(len(chunk))}) AND (e.expires_at IS NULL OR e.expires_at > ?)",
                    (*chunk, self._clock()),
                )
                keys.update(dict.fromkeys(row[0] for row in rows))
        return list(keys)

    async def clear(self) -> None:
        """Remove every entry and tag link from the file."""
        self._access.clear()

        async def work(conn: aiosqlite.Connection) -> None:
            await conn.execute("DELETE FROM tags")
            await conn.execute("DELETE FROM entries")

        await self._write("clear", work)

    async def ping(self) -> bool:
        """True when the file answers a trivial query; never raises."""
        if self._closed:
            return False
        try:
            await self._reader.execute_fetchall("SELECT 1")
        except Exception:  # noqa: BLE001 - ping reports, it does not raise
            return False
        return True

    async def aclose(self) -> None:
        """Write buffered read times, then close both connections. Idempotent."""
        if self._closed:
            return
        if self._access:
            try:
                await self._flush_pending()
            except BackendError as exc:
                log.warning("dropping buffered access times on close: %s", exc)
        self._closed = True
        for conn in (self._reader, self._writer):
            try:
                await conn.close()
            except Exception as exc:  # noqa: BLE001 - closing must finish
                log.warning("closing SQLite connection to %s failed: %s", self.path, exc)

    # -- internals ----------------------------------------------------------------------------

    def _take_access(self) -> dict[str, float]:
        access, self._access = self._access, {}
        return access

    async def _flush_pending(self) -> None:
        if self._access:
            await self._write("flush access times", self._flush_buffered)

    async def _flush_buffered(self, conn: aiosqlite.Connection) -> None:
        access = self._take_access()
        if access:
            await flush_access(conn, access)
            self.counters.access_flushes += 1

    async def _evict(self, conn: aiosqlite.Connection, now: float) -> None:
        self.counters.evicted += await evict_over_bounds(
            conn, now=now, max_entries=self._max_entries, max_bytes=self._max_bytes, batch=self._cleanup_batch
        )

    async def _write(self, op: str, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        self._ensure_open()
        async with self._write_lock:
            with self._errors(op):
                return await self._retrying_transaction(work)

    async def _retrying_transaction(self, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        """Run ``work`` in BEGIN IMMEDIATE ... COMMIT, retrying while another process holds the lock."""
        for attempt in range(1, _BUSY_ATTEMPTS + 1):
            try:
                return await self._transaction(work)
            except sqlite3.OperationalError as exc:
                if not is_busy(exc) or attempt == _BUSY_ATTEMPTS:
                    raise
                self.counters.busy_retries += 1
                log.debug("SQLite cache %s busy (attempt %d): %s", self.path, attempt, exc)
                await asyncio.sleep(0.02 * attempt)
        raise AssertionError("unreachable")

    async def _transaction(self, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        conn = self._writer
        try:  # BEGIN inside: a caller cancelled while it runs still queues the ROLLBACK after it
            await conn.execute("BEGIN IMMEDIATE")
            result = await work(conn)
            await conn.execute("COMMIT")
        except BaseException:
            try:
                await conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # no transaction open (BEGIN failed) or the failure already ended it
            raise
        self.counters.write_transactions += 1
        return result

    def _ensure_open(self) -> None:
        if self._closed:
            raise BackendError(f"SQLite cache {self.path} is closed")

    @contextmanager
    def _errors(self, op: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise BackendError(f"SQLite cache {self.path}: {op} failed: {exc}") from exc
        except ValueError as exc:  # aiosqlite: "Connection closed"
            raise BackendError(f"SQLite cache {self.path}: {op} failed: {exc}") from exc


@lru_cache(maxsize=64)
def _select_sql(count: int) -> str:
    return f"SELECT key, data FROM entries WHERE key IN ({_marks(count)}) AND {LIVE}"


@lru_cache(maxsize=64)
def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
