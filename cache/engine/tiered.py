"""The tiered read-through cache: memory -> Redis -> SQLite -> loader.

Contracts (see DESIGN.md section 4):

- Reads look in memory, then each lower tier in order; a lower-tier hit is promoted to every
  tier above it with its original times. Writes go to every tier. Values must be JSON-able;
  what callers get back is the value as the tiers store it (tuples become lists), and it is
  shared between callers: treat it as read-only.
- Fresh (``now < fresh_until``): returned. Stale (``fresh_until <= now < stale_until``): returned
  at once with ``meta.stale`` and ONE background refresh is started. Expired: the caller waits
  for the loader. When a refresh fails, the stale value keeps being served (counted).
- Concurrent misses for a key run the loader once per process (single-flight, waiters shielded
  from each other's cancellation); with a ``locker`` once across processes: the lock holder
  loads, the others poll the lower tiers for its value (bounded by ``lock_wait``), then load.
  A memory miss reads the lower tiers inline (claiming the key: callers arriving meanwhile join
  it); a task is started only when the loader must run.
- Loader errors propagate to every waiter and are never cached (:mod:`cache.engine.loading`).
- A load running across an invalidation is not stored (it may hold the dropped value), except
  across a time-based one (:mod:`cache.engine.invalidation`).
- A tier that fails or is slower than ``tier_timeout`` is skipped and counted; it is skipped
  outright for ``tier_recovery`` seconds after a failure. The cache never fails a request.
- The cache owns its backends: :meth:`aclose` closes them and cancels background refreshes.
- Refresh-ahead: a :class:`~cache.engine.loading.HitWatcher` subscribed with
  :meth:`TieredCache.subscribe_hits` is told about memory hits on entries whose ``fetch_cost``
  is above its ``cutoff`` (with the caller's loader and policy); :meth:`TieredCache.refresh`
  recomputes a key through the single-flight.

The facade keeps the memory-hit path (the hot one) and hands everything else to collaborators
built in its constructor, each reached through one-line methods: memory misses
(:mod:`cache.engine.read_through`), writes, invalidation and the tier views.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cache.backends.base import Backend
from cache.backends.memory import MemoryBackend
from cache.config import DEFAULT_ENGINE
from cache.engine.invalidation import Counts, Invalidations, Tiers
from cache.engine.invalidator import InvalidationEvent, InvalidationHook, Invalidator
from cache.engine.loading import HitWatcher, Loader, LoadRunner
from cache.engine.locked_loader import LockedLoader, Locker
from cache.engine.read_through import ReadThrough
from cache.engine.reader import TierReader
from cache.engine.results import ReadResults
from cache.engine.stats import CacheStats, LostEntries
from cache.engine.tier_guard import TierGuard
from cache.engine.views import TierViews
from cache.engine.writes import TierWriter
from cache.entry import Entry
from cache.hooks import Hooks, Unsubscribe
from cache.policy import CacheMeta, CachePolicy, CacheResult
from cache.serialization import Serializer

__all__ = ["HitWatcher", "Loader", "Locker", "TieredCache"]

log = logging.getLogger(__name__)

_SAMPLE_MASK = 63
_LOST_KEYS_LIMIT = 100_000


class TieredCache:
    """Read-through cache over a memory tier and optional Redis and SQLite tiers."""

    def __init__(
        self,
        memory: MemoryBackend,
        *,
        redis: Backend | None = None,
        sqlite: Backend | None = None,
        serializer: Serializer | None = None,
        clock: Callable[[], float] = time.time,
        locker: Locker | None = None,
        tier_timeout: float = DEFAULT_ENGINE.tier_timeout,
        tier_recovery: float = DEFAULT_ENGINE.tier_breaker_recovery,
        lock_ttl: float = DEFAULT_ENGINE.lock_ttl,
        lock_wait: float = DEFAULT_ENGINE.lock_wait,
        lock_poll: float = 0.02,
        stats: CacheStats | None = None,
        tier_timeouts: Mapping[str, float] | None = None,
    ) -> None:
        self.memory = memory
        self.stats = stats if stats is not None else CacheStats()
        serializer = serializer if serializer is not None else Serializer()
        self._clock = clock
        per_tier = tier_timeouts or {}  # e.g. a local SQLite file may take longer than a remote Redis
        self._guards: list[TierGuard[Backend]] = [
            TierGuard(
                name,
                backend,
                self.stats.tier(name),
                clock=clock,
                timeout=per_tier.get(name, tier_timeout),
                recovery=tier_recovery,
            )
            for name, backend in (("redis", redis), ("sqlite", sqlite))
            if backend is not None
        ]
        self._mem = self.stats.tier("memory")
        self._lost = LostEntries(min(2 * memory.max_entries, _LOST_KEYS_LIMIT))
        memory.subscribe_evictions(self._lost.evicted)
        self._reader = TierReader(memory, self._guards, serializer, clock, self._mem)
        self._writer = TierWriter(memory, self._guards, serializer, clock, self._mem, self._lost)
        self._invalidations = Invalidations(memory, clock, Invalidator(memory, self._guards, serializer), self._lost)
        self._views = TierViews(memory, self._guards)
        locked = None
        if locker is not None:  # the lock shares the Redis tier's guard: one breaker per server
            redis_guard = next((g for g in self._guards if g.name == "redis"), None)
            guard: TierGuard[object] = redis_guard or TierGuard(
                "lock", locker, self.stats.tier("lock"), clock=clock, timeout=tier_timeout, recovery=tier_recovery
            )
            locked = LockedLoader(locker, guard, self._reader, clock, ttl=lock_ttl, wait=lock_wait, poll=lock_poll)
        loads = LoadRunner(self.stats, clock, self._writer, self._invalidations, locked)
        self._results = ReadResults(self.stats, clock, self._lost)
        self._misses = ReadThrough(self._reader, self._results, loads, self.stats, inline=bool(self._guards))
        self._watchers: Hooks[HitWatcher] = Hooks()
        self._tick = 0
        self._timer = time.perf_counter
        self._closed = False
        self._views.register_gauges(self.stats)
        self.stats.add_gauge("memory", "evicted_refetched", lambda: self._lost.refetched)

    # -- reads -------------------------------------------------------------------------------

    async def get_or_fetch(self, key: str, loader: Loader, policy: CachePolicy) -> CacheResult[Any]:
        """The cached value for ``key``, or ``await loader()`` stored under ``policy``."""
        now = self._clock()
        self._tick += 1
        if self._tick & _SAMPLE_MASK:
            entry = self.memory.get_entry(key, now)
        else:  # every 64th lookup is timed (and may place a watermark): the hot path stays free of both
            started = self._timer()
            entry = self.memory.get_entry(key, now)
            self._mem.latency.add(self._timer() - started)
            self.memory.watermark(now)  # for invalidate_unused; at most one per watermark_every
        if entry is not None:
            self._mem.hits += 1
            counters = self.stats.for_key(key)
            counters.hits += 1
            counters.time_saved += entry.fetch_cost
            for watcher in self._watchers.current:  # () unless refresh-ahead subscribed
                if entry.fetch_cost > watcher.cutoff:
                    watcher.hit(key, loader, policy, now)
            age = now - entry.created_at
            if now < entry.fresh_until:
                return CacheResult(
                    entry.value, CacheMeta(True, "memory", age if age > 0 else 0.0, False, entry.fresh_until - now)
                )
            counters.stale_serves += 1
            self._misses.revalidate(key, loader, policy, entry, "memory")
            return CacheResult(entry.value, CacheMeta(True, "memory", age if age > 0 else 0.0, True))
        self._mem.misses += 1
        self._lost.missed(key, now)
        return await self._misses.fetch(key, loader, policy)

    async def get(self, key: str) -> CacheResult[Any] | None:
        """The cached value (stale ones flagged ``meta.stale``) or None; never loads."""
        return (await self.get_many([key])).get(key)

    async def get_many(self, keys: Sequence[str]) -> dict[str, CacheResult[Any]]:
        """Cached values of ``keys`` (absent ones left out); one batch call per tier."""
        unique = list(dict.fromkeys(keys))
        return self._results.found(unique, await self._reader.lookup(unique))

    # -- refresh-ahead -------------------------------------------------------------------------

    def subscribe_hits(self, watcher: HitWatcher) -> Unsubscribe:
        """Tell ``watcher`` about memory hits on expensive entries until the returned function is called."""
        return self._watchers.subscribe(watcher)

    def peek(self, key: str) -> Entry | None:
        """The memory tier's entry for ``key`` (stale included), without loading or counting."""
        return self.memory.get_entry(key, self._clock())

    async def refresh(self, key: str, loader: Loader, policy: CachePolicy) -> CacheResult[Any]:
        """Recompute ``key`` now into every tier, joining a load already running; loader errors
        propagate. ``meta.hit`` is True when another process's load answered (through the lock)."""
        current = self.peek(key)
        return await self._misses.refresh(key, loader, policy, current.created_at if current is not None else None)

    # -- writes (cache.engine.writes) -----------------------------------------------------------

    async def set(self, key: str, value: Any, policy: CachePolicy, fetch_cost: float = 0.0) -> None:
        """Store ``value`` under ``key`` in every tier (TypeError if it is not JSON-able)."""
        await self._writer.set(key, value, policy, fetch_cost)

    async def set_many(self, items: Sequence[tuple[str, Any]], policy: CachePolicy) -> None:
        """Store several ``(key, value)`` pairs under one policy; one batch per tier."""
        await self._writer.set_many(items, policy)

    # -- invalidation (cache.engine.invalidation: counts per tier, None for a failed tier) -----
    # Selectors (keys, tags, pattern, namespace) must be non-empty and not blank (ValueError,
    # nothing removed): only clear() empties the tiers.

    def subscribe_invalidations(self, hook: InvalidationHook) -> Unsubscribe:
        """Call ``hook(event)`` (awaited if it returns an awaitable) after every invalidation made
        with ``notify``, until the returned function is called."""
        return self._invalidations.subscribe(hook)

    @property
    def invalidation_hooks(self) -> tuple[InvalidationHook, ...]:
        """The invalidation hooks subscribed now, in call order."""
        return self._invalidations.hooks

    async def invalidate_keys(self, *keys: str, tiers: Tiers = None, notify: bool = True) -> Counts:
        """Drop ``keys`` from every tier (or ``tiers``)."""
        return await self._invalidations.invalidate_keys(*keys, tiers=tiers, notify=notify)

    async def invalidate_tags(self, *tags: str, tiers: Tiers = None, notify: bool = True) -> Counts:
        """Drop every entry carrying any of ``tags``."""
        return await self._invalidations.invalidate_tags(*tags, tiers=tiers, notify=notify)

    async def invalidate_pattern(self, pattern: str, *, tiers: Tiers = None, notify: bool = True) -> Counts:
        """Drop keys matching the glob ``pattern`` (escape literal parts with escape_glob)."""
        return await self._invalidations.invalidate_pattern(pattern, tiers=tiers, notify=notify)

    async def invalidate_namespace(self, namespace: str, *, tiers: Tiers = None, notify: bool = True) -> Counts:
        """Drop every key of ``namespace`` (all versions)."""
        return await self._invalidations.invalidate_namespace(namespace, tiers=tiers, notify=notify)

    async def clear(self, *, tiers: Tiers = None, notify: bool = True) -> Counts:
        """Empty every tier; how many entries each removed."""
        return await self._invalidations.clear(tiers=tiers, notify=notify)

    async def invalidate_older_than(
        self, seconds: float, namespace: str | None = None, *, tiers: Tiers = None, notify: bool = True
    ) -> Counts:
        """Drop entries created more than ``seconds`` ago (only ``namespace``'s when given)."""
        return await self._invalidations.invalidate_older_than(seconds, namespace, tiers=tiers, notify=notify)

    async def invalidate_unused(
        self, seconds: float, namespace: str | None = None, *, tiers: Tiers = None, notify: bool = True
    ) -> Counts:
        """Drop entries neither read nor written for ``seconds`` (only ``namespace``'s when given)."""
        return await self._invalidations.invalidate_unused(seconds, namespace, tiers=tiers, notify=notify)

    async def apply_event(self, event: InvalidationEvent, *, tiers: Tiers = ("memory",)) -> None:
        """Apply an event received from another process (memory tier only; hooks not called)."""
        await self._invalidations.apply_event(event, tiers=tiers)

    # -- views (cache.engine.views) ------------------------------------------------------------

    def tiers(self) -> list[str]:
        """Names of the configured tiers, in read order."""
        return self._views.tiers()

    @property
    def redis(self) -> Backend | None:
        """The Redis tier's backend, or None when not configured."""
        return self._views.backend("redis")

    @property
    def sqlite(self) -> Backend | None:
        """The SQLite tier's backend (backup, vacuum, check), or None when not configured."""
        return self._views.backend("sqlite")

    async def tier_info(self, name: str) -> dict[str, Any]:
        """Facts about one tier: state, where, entries (and bytes for memory). ValueError if unknown."""
        return await self._views.tier_info(name)

    def tier_states(self) -> dict[str, str]:
        """Guard state per lower tier: 'closed', 'open' or 'half-open'."""
        return self._views.tier_states()

    async def flush(self) -> None:
        """Wait until the writes lower tiers have queued so far are stored (BackendError if not)."""
        await self._views.flush()

    async def ping(self) -> dict[str, bool]:
        """Whether each tier answers (bounded by the tier timeout)."""
        return await self._views.ping()

    # -- housekeeping ------------------------------------------------------------------------

    def in_flight(self, key: str) -> bool:
        """True while a load or background refresh for ``key`` is running in this process."""
        return self._misses.running(key)

    async def wait_idle(self) -> None:
        """Wait until every running load and background refresh has ended (tests, shutdown)."""
        await self._misses.wait_idle()

    async def aclose(self) -> None:
        """Cancel background refreshes and close every backend. Idempotent."""
        if self._closed:
            return
        self._closed = True
        await self._misses.aclose()
        tiers: list[tuple[str, Backend]] = [("memory", self.memory), *((g.name, g.backend) for g in self._guards)]
        for name, backend in tiers:
            try:
                await backend.aclose()
            except Exception:  # closing must go on for the other tiers
                log.exception("closing cache tier %s failed", name)
