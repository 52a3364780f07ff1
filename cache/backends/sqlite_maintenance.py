"""Work the SQLite backend does beside plain reads and writes: counts, age and use queries,
expiry cleanup, backup, restore, vacuum and the health report.

:class:`SqliteMaintenance` does it for :class:`cache.backends.sqlite.SqliteBackend` on the
shared :class:`~cache.backends.sqlite_file.SqliteFile`; operations that need the latest read
times flush the :class:`~cache.backends.sqlite_lru.AccessTimes` buffer first. Restore copies
from an attached backup file inside one write transaction; backup is SQLite's online backup
(what may be written where, and what may be restored: :mod:`cache.backends.sqlite_backup`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite

from cache.backends.base import BackendError
from cache.backends.glob import sqlite_glob
from cache.backends.sqlite_backup import RESTORE_ALIAS, BackupRefused, backup_to, copy_attached, restore_problem
from cache.backends.sqlite_errors import one_line
from cache.backends.sqlite_file import SqliteFile
from cache.backends.sqlite_lru import AccessTimes, Bounds, delete_expired, totals
from cache.backends.sqlite_schema import LIVE, SCHEMA_VERSION, file_uri


async def health_report(conn: aiosqlite.Connection, path: Path, now: float) -> dict[str, Any]:
    """The full ``integrity_check`` verdict (index contents too, which ``quick_check`` skips),
    whether the size bookkeeping adds up, row counts, sizes and the file's location. ``ok``
    only when both hold. Reads every page: an operator's command, not a health probe."""
    rows = await conn.execute_fetchall("PRAGMA integrity_check(20)")
    verdict = one_line("; ".join(str(r[0]) for r in rows))
    entries, data_bytes = await totals(conn)
    ((counted, summed, negative),) = await conn.execute_fetchall(
        "SELECT count(*), coalesce(sum(size), 0), count(*) FILTER (WHERE size < 0) FROM entries"
    )
    bookkeeping = "ok"
    if negative or entries < 0 or data_bytes < 0 or (entries, data_bytes) != (int(counted), int(summed)):
        bookkeeping = (
            f"stats row says {entries} entries / {data_bytes} bytes, rows say {counted} / {summed}"
            f" ({negative} with a negative size)"
        )
    ((expired,),) = await conn.execute_fetchall("SELECT count(*) FROM entries WHERE expires_at <= ?", (now,))
    ((tags,),) = await conn.execute_fetchall("SELECT count(*) FROM tags")
    ((pages,),) = await conn.execute_fetchall("PRAGMA page_count")
    ((page_size,),) = await conn.execute_fetchall("PRAGMA page_size")
    ((free_pages,),) = await conn.execute_fetchall("PRAGMA freelist_count")
    wal = Path(f"{path}-wal")
    return {
        "path": str(path),
        "ok": verdict == "ok" and bookkeeping == "ok",
        "integrity_check": verdict[:2000],
        "size_bookkeeping": bookkeeping,
        "schema_version": SCHEMA_VERSION,
        "entries": entries,
        "expired": int(expired),
        "tag_links": int(tags),
        "data_bytes": data_bytes,
        "file_bytes": int(pages) * int(page_size),
        "free_bytes": int(free_pages) * int(page_size),
        "wal_bytes": wal.stat().st_size if wal.exists() else 0,
    }


