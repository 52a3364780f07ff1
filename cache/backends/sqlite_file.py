"""One open SQLite cache file: its two connections and the discipline every write follows.

:class:`SqliteFile` is shared by the parts of :class:`cache.backends.sqlite.SqliteBackend`
(the backend itself, its meta rows, its maintenance). Contracts:

- ONE writer connection: writes are serialised in-process by a lock and across processes by
  ``BEGIN IMMEDIATE`` + busy_timeout, with a short retry (:data:`BUSY_ATTEMPTS`) when the lock
  is still busy; a separate read-only reader connection (WAL readers never wait for writers);
- :meth:`SqliteFile.write` runs a unit of work in one transaction, rolled back on any failure
  (cancellation included);
- every failure surfaces as :class:`~cache.backends.base.BackendError` with the file name and
  the operation in the message (:meth:`SqliteFile.errors`); using a closed file raises it too;
  :meth:`SqliteFile.read` is a query on the reader connection under those rules.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import aiosqlite

from cache.backends.base import BackendError
from cache.backends.sqlite_schema import connect, is_busy, open_writer

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[aiosqlite.Connection], Awaitable[T]]
"""A unit of work run on the writer connection inside one transaction."""
BUSY_ATTEMPTS = 4


@dataclass(slots=True)
class SqliteCounters:
    """What the backend has done since it was opened (for statistics and tests)."""

    write_transactions: int = 0
    access_flushes: int = 0
    evicted: int = 0
    expired_removed: int = 0
    busy_retries: int = 0


class SqliteFile:
    """The connections to the cache file at ``path``. Build with :meth:`open`."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self.path = path
        self.reader = reader
        self.counters = SqliteCounters()
        self._writer = writer
        self._lock = asyncio.Lock()
        self.closed = False

    @classmethod
    async def open(cls, path: Path, busy_timeout_ms: int, clock: Callable[[], float]) -> SqliteFile:
        """Open the writer (checking the file, setting a bad one aside) and the reader.
        BackendError when no usable file can be opened."""
        try:
            writer = await open_writer(path, busy_timeout_ms, clock)
            try:
                reader = await connect(path, busy_timeout_ms, reader=True)
            except BaseException:
                await writer.close()
                raise
        except sqlite3.Error as exc:
            raise BackendError(f"cannot open SQLite cache {path}: {exc}") from exc
        return cls(path, writer, reader)

    def ensure_open(self) -> None:
        """BackendError once the file is closed."""
        if self.closed:
            raise BackendError(f"SQLite cache {self.path} is closed")

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
        transaction: for statements that manage their own (ATTACH, VACUUM)."""
        self.ensure_open()
        async with self._lock:
            with self.errors(op):
                yield self._writer

    async def write(self, op: str, work: Work[T]) -> T:
        """Run ``work`` in one write transaction (see the module doc); its result."""
        async with self.writing(op):
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
        for conn in (self.reader, self._writer):
            try:
                await conn.close()
            except Exception as exc:  # noqa: BLE001 - closing must finish
                log.warning("closing SQLite connection to %s failed: %s", self.path, exc)
