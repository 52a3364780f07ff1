"""The SQLite tier's write queue: callers enqueue, ONE writer task commits in batches (group commit).

A transaction costs a few thread hops and a WAL append whatever its size, so a burst of 800
answers written one transaction each kept the writer busy for seconds (and the tier guard timed
the callers out). Here :meth:`WriteQueue.put` is synchronous and never waits for the disk:

- records wait in a dict (key -> latest record; a later write of a key replaces the earlier one,
  so a batch holds one row per key), at most ``max_pending`` keys; records of new keys beyond
  that are dropped and counted (``SqliteCounters.writes_dropped``, one warning per episode);
- one writer task (started by the first put) commits as soon as anything waits, taking up to
  ``batch_max`` records INSIDE the write transaction, under the file's writer lock, so whatever
  arrived while the previous transaction ran goes into the next one;
- deletes stay ordered: :meth:`WriteQueue.purge` drops the waiting records of the keys deleted,
  and a batch already taken is committed under the writer lock that the delete then waits for
  (FIFO), so a write acknowledged before a delete never lands after it;
- reads see what waits (:meth:`WriteQueue.lookup`, :meth:`WriteQueue.waiting`);
- a batch that fails (after the file's own retries) is dropped and counted
  (``writes_failed``); the next :meth:`WriteQueue.put` raises that BackendError once, so the
  tier guard sees a real failure, while a queue that is merely busy never raises;
- :meth:`WriteQueue.flush` waits until every record queued before the call is committed;
  :meth:`WriteQueue.aclose` commits everything still queued and stops the writer.

Durability: a put is acknowledged once queued. A clean close commits the queue; a process killed
(kill -9, power loss aside) loses what was still queued: the writes of the transaction running
then and of the few milliseconds before it, never more than ``max_pending`` entries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from itertools import islice

import aiosqlite

from cache.backends.base import BackendError
from cache.backends.sqlite_file import SqliteFile
from cache.entry import Record
from cache.state_log import StateLog

log = logging.getLogger(__name__)

Queued = tuple[Record, float]
"""A record and when it was put (epoch seconds): it is written as of then."""
Store = Callable[[aiosqlite.Connection, list[Queued]], Awaitable[None]]
"""Writes one batch inside the transaction the queue opened (an empty batch: housekeeping only)."""
_Waiting = dict[str, tuple[int, Record, float]]  # key -> (put number, record, put time), in put order


class WriteQueue:
    """Queued writes to ``file``, committed by ``store`` in batches; see the module doc."""

    def __init__(self, file: SqliteFile, store: Store, *, max_pending: int, batch_max: int) -> None:
        if max_pending < 1 or batch_max < 1:
            raise ValueError("max_pending and batch_max must be positive")
        self._file = file
        self._store = store
        self._max = max_pending
        self._batch_max = batch_max
        self._pending: _Waiting = {}
        self._inflight: _Waiting = {}  # the batch being committed (for reads; purged keys leave it)
        self._puts = 0
        self._kicked = False  # a batch is wanted even with nothing queued (buffered read times)
        self._busy = False
        self._closing = False
        self._failure: BackendError | None = None  # raised by the next put
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._progress = asyncio.Event()  # set (and replaced) after every batch
        self._drops = StateLog(log, f"SQLite cache {file.path} write queue")
        self._failures = StateLog(log, f"SQLite cache {file.path} writer")

    def __bool__(self) -> bool:
        """True while anything is queued or being committed."""
        return bool(self._pending or self._inflight)

    def __len__(self) -> int:
        """Records queued or being committed."""
        return len(self._pending) + len(self._inflight)

    def put(self, records: Sequence[Record], now: float) -> None:
        """Queue ``records`` put at ``now`` (see the module doc). BackendError when the file is
        closed or the previous batch failed (once per failure)."""
        failure = self._failure
        if failure is not None:
            self._failure = None
            raise failure
        self._file.ensure_open()
        if self._closing:
            raise BackendError(f"SQLite cache {self._file.path} is closing")
        self._puts += 1
        number, pending, dropped = self._puts, self._pending, 0
        for record in records:
            key = record.key
            if pending.pop(key, None) is None and len(pending) >= self._max:
                dropped += 1
                continue
            pending[key] = (number, record, now)  # re-inserted: the dict stays in put order
        if dropped:
            self._file.counters.writes_dropped += dropped
            self._drops.event("dropped writes", f"queue full ({self._max} entries waiting)", n=dropped)
        self._start()

    def kick(self) -> None:
        """Ask for a batch soon even when nothing is queued (it writes buffered read times)."""
        self._kicked = True
        self._start()

    def lookup(self, key: str) -> Record | None:
        """The queued (or being committed) record of ``key``, if any."""
        item = self._pending.get(key) or self._inflight.get(key)
        return None if item is None else item[1]

    def overlay(self, keys: Iterable[str]) -> dict[str, Record]:
        """The queued records of ``keys`` (see :func:`apply_overlay`); taken before the file is
        read, so a record committed meanwhile is found in one place or the other."""
        return {key: record for key in keys if (record := self.lookup(key)) is not None}

    def latest(self) -> dict[str, Record]:
        """The latest queued (or being committed) record of every key."""
        latest = {key: item[1] for key, item in self._inflight.items()}
        latest.update((key, item[1]) for key, item in self._pending.items())
        return latest

    def scan(self, wanted: Callable[[Record], bool], now: float) -> tuple[set[str], list[str]]:
        """``(every queued key, the keys of queued records live at now and wanted)``: a scan of
        the file must leave out the first (the queue's record supersedes the row) and add the
        second. Taken before the file is read, like :meth:`overlay`."""
        if not self:
            return set(), []
        latest = self.latest()
        return set(latest), [key for key, record in latest.items() if record.expires_at > now and wanted(record)]

    def purge(self, keys: Iterable[str], now: float) -> list[str]:
        """Forget the queued records of ``keys`` (they are being deleted); the keys of those
        that were live at ``now``."""
        live = []
        for key in keys:
            queued, taken = self._pending.pop(key, None), self._inflight.pop(key, None)
            item = queued or taken
            if item is not None and item[1].expires_at > now:
                live.append(key)
        return live

    def purge_all(self, now: float) -> list[str]:
        """Forget every queued record (the file is being cleared); the keys of those that were
        live at ``now``."""
        live = [key for key, record in self.latest().items() if record.expires_at > now]
        self._pending.clear()
        self._inflight.clear()
        return live

    async def flush(self) -> None:
        """Wait until every record queued before this call is committed. BackendError when a
        batch failed meanwhile (its records are lost) or the writer is not running."""
        target, failed = self._puts, self._file.counters.writes_failed
        while self._busy or self._kicked or self._first_put() <= target:
            task = self._task
            if task is None or task.done():
                raise BackendError(f"SQLite cache {self._file.path}: the writer is not running")
            await self._progress.wait()
        lost = self._file.counters.writes_failed - failed
        if lost:
            raise BackendError(f"SQLite cache {self._file.path}: {lost} queued writes could not be stored")

    async def aclose(self) -> None:
        """Commit everything queued, then stop the writer. Idempotent."""
        self._closing = True
        task = self._task
        if task is not None and not task.done():
            self._wake.set()
            await task

    def _first_put(self) -> float:
        pending = self._pending
        return next(iter(pending.values()))[0] if pending else float("inf")

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"sqlite writer {self._file.path}")
        self._wake.set()

    async def _run(self) -> None:
        while True:
            if self._pending or self._kicked:
                await self._commit_batch()
                continue
            self._drops.end("writes accepted again, queue drained")
            if self._closing:
                return
            self._wake.clear()
            await self._wake.wait()

    async def _commit_batch(self) -> None:
        batch: list[Queued] | None = None

        async def work(conn: aiosqlite.Connection) -> None:
            nonlocal batch
            if batch is None:  # taken under the writer lock; a retry of the transaction reuses it
                batch = self._take()
            await self._store(conn, batch)

        self._busy = True
        try:
            await self._file.write("set_many", work)
        except asyncio.CancelledError:  # the writer stopped mid-batch (its loop is going away)
            self._file.counters.writes_failed += len(batch or ())
            raise
        except Exception as exc:  # noqa: BLE001 - the writer must go on; the failure is reported
            self._failed(self._take() if batch is None else batch, exc)  # dropped: the loop moves on
        else:
            self._file.counters.write_batches += 1
            self._failures.end("writing again")
        finally:
            self._inflight = {}
            self._busy = False
            progress, self._progress = self._progress, asyncio.Event()
            progress.set()

    def _take(self) -> list[Queued]:
        self._kicked = False  # the buffered read times go with this batch
        pending = self._pending
        if len(pending) <= self._batch_max:
            taken, self._pending = pending, {}
        else:
            taken = {key: pending[key] for key in islice(pending, self._batch_max)}
            for key in taken:
                del pending[key]
        self._inflight = taken
        return [(record, at) for _, record, at in taken.values()]

    def _failed(self, batch: list[Queued], exc: Exception) -> None:
        self._file.counters.writes_failed += len(batch)
        if not isinstance(exc, BackendError):  # not a file problem: a bug, keep its traceback
            log.error("SQLite cache %s: writing a batch failed", self._file.path, exc_info=exc)
            exc = BackendError(f"SQLite cache {self._file.path}: set_many failed: {exc!r}")
        self._failure = exc
        self._failures.event("lost writes", f"a batch failed: {exc}", n=len(batch))


def apply_overlay(found: dict[str, bytes], overlay: dict[str, Record], now: float) -> None:
    """Put queued records over what the file answered: they are newer (an expired one deletes)."""
    for key, record in overlay.items():
        if record.expires_at > now:
            found[key] = record.data
        else:
            found.pop(key, None)
