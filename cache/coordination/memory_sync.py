"""Invalidation without Redis: a generation number in the SQLite file keeps memory tiers honest.

With Redis, the event bus (:mod:`cache.coordination.events`) tells every process what another one
invalidated. Without it, processes sharing one SQLite file (servers, the worker, the CLI's
``cache invalidate`` and ``cache restore``) would keep serving their memory copies. So each of
them runs a :class:`MemorySync`:

- the meta row ``cache.invalidation_generation`` of the SQLite file is a counter, bumped (one
  atomic write transaction) after every invalidation this process makes with ``notify`` (the
  invalidation hook :meth:`MemorySync.start` subscribes) and by :meth:`MemorySync.bump`
  (call it after a restore, which goes straight to the SQLite backend);
- :meth:`MemorySync.check` (the server calls it every couple of seconds) reads the counter and,
  when it moved since this process last looked, other than by its own bumps, clears the memory
  tier: the memory copies of whatever was dropped must go, and the tier cannot know which.

Not bumped: ``unused`` invalidations. They are about each process's own idle entries, not
stale data, and clearing every other memory tier for them would defeat them. Received events
(``apply_event``) never bump. Use it only without Redis (the event bus does this job, entry by
entry); without a SQLite tier it does nothing (``check`` is always False). A SQLite failure is
logged and answered as "no change"/None, never raised.
"""

from __future__ import annotations

import asyncio
import logging

from cache.backends.base import BackendError
from cache.backends.capabilities import MetaStore
from cache.engine.invalidator import InvalidationEvent
from cache.engine.tiered import TieredCache
from cache.hooks import Unsubscribe

log = logging.getLogger(__name__)

GENERATION = "cache.invalidation_generation"
"""The meta row holding the counter (scope ``cache`` of the SQLite file's meta table)."""
_CLEAR = InvalidationEvent("clear")
_NOT_SHARED = ("unused",)


class MemorySync:
    """Bumps the shared generation on this process's invalidations; clears the memory tier
    when another process's moved it. See the module doc."""

    def __init__(self, cache: TieredCache) -> None:
        self._cache = cache
        self._seen: int | None = None
        self._lock = asyncio.Lock()
        self._unsubscribe: Unsubscribe | None = None
        self.bumps = 0
        self.clears = 0

    @property
    def generation(self) -> int | None:
        """The generation this process has caught up with (None before the first read)."""
        return self._seen

    async def start(self) -> None:
        """Take the current generation as the baseline and bump it on every invalidation this
        process makes from now on. Idempotent."""
        if self._unsubscribe is None:
            self._unsubscribe = self._cache.subscribe_invalidations(self._on_invalidate)
        async with self._lock:
            if self._seen is None:
                self._seen = await self._read()

    async def aclose(self) -> None:
        """Stop bumping on this process's invalidations. Idempotent."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    async def bump(self) -> int | None:
        """Tell the other processes to drop their memory tiers: the new generation, or None
        without a (working) SQLite tier."""
        sqlite = self._sqlite()
        if sqlite is None:
            return None
        async with self._lock:
            try:
                new = int(await sqlite.meta_increment(GENERATION))
            except BackendError as exc:
                log.warning("could not bump the cache invalidation generation: %s", exc)
                return None
            self.bumps += 1
            if self._seen is not None and new == self._seen + 1:
                self._seen = new  # only our own step: nothing was missed
            return new

    async def check(self) -> bool:
        """Clear the memory tier if the generation moved since the last look (the first look
        clears only a non-empty tier that may have missed something); True when cleared."""
        async with self._lock:
            current = await self._read()
            if current is None or current == self._seen:
                return False
            first, self._seen = self._seen is None, current
            if first and not len(self._cache.memory):
                return False
        await self._cache.apply_event(_CLEAR)  # memory tier only; no hooks, so no bump
        self.clears += 1
        log.info("another process invalidated the cache (generation %d): memory tier cleared", current)
        return True

    async def _on_invalidate(self, event: InvalidationEvent) -> None:
        if event.kind not in _NOT_SHARED:
            await self.bump()

    async def _read(self) -> int | None:
        sqlite = self._sqlite()
        if sqlite is None:
            return None
        try:
            rows = await sqlite.meta_get_prefixed(GENERATION)
        except BackendError as exc:
            log.warning("could not read the cache invalidation generation: %s", exc)
            return None
        try:
            return int(rows.get(GENERATION, "0"))
        except ValueError:  # not ours to repair; meta_increment counts it as 0 too
            return 0

    def _sqlite(self) -> MetaStore | None:
        sqlite = self._cache.sqlite
        return sqlite if isinstance(sqlite, MetaStore) else None
