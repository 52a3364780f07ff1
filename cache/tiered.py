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
- Loader errors propagate to every waiter and are never cached.
- Invalidation (by key, tag, pattern, namespace, everything, age, low use) is in
  :class:`cache.tiered_invalidation.TieredInvalidation`: a load running across an invalidation
  is not stored (it may hold the dropped value), except across a time-based one.
- A tier that fails or is slower than ``tier_timeout`` is skipped and counted; it is skipped
  outright for ``tier_recovery`` seconds after a failure. The cache never fails a request.
- The cache owns its backends: :meth:`aclose` closes them and cancels background refreshes.
- A loaded value is stored under the policy as changed by the caller's
  :func:`cache.policy.override_policy` block, if any (hits never look at it).
- Refresh-ahead: a ``HitWatcher`` set with :meth:`TieredCache.watch_hits` is told about
  memory hits on entries whose ``fetch_cost`` is above its ``cutoff`` (with the caller's loader
  and policy); :meth:`TieredCache.refresh` recomputes a key through the single-flight.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cache.backends.base import Backend
from cache.backends.memory import MemoryBackend
from cache.entry import Entry, Record
from cache.invalidation import InvalidationHook, Invalidator
from cache.locking import LockedLoader, Locker
from cache.lookup import Found, TierReader
from cache.policy import CacheMeta, CachePolicy, CacheResult, TierName, policy_override
from cache.serialization import Serializer
from cache.singleflight import SingleFlight
from cache.stats import CacheStats, LostEntries
from cache.tier_guard import SKIPPED, TierGuard
from cache.tier_views import TierViews
from cache.tiered_invalidation import TieredInvalidation

if TYPE_CHECKING:
    from cache.refresh_ahead import HitWatcher

__all__ = ["Loader", "Locker", "TieredCache"]

log = logging.getLogger(__name__)

Loader = Callable[[], Awaitable[Any]]
_SAMPLE_MASK = 63
_LOST_KEYS_LIMIT = 100_000


