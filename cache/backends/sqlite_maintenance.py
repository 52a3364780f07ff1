"""Work the SQLite backend does beside plain reads and writes: LRU bookkeeping, eviction,
expiry cleanup, backup, restore, vacuum and the health report.

The statement helpers run inside a write transaction the caller has opened with
``BEGIN IMMEDIATE``; none of them commits. Each awaited call is one hop to the connection's
thread, so work is batched into few statements. :class:`SqliteMaintenance` is the public
maintenance half of :class:`cache.backends.sqlite.SqliteBackend`.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from cache.backends.base import BackendError
from cache.backends.sqlite_schema import LIVE, SCHEMA_VERSION, file_uri, inspect_cache_file

T = TypeVar("T")

RESTORE_ALIAS = "restore_src"


async def flush_access(conn: aiosqlite.Connection, access: Mapping[str, float]) -> None:
    """Write buffered read times (key -> time) in one batch. Updates only ``last_access``."""
    if access:
        await conn.executemany(
            "UPDATE entries SET last_access = ? WHERE key = ? AND last_access < ?",
            [(at, key, at) for key, at in access.items()],
        )


async def totals(conn: aiosqlite.Connection) -> tuple[int, int]:
    """(entries, bytes) from the trigger-maintained stats row: no table scan."""
    rows = await conn.execute_fetchall("SELECT entries, bytes FROM stats WHERE id = 1")
    entries, size = rows[0] if rows else (0, 0)
    return int(entries), int(size)


async def delete_expired(conn: aiosqlite.Connection, now: float, limit: int) -> int:
    """Delete at most ``limit`` rows whose expiry has passed; returns how many."""
    cursor = await conn.execute(
        "DELETE FROM entries WHERE key IN "
        "(SELECT key FROM entries WHERE expires_at <= ? LIMIT ?)",
        (now, limit),
    )
    return max(cursor.rowcount, 0)


async def evict_over_bounds(
    conn: aiosqlite.Connection, *, now: float, max_entries: int, max_bytes: int, batch: int
) -> int:
    """Bring the file back under its bounds; returns how many rows were removed.

    Expired rows go first, then the least recently used. Eviction goes 1% below the bound so
    a full cache does not evict on every write.
    """
    entries, size = await totals(conn)
    if entries <= max_entries and size <= max_bytes:
        return 0
    removed = await delete_expired(conn, now, max(batch, entries - max_entries))
    entries, size = await totals(conn)
    need_rows = entries - (max_entries - max_entries // 100) if entries > max_entries else 0
    need_bytes = size - (max_bytes - max_bytes // 100) if size > max_bytes else 0
    while need_rows > 0 or need_bytes > 0:
        limit = max(need_rows, batch) if need_bytes > 0 else need_rows
        rows = await conn.execute_fetchall(
            "SELECT key, size FROM entries ORDER BY last_access LIMIT ?", (limit,)
        )
        if not rows:
            break
        victims, freed = [], 0
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


async def backup_to(source: aiosqlite.Connection, dest: Path) -> None:
    """Online backup of the whole file to ``dest`` (written beside it, then renamed in)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    # Used on the source connection's thread, hence check_same_thread=False.
    target = sqlite3.connect(partial, check_same_thread=False)
    try:
        await source.backup(target)
    finally:
        target.close()
    os.replace(partial, dest)


async def validate_restore_source(src: Path) -> str | None:
    """Why ``src`` cannot be restored from, or None. Runs the blocking check in a thread."""
    return await asyncio.to_thread(inspect_cache_file, src)


async def copy_attached(conn: aiosqlite.Connection, now: float) -> int:
    """Upsert the live rows of the attached restore source (and their tags); returns how many.
    A schema 1 source has no ``created_at``: its rows count as created at their last access."""
    live = "expires_at IS NULL OR expires_at > ?"
    columns = {row[1] for row in await conn.execute_fetchall(f"PRAGMA {RESTORE_ALIAS}.table_info(entries)")}
    created = "created_at" if "created_at" in columns else "last_access"
    cursor = await conn.execute(
        "INSERT INTO entries (key, data, expires_at, size, last_access, created_at) "
        f"SELECT key, data, expires_at, size, last_access, {created} FROM {RESTORE_ALIAS}.entries WHERE {live} "
        "ON CONFLICT(key) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, "
        "size = excluded.size, last_access = excluded.last_access, created_at = excluded.created_at",
        (now,),
    )
    copied = max(cursor.rowcount, 0)
    await conn.execute(
        "INSERT OR IGNORE INTO tags (tag, key) SELECT t.tag, t.key "
        f"FROM {RESTORE_ALIAS}.tags AS t JOIN {RESTORE_ALIAS}.entries AS e ON e.key = t.key "
        "WHERE e.expires_at IS NULL OR e.expires_at > ?",
        (now,),
    )
    return copied


async def health_report(conn: aiosqlite.Connection, path: Path, now: float) -> dict[str, Any]:
    """quick_check verdict, row counts, sizes and the file's location."""
    verdict = "; ".join(str(r[0]) for r in await conn.execute_fetchall("PRAGMA quick_check"))
    entries, data_bytes = await totals(conn)
    (expired,), = await conn.execute_fetchall(
        "SELECT count(*) FROM entries WHERE expires_at <= ?", (now,)
    )
    (tags,), = await conn.execute_fetchall("SELECT count(*) FROM tags")
    (pages,), = await conn.execute_fetchall("PRAGMA page_count")
    (page_size,), = await conn.execute_fetchall("PRAGMA page_size")
    (free_pages,), = await conn.execute_fetchall("PRAGMA freelist_count")
    wal = Path(f"{path}-wal")
    return {
        "path": str(path),
        "ok": verdict == "ok",
        "quick_check": verdict,
        "schema_version": SCHEMA_VERSION,
        "entries": entries,
        "expired": int(expired),
        "tag_links": int(tags),
        "data_bytes": data_bytes,
        "file_bytes": int(pages) * int(page_size),
        "free_bytes": int(free_pages) * int(page_size),
        "wal_bytes": wal.stat().st_size if wal.exists() else 0,
    }


