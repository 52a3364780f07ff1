"""One open SQLite cache file: its two connections and the discipline every write follows.

:class:`SqliteFile` is shared by the parts of :class:`cache.backends.sqlite.SqliteBackend`
(the backend itself, its meta rows, its maintenance). Contracts:

- ONE writer connection: writes are serialised in-process by a lock and across processes by
  ``BEGIN IMMEDIATE`` + busy_timeout, with a short retry (:data:`BUSY_ATTEMPTS`) when the lock
  is still busy; a separate read-only reader connection (WAL readers never wait for writers),
  and for small reads a third one used in the loop's own thread
  (:mod:`cache.backends.sqlite_inline`);
- :meth:`SqliteFile.write` runs a unit of work in one transaction, rolled back on any failure
  (cancellation included);
- every failure surfaces as :class:`~cache.backends.base.BackendError` with the file name and
  the operation in the message (:meth:`SqliteFile.errors`); using a closed file raises it too;
  :meth:`SqliteFile.read` is a query on the reader connection under those rules;
- the file at the path stays the one open: a write looks at the path's ``(st_dev, st_ino)`` at
  most once per :data:`CHECK_EVERY` seconds of the clock (and after every failed write). When
  the file was deleted or replaced (writes would go on into an unlinked inode and be lost), ONE
  warning is logged, both connections are closed and a file is opened at the path again (a
  fresh one with its schema, or the replacement when it is a healthy cache file; a bad one is
  set aside as at start-up). Until then :meth:`SqliteFile.moved` says why, and the backend's
  ``ping`` answers False. Writes made between the swap and its detection are lost with the old
  inode.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import aiosqlite

from cache.backends.base import BackendError
from cache.backends.sqlite_errors import is_busy
from cache.backends.sqlite_inline import InlineReads
from cache.backends.sqlite_schema import SetAside, connect, open_writer

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[aiosqlite.Connection], Awaitable[T]]
"""A unit of work run on the writer connection inside one transaction."""
BUSY_ATTEMPTS = 4
CHECK_EVERY = 1.0
"""Seconds (of the backend's clock) between two looks at the path on writes."""


@dataclass(slots=True)
class SqliteCounters:
    """What the backend has done since it was opened (for statistics and tests)."""

    write_transactions: int = 0
    write_batches: int = 0  # transactions of the write queue (cache.backends.sqlite_queue)
    writes_dropped: int = 0  # writes refused because the write queue was full
    writes_failed: int = 0  # queued writes lost with a batch that failed
    access_flushes: int = 0
    evicted: int = 0
    expired_removed: int = 0
    busy_retries: int = 0
    reopened: int = 0


class SqliteFile:
    """The connections to the cache file at ``path``. Build with :meth:`open`."""

    def __init__(
        self,
        path: Path,
        writer: aiosqlite.Connection,
        reader: aiosqlite.Connection,
        inline: InlineReads,
        *,
        busy_timeout_ms: int,
        clock: Callable[[], float],
        set_aside: SetAside | None = None,
    ) -> None:
        self.path = path
        self.set_aside = set_aside
        """The bad file found at the path and moved away when this file was (last) opened, if any."""
        self.reader = reader
        self.inline = inline
        self.counters = SqliteCounters()
        self._writer = writer
        self._lock = asyncio.Lock()
        self.closed = False
        self._busy_timeout_ms = busy_timeout_ms
        self._clock = clock
        self._identity = _identity(path)
        self._sidecars = _sidecar_identities(path)
        self._looked_at = clock()
        self._lost: str | None = None  # why the open file is no longer the path's, until reopened

    @classmethod
    async def open(cls, path: Path, busy_timeout_ms: int, clock: Callable[[], float]) -> SqliteFile:
        """Open the writer (checking the file, setting a bad one aside) and the reader.
        BackendError when no usable file can be opened."""
        writer, reader, inline, set_aside = await _connections(path, busy_timeout_ms, clock)
        return cls(path, writer, reader, inline, busy_timeout_ms=busy_timeout_ms, clock=clock, set_aside=set_aside)

    def moved(self) -> str | None:
        """Why the open file is not the file at the path any more ("deleted", "replaced by
        another file"), or None. One ``stat``; never raises."""
        if self._lost is not None:
            return self._lost
        try:
            identity = _identity(self.path)
        except FileNotFoundError:
            return "deleted"
        except OSError:
            return None  # cannot tell (e.g. no permission to look): keep using the open file
        return None if identity == self._identity else "replaced by another file"

    async def _follow_path(self, *, force: bool) -> bool:
        """Reopen at the path when the open file was deleted or replaced (looked at no more than
        once per CHECK_EVERY unless ``force``); True when it reopened. Only inside the lock."""
        now = self._clock()
        if not force and self._lost is None and 0 <= now - self._looked_at < CHECK_EVERY:
            return False
        self._looked_at = now
        problem = self.moved()
        if problem is None:
            return False
        if self._lost is None:
            self._lost = problem
            log.warning(
                "SQLite cache %s was %s while in use; writes since then went to the old file and are lost; "
                "reopening the cache at that path",
                self.path,
                problem,
            )
        await self._let_go()
        self._writer, self.reader, self.inline, self.set_aside = await _connections(
            self.path, self._busy_timeout_ms, self._clock
        )
        self._identity = _identity(self.path)
        self._sidecars = _sidecar_identities(self.path)
        self._lost = None
        self.counters.reopened += 1
        log.info("SQLite cache %s reopened", self.path)
        return True

    def ensure_open(self) -> None:
        """BackendError once the file is closed."""
        if self.closed:
            raise BackendError(f"SQLite cache {self.path} is closed")

    async def _let_go(self) -> None:
        """Close the connections to the old file, leaving nothing of it at the path.

        SQLite does not checkpoint a moved file on close, so its ``-wal`` (and ``-shm``) would
        stay under the path's name and be replayed into whatever file is opened there next. So:
        checkpoint into the old inode while the connection can (a file renamed away keeps its
        data), close, then remove the old ``-wal``/``-shm`` if they are still the ones we had open
        (another process may already have reopened the path and made its own)."""
        try:
            await self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except Exception as exc:  # noqa: BLE001 - best effort: the old file is gone either way
            log.debug("checkpointing the old %s failed: %s", self.path, exc)
        self.inline.close()
        for conn in (self.reader, self._writer):
            try:
                await conn.close()
            except Exception as exc:  # noqa: BLE001 - same
                log.debug("closing the connection to the old %s failed: %s", self.path, exc)
        for suffix, identity in self._sidecars.items():
            sidecar = Path(f"{self.path}{suffix}")
            try:
                if _identity(sidecar) == identity:
                    sidecar.unlink()
            except OSError:
                pass  # already gone, or not ours to remove

    @contextmanager
    def errors(self, op: str) -> Iterator[None]:
        """Map sqlite3 errors (and aiosqlite's "Connection closed") raised inside to BackendError."""
        try:
            yield
        except sqlite3.Error as exc:
            raise BackendError(f"SQLite cache {self.path}: {op} failed: {exc}") from exc
        except ValueError as exc:  # aiosqlite: "Connection closed"
            raise BackendError(f"SQLite cache {self.path}: {op} failed: {exc}") from exc

    async def read(self, op: str, sql: str, parameters: Sequence[object] = ()) -> list[sqlite3.Row]:
        """The rows of one query on the reader connection (plain tuples: no row factory is set)."""
        self.ensure_open()
        with self.errors(op):
            return list(await self.reader.execute_fetchall(sql, parameters))

    @asynccontextmanager
    async def writing(self, op: str) -> AsyncIterator[aiosqlite.Connection]:
        """Hold the writer connection (in-process lock) with errors mapped, outside any
        transaction: for statements that manage their own (ATTACH, VACUUM). The path is looked
        at first (see the module doc)."""
        self.ensure_open()
        async with self._lock:
            with self.errors(op):
                await self._follow_path(force=False)
                yield self._writer

    async def write(self, op: str, work: Work[T]) -> T:
        """Run ``work`` in one write transaction (see the module doc); its result. A failed
        write looks at the path: when the file was swapped it runs once more on the reopened one."""
        async with self.writing(op):
            try:
                return await self.transaction(work)
            except (sqlite3.Error, ValueError):
                if not await self._follow_path(force=True):
                    raise
            return await self.transaction(work)

    async def transaction(self, work: Work[T]) -> T:
        """``work`` in BEGIN IMMEDIATE ... COMMIT, retried while another process holds the lock.
        Only inside :meth:`writing`."""
        for attempt in range(1, BUSY_ATTEMPTS + 1):
            try:
                return await self._transaction(work)
            except sqlite3.OperationalError as exc:
                if not is_busy(exc) or attempt == BUSY_ATTEMPTS:
                    raise
                self.counters.busy_retries += 1
                log.debug("SQLite cache %s busy (attempt %d): %s", self.path, attempt, exc)
                await asyncio.sleep(0.02 * attempt)
        raise AssertionError("unreachable")

    async def _transaction(self, work: Work[T]) -> T:
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

    async def aclose(self) -> None:
        """Close both connections (a failure is logged: closing must finish). Idempotent."""
        if self.closed:
            return
        self.closed = True
        self.inline.close()
        for conn in (self.reader, self._writer):
            try:
                await conn.close()
            except Exception as exc:  # noqa: BLE001 - closing must finish
                log.warning("closing SQLite connection to %s failed: %s", self.path, exc)


async def _connections(
    path: Path, busy_timeout_ms: int, clock: Callable[[], float]
) -> tuple[aiosqlite.Connection, aiosqlite.Connection, InlineReads, SetAside | None]:
    """The writer (on a checked file, a bad one set aside), the reader, the inline reads, and
    what was set aside; BackendError when no usable file can be opened."""
    async with AsyncExitStack() as opened:  # what opened is closed again if a later step fails
        try:
            writer, set_aside = await open_writer(path, busy_timeout_ms, clock)
            opened.push_async_callback(writer.close)
            reader = await connect(path, busy_timeout_ms, reader=True)
            opened.push_async_callback(reader.close)
            inline = InlineReads.open(path)
        except (sqlite3.Error, OSError) as exc:
            raise BackendError(f"cannot open SQLite cache {path}: {exc}") from exc
        opened.pop_all()
    return writer, reader, inline, set_aside


def _identity(path: Path) -> tuple[int, int]:
    """``(st_dev, st_ino)`` of the file at ``path`` (OSError when there is none)."""
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _sidecar_identities(path: Path) -> dict[str, tuple[int, int]]:
    """``(st_dev, st_ino)`` of the ``-wal`` and ``-shm`` files beside ``path`` that exist."""
    found = {}
    for suffix in ("-wal", "-shm"):
        try:
            found[suffix] = _identity(Path(f"{path}{suffix}"))
        except OSError:
            continue
    return found
