"""The :class:`~cache.backends.sqlite.SqliteBackend` methods that hand work to its helpers: the
``meta`` rows (:class:`~cache.backends.sqlite_meta.SqliteMeta`, the MetaStore capability) and
maintenance (:class:`~cache.backends.sqlite_maintenance.SqliteMaintenance`). Operations that
read the file as a whole (counts, scans by time, backup, restore, the health report) let the
write queue drain first, so they see every acknowledged write.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from cache.backends.base import BackendError
from cache.backends.sqlite_maintenance import SqliteMaintenance
from cache.backends.sqlite_meta import SqliteMeta
from cache.backends.sqlite_queue import WriteQueue


class SqliteDelegation:
    """Mixed into SqliteBackend, which sets the three helpers."""

    _meta: SqliteMeta
    _maintenance: SqliteMaintenance
    _queue: WriteQueue

    async def _settled(self) -> None:
        """Let the queue drain before an operation that reads the file as a whole (a batch that
        failed meanwhile was reported to the writers; it does not stop this operation)."""
        if self._queue:
            with suppress(BackendError):
                await self._queue.flush()

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
        await self._settled()
        return await self._maintenance.count()

    async def created_before(self, cutoff: float, pattern: str = "*") -> list[str]:
        """Keys matching ``pattern`` whose entry was created before ``cutoff`` (expired included)."""
        await self._settled()
        return await self._maintenance.created_before(cutoff, pattern)

    async def unused_since(self, cutoff: float, pattern: str = "*") -> list[str]:
        """Keys matching ``pattern`` neither read nor written since ``cutoff``."""
        await self._settled()
        return await self._maintenance.unused_since(cutoff, pattern)

    async def cleanup_expired(self) -> int:
        """Delete expired rows, at most ``cleanup_batch`` per transaction; returns how many."""
        return await self._maintenance.cleanup_expired()

    async def backup(self, dest_path: Path | str) -> None:
        """Online backup of the file to ``dest_path`` (readers and writers keep going)."""
        await self._settled()
        await self._maintenance.backup(dest_path)

    async def restore(self, src_path: Path | str) -> int:
        """Copy the live entries of one of our backup files in; BackendError for any other file."""
        await self._settled()
        return await self._maintenance.restore(src_path)

    async def vacuum(self) -> None:
        """Rebuild the file to return free pages to the disk, then truncate the WAL."""
        await self._maintenance.vacuum()

    async def check(self) -> dict[str, Any]:
        """Health report: full integrity_check verdict and size bookkeeping (``ok``), entry,
        expired and tag counts, sizes, path."""
        await self._settled()
        return await self._maintenance.check()
