"""Keeping the SQLite file within its bounds, least recently used first, without reads that write.

Reads do not write: :class:`AccessTimes` buffers read times in memory; they are written in one
batch (:func:`flush_access`) at the next write, when ``flush_size`` keys are buffered, before
maintenance that needs them, and at close. A row's read time moves only when it is more than
``ACCESS_RESOLUTION`` seconds old (a read returns the row's ``last_access``, and only a time
that would move it is buffered at all): updating ``last_access`` rewrites the whole row (value
included) and its index entry, so re-reading the same keys must not turn into a stream of page
writes (and WAL growth that every reader then consults); LRU order to the minute is enough. :class:`Bounds` evicts when the file holds more than
``max_entries`` rows or ``max_bytes`` (key + data): expired rows first, then the least recently
used, in batches, 1% below the bound so a full cache does not evict on every write.

The statement helpers run inside a write transaction the caller has opened with
``BEGIN IMMEDIATE``; none of them commits. Each awaited call is one hop to the connection's
thread, so work is batched into few statements.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import aiosqlite

from cache.backends.sqlite_file import SqliteFile

ACCESS_RESOLUTION = 60.0
"""Seconds: a read time that moves ``last_access`` by less than this is not written."""


async def flush_access(conn: aiosqlite.Connection, access: Mapping[str, float]) -> None:
    """Write buffered read times (key -> time) in one batch. Updates only ``last_access``, and
    only of rows whose recorded access is more than :data:`ACCESS_RESOLUTION` older."""
    if access:
        await conn.executemany(
            "UPDATE entries SET last_access = ? WHERE key = ? AND last_access < ?",
            [(at, key, at - ACCESS_RESOLUTION) for key, at in access.items()],
        )


async def totals(conn: aiosqlite.Connection) -> tuple[int, int]:
    """(entries, bytes) from the trigger-maintained stats row: no table scan."""
    rows = list(await conn.execute_fetchall("SELECT entries, bytes FROM stats WHERE id = 1"))
    entries, size = rows[0] if rows else (0, 0)
    return int(entries), int(size)


async def delete_expired(conn: aiosqlite.Connection, now: float, limit: int) -> int:
    """Delete at most ``limit`` rows whose expiry has passed; returns how many."""
    cursor = await conn.execute(
        "DELETE FROM entries WHERE key IN (SELECT key FROM entries WHERE expires_at <= ? LIMIT ?)",
        (now, limit),
    )
    return max(cursor.rowcount, 0)


@dataclass(frozen=True, slots=True)
class Bounds:
    """The file's size bounds; ``batch`` rows per eviction or cleanup statement at least."""

    max_entries: int
    max_bytes: int
    batch: int

    async def evict(self, conn: aiosqlite.Connection, now: float) -> int:
        """Bring the file back under the bounds (see the module doc); how many rows were removed."""
        entries, size = await totals(conn)
        if entries <= self.max_entries and size <= self.max_bytes:
            return 0
        removed = await delete_expired(conn, now, max(self.batch, entries - self.max_entries))
        entries, size = await totals(conn)
        need_rows = entries - (self.max_entries - self.max_entries // 100) if entries > self.max_entries else 0
        need_bytes = size - (self.max_bytes - self.max_bytes // 100) if size > self.max_bytes else 0
        while need_rows > 0 or need_bytes > 0:
            limit = max(need_rows, self.batch) if need_bytes > 0 else need_rows
            rows = list(
                await conn.execute_fetchall("SELECT key, size FROM entries ORDER BY last_access LIMIT ?", (limit,))
            )
            if not rows:
                break
            victims: list[tuple[str]] = []
            freed = 0
            for key, row_size in rows:
                if len(victims) >= need_rows and freed >= need_bytes:
                    break
                victims.append((key,))
                freed += row_size
            await conn.executemany("DELETE FROM entries WHERE key = ?", victims)
            removed += len(victims)
            need_rows -= len(victims)
            need_bytes -= freed
        return removed


class AccessTimes:
    """Read times of ``file``'s keys not yet written (key -> latest read, epoch seconds)."""

    def __init__(self, file: SqliteFile, flush_size: int) -> None:
        self._file = file
        self._flush_size = flush_size
        self._pending: dict[str, float] = {}

    def __bool__(self) -> bool:
        return bool(self._pending)

    def read(self, keys: Iterable[str], now: float) -> bool:
        """Remember that ``keys`` were read at ``now``; True when the buffer is due a flush."""
        pending = self._pending
        for key in keys:
            pending[key] = now
        return len(pending) >= self._flush_size

    def forget(self, keys: Iterable[str]) -> None:
        """Drop the buffered times of deleted keys."""
        for key in keys:
            self._pending.pop(key, None)

    def clear(self) -> None:
        self._pending.clear()

    def take(self) -> dict[str, float]:
        """The buffered times, leaving the buffer empty (the caller writes them)."""
        pending, self._pending = self._pending, {}
        return pending

    async def flush(self) -> None:
        """Write the buffered times now, in a write transaction of their own (none when empty)."""
        if self._pending:
            await self._file.write("flush access times", self._flush_taken)

    async def _flush_taken(self, conn: aiosqlite.Connection) -> None:
        access = self.take()  # taken inside the transaction: reads buffered while waiting go too
        if access:
            await flush_access(conn, access)
            self._file.counters.access_flushes += 1
