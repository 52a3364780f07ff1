"""Small reads on the event loop's own thread, while they stay fast.

Every awaited aiosqlite call is a hop to the connection's thread and back: 30-150 us on a
2-core VM (the thread is woken from its queue, the loop from its selector), where a point read
of a mapped, cached file takes 5-15 us (docs/benchmarks.md, "Cache tiers"). So a read of at
most :data:`MAX_KEYS` keys (the backend's choice to ask) runs on a plain sqlite3 connection in
the caller's thread. :meth:`InlineReads.fetch` answers None (the caller then reads on the
threaded reader) instead of ever holding the loop:

- when the file is locked: the connection's ``busy_timeout`` is 0, so a lock is never waited
  for here (WAL readers rarely meet one: recovery of the WAL index, another process in
  exclusive locking mode). The threaded reader waits for it as before;
- for :data:`COOL_OFF` seconds after :data:`SLOW_RUN` inline reads in a row each took longer
  than :data:`SLOW` (the file's pages are not in the OS cache, a slow disk): those reads go to
  the thread until the cool-off is over, then inline reads try again. One slow read alone does
  not count: sqlite3 lets go of the GIL inside every statement, and getting it back while
  another thread runs Python (the writer storing a batch) can take the interpreter's switch
  interval (5 ms); a read on the thread would wait for the GIL just the same.

Errors other than a busy lock are raised as they are (the backend maps them to BackendError).
The connection is read-only (``query_only``), in autocommit mode, and never used from two
threads at once: only the loop's thread calls :meth:`InlineReads.fetch`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cache.backends.sqlite_errors import is_busy
from cache.backends.sqlite_schema import CACHE_KIB, MMAP_BYTES, file_uri

MAX_KEYS = 32
"""Reads of more keys than this go to the threaded reader (~5 us a key: at most ~0.2 ms here)."""
SLOW = 0.002
"""Seconds: an inline read taking longer than this is slow."""
SLOW_RUN = 3
"""This many slow inline reads in a row send reads to the thread for COOL_OFF."""
COOL_OFF = 5.0
"""Seconds reads stay on the thread after SLOW_RUN slow inline reads."""


class Cursor(Protocol):
    def fetchall(self) -> list[object]: ...


class Connection(Protocol):
    """What :class:`InlineReads` uses of a ``sqlite3.Connection`` (a test can pass another)."""

    def execute(self, sql: str, parameters: Sequence[object], /) -> Cursor: ...

    def close(self) -> None: ...


@dataclass(slots=True)
class InlineCounters:
    """How small reads went since the file was opened."""

    reads: int = 0  # answered inline
    busy: int = 0  # sent to the thread: the file was locked
    slow: int = 0  # inline reads over SLOW
    cool_offs: int = 0  # times SLOW_RUN slow reads in a row sent reads to the thread


class InlineReads:
    """Reads on ``conn`` in the caller's thread (see the module doc). Build with :meth:`open`."""

    def __init__(self, conn: Connection, timer: Callable[[], float] = time.perf_counter) -> None:
        self._conn = conn
        self._timer = timer
        self._cool_until = 0.0
        self._slow_run = 0
        self.counters = InlineCounters()

    @classmethod
    def open(cls, path: Path) -> InlineReads:
        """A read-only connection to the file at ``path`` with the tier's page settings."""
        conn = sqlite3.connect(file_uri(path), uri=True, isolation_level=None, check_same_thread=False)
        try:
            for pragma in (
                "busy_timeout = 0",
                f"cache_size = -{CACHE_KIB}",
                f"mmap_size = {MMAP_BYTES}",
                "query_only = ON",
            ):
                conn.execute(f"PRAGMA {pragma}")
        except BaseException:
            conn.close()
            raise
        return cls(conn)

    def fetch(self, sql: str, parameters: Sequence[object]) -> list[Any] | None:
        """The rows of ``sql`` read now, or None when the read belongs on the threaded reader
        (cooling off after a slow read, the file locked)."""
        timer = self._timer
        started = timer()
        if started < self._cool_until:
            return None
        try:
            rows = self._conn.execute(sql, parameters).fetchall()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
            self.counters.busy += 1
            return None
        counters = self.counters
        counters.reads += 1
        if timer() - started <= SLOW:
            self._slow_run = 0
            return rows
        counters.slow += 1
        self._slow_run += 1
        if self._slow_run >= SLOW_RUN:
            counters.cool_offs += 1
            self._slow_run = 0
            self._cool_until = started + COOL_OFF
        return rows

    def close(self) -> None:
        """Close the connection (idempotent; a failure is not raised: closing must finish)."""
        try:
            self._conn.close()
        except sqlite3.Error:
            pass