@dataclass(slots=True)
class SqliteCounters:
    """What the backend has done since it was opened (for statistics and tests)."""

    write_transactions: int = 0
    access_flushes: int = 0
    evicted: int = 0
    expired_removed: int = 0
    busy_retries: int = 0


class SqliteMaintenance:
    """Maintenance operations; the transaction machinery comes from ``SqliteBackend``."""

    path: Path
    counters: SqliteCounters
    _reader: aiosqlite.Connection
    _writer: aiosqlite.Connection
    _write_lock: asyncio.Lock
    _clock: Callable[[], float]
    _cleanup_batch: int

    async def count(self) -> int:
        """How many live (unexpired) entries the file holds."""
        self._ensure_open()
        with self._errors("count"):
            ((n,),) = await self._reader.execute_fetchall(
                f"SELECT count(*) FROM entries WHERE {LIVE}", (self._clock(),)
            )
        return int(n)

    async def created_before(self, cutoff: float, pattern: str = "*") -> list[str]:
        """Keys matching the glob ``pattern`` whose entry was created before ``cutoff`` (expired
        rows included). Rows carried over from schema 1 count as created at their last access."""
        self._ensure_open()
        with self._errors("created_before"):
            rows = await self._reader.execute_fetchall(
                "SELECT key FROM entries WHERE created_at < ? AND key GLOB ?", (cutoff, pattern)
            )
        return [row[0] for row in rows]

    async def unused_since(self, cutoff: float, pattern: str = "*") -> list[str]:
        """Keys matching ``pattern`` neither read nor written since ``cutoff``. Read times this
        process buffered are written first; other processes' buffered reads count once they
        flush them (at their next write, 1000 buffered keys, or close)."""
        await self._flush_pending()
        self._ensure_open()
        with self._errors("unused_since"):
            rows = await self._reader.execute_fetchall(
                "SELECT key FROM entries WHERE last_access < ? AND key GLOB ?", (cutoff, pattern)
            )
        return [row[0] for row in rows]

    async def cleanup_expired(self) -> int:
        """Delete expired rows, at most ``cleanup_batch`` per transaction; returns how many."""
        total = 0
        while True:
            removed = await self._write("cleanup_expired", self._expired_batch_remover(self._clock()))
            total += removed
            self.counters.expired_removed += removed
            if removed < self._cleanup_batch:
                return total

    async def backup(self, dest_path: Path | str) -> None:
        """Online backup of the file to ``dest_path`` (readers and writers keep going)."""
        await self._flush_pending()
        with self._errors("backup"):
            await backup_to(self._reader, Path(dest_path))

    async def restore(self, src_path: Path | str) -> int:
        """Copy the live entries of a backup into this file in one transaction.

        The source must be one of our cache files (schema version row checked first); anything
        else is refused with :class:`BackendError` and the live data is untouched. Entries in
        the source replace entries with the same key. Returns how many entries were restored.
        """
        src = Path(src_path)
        problem = await validate_restore_source(src)
        if problem is not None:
            raise BackendError(f"refusing to restore from {src}: {problem}")
        now = self._clock()

        async def work(conn: aiosqlite.Connection) -> int:
            copied = await copy_attached(conn, now)
            await self._evict(conn, now)
            return copied

        self._ensure_open()
        async with self._write_lock:
            with self._errors("restore"):
                await self._writer.execute(f"ATTACH DATABASE ? AS {RESTORE_ALIAS}", (file_uri(src, read_only=True),))
                try:
                    return await self._retrying_transaction(work)
                finally:
                    await self._writer.execute(f"DETACH DATABASE {RESTORE_ALIAS}")

    async def vacuum(self) -> None:
        """Rebuild the file to return free pages to the disk, then truncate the WAL."""
        await self._flush_pending()
        self._ensure_open()
        async with self._write_lock:
            with self._errors("vacuum"):
                await self._writer.execute("VACUUM")
                await self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def check(self) -> dict[str, Any]:
        """Health report: quick_check verdict (``ok``), entry/expired/tag counts, sizes, path."""
        self._ensure_open()
        with self._errors("check"):
            return await health_report(self._reader, self.path, self._clock())

    def _expired_batch_remover(self, now: float) -> Callable[[aiosqlite.Connection], Awaitable[int]]:
        async def work(conn: aiosqlite.Connection) -> int:
            return await delete_expired(conn, now, self._cleanup_batch)

        return work

    # Provided by SqliteBackend.
    def _ensure_open(self) -> None:
        raise NotImplementedError

    def _errors(self, op: str) -> AbstractContextManager[None]:
        raise NotImplementedError

    async def _flush_pending(self) -> None:
        raise NotImplementedError

    async def _evict(self, conn: aiosqlite.Connection, now: float) -> None:
        raise NotImplementedError

    async def _write(self, op: str, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        raise NotImplementedError

    async def _retrying_transaction(self, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        raise NotImplementedError
