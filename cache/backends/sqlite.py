"""The SQLite tier: one local file, shared safely by every process on the machine.

Contract (on top of :class:`cache.backends.base.Backend`):

- WAL journal, ``synchronous=NORMAL``, ``busy_timeout``; one writer connection and a read-only
  reader (:mod:`cache.backends.sqlite_file`: how writes are serialised and retried).
- Writes are queued: :meth:`SqliteBackend.set_many` returns once its records are queued and one
  writer task commits them in batches (:mod:`cache.backends.sqlite_queue`: bound, drops,
  ordering with deletes, what a kill -9 can lose). Reads, scans and deletes see queued writes;
  :meth:`SqliteBackend.flush` waits for them to be committed, :meth:`SqliteBackend.aclose`
  commits them; counts, scans by time, backup, restore and the health report flush first.
- Reads return only rows whose ``expires_at`` is after ``clock()``; expired rows stay in the
  file until :meth:`cleanup_expired` or eviction removes them.
- Size bound: ``max_entries`` rows and ``max_bytes`` (key + data). Over either bound the least
  recently used rows are evicted in batches. Reads do not write: read times are buffered in
  memory and written by the next batch (:mod:`cache.backends.sqlite_lru`).
- Every failure surfaces as :class:`BackendError` with the file name in the message.
- Capabilities (:mod:`cache.backends.capabilities`): creation and use indexes, a count, its
  path as ``where``, the ``meta`` rows (:class:`~cache.backends.sqlite_meta.SqliteMeta`) and
  its write queue; maintenance is :class:`~cache.backends.sqlite_maintenance.SqliteMaintenance`'s.

aiosqlite runs each connection on its own thread and every awaited call is a thread hop, so
reads are one statement (``WHERE key IN (...)``) and writes one transaction of executemany; a
read of at most :data:`~cache.backends.sqlite_inline.MAX_KEYS` keys runs in the caller's thread
without a hop while the file answers at once (:mod:`cache.backends.sqlite_inline`).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from cache.backends.base import BackendError
from cache.backends.glob import glob_regex, sqlite_glob
from cache.backends.sqlite_delegation import SqliteDelegation
from cache.backends.sqlite_file import SqliteCounters, SqliteFile
from cache.backends.sqlite_inline import MAX_KEYS as INLINE_KEYS
from cache.backends.sqlite_inline import InlineCounters
from cache.backends.sqlite_lru import ACCESS_RESOLUTION, AccessTimes, Bounds
from cache.backends.sqlite_maintenance import SqliteMaintenance
from cache.backends.sqlite_meta import SqliteMeta
from cache.backends.sqlite_queue import WriteQueue, apply_overlay
from cache.backends.sqlite_schema import LIVE, SetAside
from cache.backends.sqlite_sql import CHUNK, chunks, marks, select_sql, store_batch
from cache.config import DEFAULT_SQLITE
from cache.entry import Record

log = logging.getLogger(__name__)


class SqliteBackend(SqliteDelegation):
    """Cache tier on one SQLite file. Build with ``await SqliteBackend.open(path)``."""

    name = "sqlite"

    def __init__(
        self,
        file: SqliteFile,
        bounds: Bounds,
        clock: Callable[[], float],
        access_flush_size: int,
        queue: tuple[int, int] = (DEFAULT_SQLITE.write_queue_max, DEFAULT_SQLITE.write_batch_max),
    ) -> None:
        """Use :meth:`open`; this takes a file already opened by it (``queue``: the write
        queue's bound and batch size)."""
        self._file = file
        self._clock = clock
        self._bounds = bounds
        self._access = AccessTimes(file, access_flush_size)
        self._queue = WriteQueue(file, self._store, max_pending=queue[0], batch_max=queue[1])
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
        write_queue_max: int = DEFAULT_SQLITE.write_queue_max,
        write_batch_max: int = DEFAULT_SQLITE.write_batch_max,
    ) -> SqliteBackend:
        """Open (or create) the cache file at ``path``, checking its integrity first.

        A corrupt, non-SQLite or foreign file is moved aside to ``<name>.corrupt-<timestamp>``
        (logged as a warning) and a fresh file is created. Raises :class:`BackendError` when
        no usable file can be opened.
        """
        sizes = (max_entries, max_bytes, cleanup_batch, access_flush_size, write_queue_max, write_batch_max)
        if min(sizes) < 1:
            raise ValueError("bounds, batch sizes and the write queue's bound must be positive")
        file = await SqliteFile.open(Path(path), busy_timeout_ms, clock)
        bounds = Bounds(max_entries, max_bytes, cleanup_batch)
        return cls(file, bounds, clock, access_flush_size, (write_queue_max, write_batch_max))

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

    @property
    def inline_reads(self) -> InlineCounters:
        """How small reads went since the file was (re)opened: answered in the caller's thread,
        or sent to the reader's thread (:mod:`cache.backends.sqlite_inline`)."""
        return self._file.inline.counters

    @property
    def queued_writes(self) -> int:
        """Writes queued and not yet committed."""
        return len(self._queue)

    @property
    def dropped_writes(self) -> int:
        """Writes dropped because the write queue was full, since the backend was opened."""
        return self._file.counters.writes_dropped

    async def flush(self) -> None:
        """Wait until every write queued before the call is committed; BackendError when some
        of them could not be stored."""
        await self._queue.flush()

    # -- Backend protocol -------------------------------------------------------------------

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        """Live values of ``keys`` (absent and expired keys left out); one SELECT per 500 keys."""
        if not keys:
            return {}
        file = self._file
        if file.closed:
            raise BackendError(f"SQLite cache {file.path} is closed")
        now, fetch, count = self._clock(), file.reader.execute_fetchall, len(keys)
        queued = self._queue
        overlay = queued.overlay(keys) if queued else None
        # The hot path: one statement, no generator or context manager around it, read in this
        # thread when it is small and the file answers at once (cache.backends.sqlite_inline).
        # Without a row factory rows are (key, data, last_access) tuples.
        rows: list[Any]
        try:
            if count <= INLINE_KEYS and (inline := file.inline.fetch(select_sql(count), (*keys, now))) is not None:
                rows = inline
            elif count <= CHUNK:
                rows = list(await fetch(select_sql(count), (*keys, now)))
            else:
                rows = []
                for chunk in chunks(keys):
                    rows.extend(await fetch(select_sql(len(chunk)), (*chunk, now)))
        except (sqlite3.Error, ValueError) as exc:
            raise BackendError(f"SQLite cache {file.path}: get_many failed: {exc}") from exc
        found: dict[str, bytes] = {key: data for key, data, _ in rows}
        # Read times are buffered only where they would move last_access (sqlite_lru): a row
        # read again within ACCESS_RESOLUTION costs the writer nothing. Queued writes are newer
        # than the file, so theirs always are.
        due = now - ACCESS_RESOLUTION
        read = [key for key, _, at in rows if at is None or at < due]
        if overlay:
            apply_overlay(found, overlay, now)
            read.extend(key for key in overlay if key in found)
        if read and self._access.read(read, now):
            queued.kick()  # the writer writes them: a read never waits for the write lock
        return found

    async def set_many(self, records: Sequence[Record]) -> None:
        """Queue every record (replacing value, expiry and tags) and return; the writer commits
        them in batches (see the module doc). A record whose ``expires_at`` has already passed
        deletes the key instead; an infinite ``expires_at`` never expires; an unknown
        ``created_at`` (0) is stored as now. BackendError when the file is closed or the
        previous batch failed."""
        if records:
            self._queue.put(records, self._clock())

    async def _store(self, conn: aiosqlite.Connection, items: list[tuple[Record, float]]) -> None:
        """One batch of the write queue, inside its transaction (with the buffered read times)."""
        access, counters = self._access.take(), self._file.counters
        counters.access_flushes += bool(access)
        counters.evicted += await store_batch(conn, items, self._clock(), access, self._bounds)

    async def delete_many(self, keys: Sequence[str]) -> int:
        """Delete the keys and their tag links, queued writes of them included; returns how many
        of the keys existed (rows, or live queued writes)."""
        unique = list(dict.fromkeys(keys))
        if not unique:
            return 0
        self._access.forget(unique)
        queued = self._queue.purge(unique, self._clock())  # a batch already taken commits first (FIFO lock)

        async def work(conn: aiosqlite.Connection) -> int:
            deleted = set(queued)
            for chunk in chunks(unique):
                sql = f"DELETE FROM entries WHERE key IN ({marks(len(chunk))}) RETURNING key"
                deleted.update(row[0] for row in await conn.execute_fetchall(sql, chunk))
            return len(deleted)

        return await self._file.write("delete_many", work)

    async def match(self, pattern: str) -> list[str]:
        """Live keys matching the glob (:mod:`cache.backends.glob`, rewritten for SQLite GLOB),
        queued ones included."""
        now, matches = self._clock(), glob_regex(pattern).fullmatch
        queued, wanted = self._queue.scan(lambda r: matches(r.key) is not None, now)
        rows = await self._file.read(
            "match", f"SELECT key FROM entries WHERE key GLOB ? AND {LIVE}", (sqlite_glob(pattern), now)
        )
        return [*(row[0] for row in rows if row[0] not in queued), *wanted]

    async def tagged(self, tags: Sequence[str]) -> list[str]:
        """Live keys carrying any of ``tags`` (a queued write's tags replace the row's)."""
        unique = list(dict.fromkeys(tags))
        if not unique:
            return []
        asked = set(unique)
        queued, wanted = self._queue.scan(lambda r: not asked.isdisjoint(r.tags), self._clock())
        keys = dict.fromkeys(wanted)
        for chunk in chunks(unique):
            rows = await self._file.read(
                "tagged",
                "SELECT DISTINCT t.key FROM tags AS t JOIN entries AS e ON e.key = t.key "
                f"WHERE t.tag IN ({marks(len(chunk))}) AND (e.expires_at IS NULL OR e.expires_at > ?)",
                (*chunk, self._clock()),
            )
            keys.update(dict.fromkeys(row[0] for row in rows if row[0] not in queued))
        return list(keys)

    async def clear(self) -> int:
        """Remove every entry and tag link from the file; returns how many entries (rows, expired
        ones included) it removed, live queued writes of keys not in the file counted too."""
        self._access.clear()
        queued = self._queue.purge_all(self._clock())

        async def work(conn: aiosqlite.Connection) -> int:
            unstored = len(queued)
            for chunk in chunks(queued):  # queued keys the file also holds are counted once
                sql = f"SELECT count(*) FROM entries WHERE key IN ({marks(len(chunk))})"
                unstored -= int(list(await conn.execute_fetchall(sql, chunk))[0][0])
            await conn.execute("DELETE FROM tags")
            cursor = await conn.execute("DELETE FROM entries")
            return max(cursor.rowcount, 0) + unstored

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
        """Commit the queued writes and buffered read times, then close both connections.
        Idempotent."""
        if self._file.closed:
            return
        await self._queue.aclose()
        if self._access:
            try:
                await self._access.flush()
            except BackendError as exc:
                log.warning("dropping buffered access times on close: %s", exc)
        await self._file.aclose()