class TieredCache(TieredInvalidation, TierViews):
    """Read-through cache over a memory tier and optional Redis and SQLite tiers."""

    def __init__(self, memory: MemoryBackend, *, redis: Backend | None = None, sqlite: Backend | None = None,
                 serializer: Serializer | None = None, clock: Callable[[], float] = time.time,
                 locker: Locker | None = None, tier_timeout: float = 0.25, tier_recovery: float = 5.0,
                 lock_ttl: float = 30.0, lock_wait: float = 30.0, lock_poll: float = 0.02,
                 stats: CacheStats | None = None, tier_timeouts: Mapping[str, float] | None = None) -> None:
        self.memory = memory
        self.stats = stats if stats is not None else CacheStats()
        self._serializer = serializer if serializer is not None else Serializer()
        self._clock = clock
        guard_args = {"clock": clock, "timeout": tier_timeout, "recovery": tier_recovery}
        per_tier = tier_timeouts or {}  # e.g. a local SQLite file may take longer than a remote Redis
        self._guards = [TierGuard(name, backend, self.stats.tier(name),
                                  **{**guard_args, "timeout": per_tier.get(name, tier_timeout)})
                        for name, backend in (("redis", redis), ("sqlite", sqlite)) if backend is not None]
        self._mem = self.stats.tier("memory")
        self._reader = TierReader(memory, self._guards, self._serializer, clock, self._mem)
        self._locked: LockedLoader | None = None
        if locker is not None:  # the lock shares the Redis tier's guard: one breaker per server
            guard = next((g for g in self._guards if g.name == "redis"), None)
            guard = guard or TierGuard("lock", locker, self.stats.tier("lock"), **guard_args)
            self._locked = LockedLoader(locker, guard, self._reader, clock, ttl=lock_ttl, wait=lock_wait,
                                        poll=lock_poll)
        self._flight: SingleFlight[CacheResult[Any]] = SingleFlight()
        self.on_invalidate: list[InvalidationHook] = []
        self._invalidator = Invalidator(memory, self._guards, self.on_invalidate, self._serializer)
        self._epoch = 0
        self._tick = 0
        self._timer = time.perf_counter
        self._closed = False
        self._watcher: HitWatcher | None = None
        self._lost = LostEntries(min(2 * memory.max_entries, _LOST_KEYS_LIMIT))
        self._register_gauges()
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
            watcher = self._watcher
            if watcher is not None and entry.fetch_cost > watcher.cutoff:
                watcher.hit(key, loader, policy, now)
            age = now - entry.created_at
            if now < entry.fresh_until:
                return CacheResult(entry.value, CacheMeta(True, "memory", age if age > 0 else 0.0, False))
            counters.stale_serves += 1
            self._revalidate(key, loader, policy, entry, "memory")
            return CacheResult(entry.value, CacheMeta(True, "memory", age if age > 0 else 0.0, True))
        self._mem.misses += 1
        self._lost.missed(key, now)
        task, started = self._flight.start(key, lambda: self._read_through(key, loader, policy))
        try:
            result = await asyncio.shield(task)
        except Exception:  # the load failed: still a read that missed (else hit rates look too high)
            counters = self.stats.for_key(key)
            counters.misses += 1
            counters.coalesced += not started
            raise
        counters = self.stats.for_key(key)
        if result.meta.hit:
            counters.hits += 1
            counters.stale_serves += result.meta.stale
            counters.count_lower_hit(result.meta.tier)
        else:
            counters.misses += 1
            counters.coalesced += not started
        return result

    async def get(self, key: str) -> CacheResult[Any] | None:
        """The cached value (stale ones flagged ``meta.stale``) or None; never loads."""
        found = await self._reader.lookup([key])
        counters = self.stats.for_key(key)
        hit = found.get(key)
        if hit is None:
            counters.misses += 1
            return None
        return self._hit(counters, hit)

    async def get_many(self, keys: Sequence[str]) -> dict[str, CacheResult[Any]]:
        """Cached values of ``keys`` (absent ones left out); one batch call per tier."""
        found = await self._reader.lookup(list(dict.fromkeys(keys)))
        results: dict[str, CacheResult[Any]] = {}
        for key in dict.fromkeys(keys):
            counters = self.stats.for_key(key)
            hit = found.get(key)
            if hit is None:
                counters.misses += 1
            else:
                results[key] = self._hit(counters, hit)
        return results

    def _hit(self, counters: Any, hit: Found) -> CacheResult[Any]:
        now = self._clock()
        stale = not hit.entry.is_fresh(now)
        counters.hits += 1
        counters.stale_serves += stale
        counters.time_saved += hit.entry.fetch_cost
        counters.count_lower_hit(hit.tier)
        return CacheResult(hit.entry.value, CacheMeta(True, hit.tier, hit.entry.age(now), stale))

    async def _read_through(self, key: str, loader: Loader, policy: CachePolicy) -> CacheResult[Any]:
        hit = (await self._reader.lookup([key], skip_memory=True)).get(key)
        if hit is None:
            return await self._load(key, loader, policy)
        if key in self.memory:  # promoted by the lookup
            self._lost.stored(key, hit.entry.stale_until)
        self.stats.for_key(key).time_saved += hit.entry.fetch_cost  # once per flight
        now = self._clock()
        if hit.entry.is_fresh(now):
            return CacheResult(hit.entry.value, CacheMeta(True, hit.tier, hit.entry.age(now), False))
        # Stale in a lower tier: answer now, refresh once this flight has ended.
        current = asyncio.current_task()
        if current is not None:
            current.add_done_callback(lambda _: self._revalidate(key, loader, policy, hit.entry, hit.tier))
        return CacheResult(hit.entry.value, CacheMeta(True, hit.tier, hit.entry.age(now), True))

    def _revalidate(self, key: str, loader: Loader, policy: CachePolicy, stale: Entry, tier: TierName) -> None:
        if not self._closed:
            self._flight.start(key, lambda: self._load(key, loader, policy, stale, tier, newer_than=stale.created_at))

    # -- refresh-ahead -------------------------------------------------------------------------

    def watch_hits(self, watcher: HitWatcher | None) -> None:
        """Tell ``watcher`` about memory hits on expensive entries (None stops it)."""
        self._watcher = watcher

    def peek(self, key: str) -> Entry | None:
        """The memory tier's entry for ``key`` (stale included), without loading or counting."""
        return self.memory.get_entry(key, self._clock())

    async def refresh(self, key: str, loader: Loader, policy: CachePolicy) -> CacheResult[Any]:
        """Recompute ``key`` now into every tier, joining a load already running; loader errors
        propagate. ``meta.hit`` is True when another process's load answered (through the lock)."""
        current = self.peek(key)
        newer_than = current.created_at if current is not None else None
        task, _ = self._flight.start(key, lambda: self._load(key, loader, policy, newer_than=newer_than))
        return await asyncio.shield(task)

    # -- loading -----------------------------------------------------------------------------

    async def _load(self, key: str, loader: Loader, policy: CachePolicy, fallback: Entry | None = None,
                    fallback_tier: TierName | None = None, *, newer_than: float | None = None) -> CacheResult[Any]:
        def run() -> Awaitable[CacheResult[Any]]:
            return self._run_loader(key, loader, policy, fallback, fallback_tier)

        return await (run() if self._locked is None else self._locked.run(key, run, newer_than))

    async def _run_loader(self, key: str, loader: Loader, policy: CachePolicy,
                          fallback: Entry | None, fallback_tier: TierName | None) -> CacheResult[Any]:
        counters = self.stats.for_key(key)
        counters.loader_calls += 1
        epoch, started = self._epoch, self._clock()
        try:
            value = await loader()
        except Exception:
            counters.loader_errors += 1
            now = self._clock()
            counters.count_load(max(0.0, now - started), policy.fresh_ttl)
            if fallback is not None and not fallback.is_expired(now):
                counters.stale_on_error += 1
                log.warning("cache loader for %s failed; serving the stale value", key, exc_info=True)
                return CacheResult(fallback.value, CacheMeta(True, fallback_tier, fallback.age(now), True))
            raise
        cost = max(0.0, self._clock() - started)
        counters.count_load(cost, policy.fresh_ttl)
        override = policy_override.get()  # e.g. warming's TTLs (see cache.policy.override_policy)
        entry, data = self._pack(value, policy if override is None else override(policy), cost)
        if epoch == self._epoch:  # an invalidation during the load would make this value suspect
            await self._write([(key, entry, data)])
        return CacheResult(entry.value, CacheMeta(False, None, 0.0, False))

    # -- writes ------------------------------------------------------------------------------

    async def set(self, key: str, value: Any, policy: CachePolicy, fetch_cost: float = 0.0) -> None:
        """Store ``value`` under ``key`` in every tier (TypeError if it is not JSON-able)."""
        await self._write([(key, *self._pack(value, policy, fetch_cost))])

    async def set_many(self, items: Sequence[tuple[str, Any]], policy: CachePolicy) -> None:
        """Store several ``(key, value)`` pairs under one policy; one batch per tier."""
        await self._write([(key, *self._pack(value, policy, 0.0)) for key, value in items])

    def _pack(self, value: Any, policy: CachePolicy, fetch_cost: float) -> tuple[Entry, bytes]:
        now = self._clock()
        tags = policy.tags
        if policy.tags_from is not None:
            tags = tuple(dict.fromkeys((*policy.tags, *policy.tags_from(value))))
        entry = Entry(value, now, now + policy.fresh_ttl, now + policy.stale_ttl, tags, fetch_cost)
        return self._serializer.pack(entry, namespace=policy.namespace)

    async def _write(self, items: Sequence[tuple[str, Entry, bytes]]) -> None:
        for key, entry, data in items:
            if self.memory.put_entry(key, entry, data):  # False: larger than the whole tier
                self._lost.stored(key, entry.stale_until)
        self._mem.writes += len(items)
        if not self._guards:
            return
        records = [Record(key, data, entry.stale_until, entry.tags, entry.created_at) for key, entry, data in items]
        outcomes = await asyncio.gather(*(g.call(g.backend.set_many, records) for g in self._guards))
        for guard, outcome in zip(self._guards, outcomes, strict=True):
            if outcome is not SKIPPED:
                guard.counters.writes += len(records)

    # -- housekeeping ------------------------------------------------------------------------

    def in_flight(self, key: str) -> bool:
        """True while a load or background refresh for ``key`` is running in this process."""
        return self._flight.running(key)

    async def wait_idle(self) -> None:
        """Wait until every running load and background refresh has ended (tests, shutdown)."""
        await self._flight.wait_all()

    async def aclose(self) -> None:
        """Cancel background refreshes and close every backend. Idempotent."""
        if self._closed:
            return
        self._closed = True
        await self._flight.aclose()
        for backend in (self.memory, *(guard.backend for guard in self._guards)):
            try:
                await backend.aclose()
            except Exception:  # closing must go on for the other tiers
                log.exception("closing cache tier %s failed", getattr(backend, "name", backend))