class SqliteMaintenance:
    """Maintenance of ``file`` under ``bounds``; ``access`` holds the reads not yet written."""

    def __init__(self, file: SqliteFile, access: AccessTimes, bounds: Bounds, clock: Callable[[], float]) -> None:
        self._file = file
        self._access = access
        self._bounds = bounds
        self._clock = clock

    async def count(self) -> int:
        """How many live (unexpired) entries the file holds."""
        ((n,),) = await self._file.read("count", f"SELECT count(*) FROM entries WHERE {LIVE}", (self._clock(),))
        return int(n)

    async def created_before(self, cutoff: float, pattern: str = "*") -> list[str]:
        """Keys matching the glob ``pattern`` whose entry was created before ``cutoff`` (expired
        rows included). Rows carried over from schema 1 count as created at their last access."""
        return await self._keys("created_before", "created_at < ?", cutoff, pattern)

    async def unused_since(self, cutoff: float, pattern: str = "*") -> list[str]:
        """Keys matching ``pattern`` neither read nor written since ``cutoff``. Read times this
        process buffered are written first; other processes' buffered reads count once they
        flush them (at their next write, 1000 buffered keys, or close)."""
        await self._access.flush()
        return await self._keys("unused_since", "last_access < ?", cutoff, pattern)

    async def cleanup_expired(self) -> int:
        """Delete expired rows, at most ``cleanup_batch`` per transaction; returns how many."""
        total = 0
        while True:
            removed = await self._file.write("cleanup_expired", self._expired_batch_remover(self._clock()))
            total += removed
            self._file.counters.expired_removed += removed
            if removed < self._bounds.batch:
                return total

    async def backup(self, dest_path: Path | str) -> None:
        """Online backup of the file to the new file ``dest_path`` (readers and writers keep
        going). BackupRefused for an unusable target (exists, no such folder, name too long);
        BackendError when writing fails. Never creates folders or replaces files."""
        await self._access.flush()
        self._file.ensure_open()
        dest = Path(dest_path)
        with self._file.errors("backup"):
            try:
                await backup_to(self._file.reader, dest)
            except OSError as exc:
                raise BackendError(f"SQLite cache {self._file.path}: backup to {dest} failed: {exc}") from exc

    async def restore(self, src_path: Path | str) -> int:
        """Copy the live entries of a backup into this file in one transaction.

        The source must be a sound cache file of ours (see
        :func:`~cache.backends.sqlite_backup.restore_problem`); anything else is refused with
        :class:`~cache.backends.sqlite_backup.BackupRefused` (the reason as its message) and the
        live data is untouched. Entries in the source replace entries with the same key. Returns
        how many entries were restored.
        """
        src = Path(src_path)
        problem = await asyncio.to_thread(restore_problem, src)
        if problem is not None:
            raise BackupRefused(problem)
        now = self._clock()

        async def work(conn: aiosqlite.Connection) -> int:
            copied = await copy_attached(conn, now)
            self._file.counters.evicted += await self._bounds.evict(conn, now)
            return copied

        async with self._file.writing("restore") as writer:
            await writer.execute(f"ATTACH DATABASE ? AS {RESTORE_ALIAS}", (file_uri(src, read_only=True),))
            try:
                return await self._file.transaction(work)
            finally:
                await writer.execute(f"DETACH DATABASE {RESTORE_ALIAS}")

    async def vacuum(self) -> None:
        """Rebuild the file to return free pages to the disk, then truncate the WAL."""
        await self._access.flush()
        async with self._file.writing("vacuum") as writer:
            await writer.execute("VACUUM")
            await writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def check(self) -> dict[str, Any]:
        """Health report: integrity_check verdict and size bookkeeping (``ok``), entry/expired/tag
        counts, sizes, path."""
        self._file.ensure_open()
        with self._file.errors("check"):
            return await health_report(self._file.reader, self._file.path, self._clock())

    async def _keys(self, op: str, condition: str, cutoff: float, pattern: str) -> list[str]:
        """Keys of rows meeting ``condition`` (one ``?`` for ``cutoff``) and the glob ``pattern``."""
        rows = await self._file.read(
            op, f"SELECT key FROM entries WHERE {condition} AND key GLOB ?", (cutoff, sqlite_glob(pattern))
        )
        return [row[0] for row in rows]

    def _expired_batch_remover(self, now: float) -> Callable[[aiosqlite.Connection], Awaitable[int]]:
        async def work(conn: aiosqlite.Connection) -> int:
            return await delete_expired(conn, now, self._bounds.batch)

        return work
