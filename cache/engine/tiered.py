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
- Loader errors propagate to every waiter and are never cached.
- Invalidation (by key, tag, pattern, namespace, everything, age, low use) is in
  :class:`cache.engine.invalidation.TieredInvalidation`: a load running across an invalidation
  is not stored (it may hold the dropped value), except across a time-based one.
- A tier that fails or is slower than ``tier_timeout`` is skipped and counted; it is skipped
  outright for ``tier_recovery`` seconds after a failure. The cache never fails a request.
- The cache owns its backends: :meth:`aclose` closes them and cancels background refreshes.
  Writes are in :class:`cache.engine.writes.TieredWrites`.
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
from cache.config import DEFAULT_ENGINE
from cache.engine.invalidation import TieredInvalidation
from cache.engine.invalidator import InvalidationHook, Invalidator
from cache.engine.locked_loader import LockedLoader, Locker
from cache.engine.reader import Found, TierReader
from cache.engine.singleflight import SingleFlight
from cache.engine.stats import CacheStats, LostEntries, NamespaceCounters
from cache.engine.tier_guard import TierGuard
from cache.engine.views import TierViews
from cache.engine.writes import TieredWrites
from cache.entry import Entry
from cache.policy import CacheMeta, CachePolicy, CacheResult, TierName, policy_override
from cache.serialization import Serializer

if TYPE_CHECKING:
    from cache.warming.refresh_ahead import HitWatcher

__all__ = ["Loader", "Locker", "TieredCache"]

log = logging.getLogger(__name__)

Loader = Callable[[], Awaitable[Any]]
_SAMPLE_MASK = 63
_LOST_KEYS_LIMIT = 100_000


class TieredCache(TieredWrites, TieredInvalidation, TierViews):
    """Read-through cache over a memory tier and optional Redis and SQLite tiers."""

    def __init__(self, memory: MemoryBackend, *, redis: Backend | None = None, sqlite: Backend | None = None,
                 serializer: Serializer | None = None, clock: Callable[[], float] = time.time,
                 locker: Locker | None = None, tier_timeout: float = DEFAULT_ENGINE.tier_timeout,
                 tier_recovery: float = DEFAULT_ENGINE.tier_breaker_recovery, lock_ttl: float = DEFAULT_ENGINE.lock_ttl,
                 lock_wait: float = DEFAULT_ENGINE.lock_wait, lock_poll: float = 0.02,
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
        memory.on_evict = self._lost.evicted
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
        claim = self._flight.claim(key) if self._guards else None
        if claim is None:  # join the flight running for the key (or start one: memory-only cache)
            task, started = self._flight.start(key, lambda: self._read_through(key, loader, policy))
            return await self._join(key, task, started)
        try:  # no flight: read the lower tiers inline (no task); a task only if the loader must run
            hit = await self._reader.lookup_lower(key)
        except BaseException:  # cancelled: finish in a task so callers who joined get an answer
            if not claim.cancelled():
                self._flight.hand_over(key, claim, lambda: self._read_through(key, loader, policy))
            raise
        if hit is not None:  # end the claimed flight with it
            result = self._hit(key, self.stats.for_key(key), hit)
            self._flight.settle(key, claim, result)
            if result.meta.stale:  # answer now, refresh now that the flight has ended
                self._revalidate(key, loader, policy, hit.entry, hit.tier)
            return result
        return await self._join(key, self._flight.hand_over(key, claim, lambda: self._load(key, loader, policy)), True)

    async def _join(self, key: str, task: asyncio.Future[CacheResult[Any]], started: bool) -> CacheResult[Any]:
        """Wait for a flight, shielded from this caller's cancellation, and count the read."""
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
        return self._hit(key, counters, hit)

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
                results[key] = self._hit(key, counters, hit)
        return results

    def _hit(self, key: str, counters: NamespaceCounters, hit: Found) -> CacheResult[Any]:
        """Count a read answered by the tiers and build its result."""
        result = self._result(key, hit)
        counters.hits += 1
        counters.stale_serves += result.meta.stale
        counters.time_saved += hit.entry.fetch_cost
        counters.count_lower_hit(hit.tier)
        return result

    async def _read_through(self, key: str, loader: Loader, policy: CachePolicy) -> CacheResult[Any]:
        hit = await self._reader.lookup_lower(key)
        if hit is None:
            return await self._load(key, loader, policy)
        self.stats.for_key(key).time_saved += hit.entry.fetch_cost  # once per flight
        result = self._result(key, hit)
        if result.meta.stale:  # answer now, refresh once this flight has ended
            current = asyncio.current_task()
            if current is not None:
                current.add_done_callback(lambda _: self._revalidate(key, loader, policy, hit.entry, hit.tier))
        return result

    def _result(self, key: str, hit: Found) -> CacheResult[Any]:
        entry = hit.entry
        self._lost.stored(key)  # in memory now (a lower-tier hit was promoted by the lookup)
        now = self._clock()
        age = now - entry.created_at
        return CacheResult(entry.value, CacheMeta(True, hit.tier, age if age > 0 else 0.0, now >= entry.fresh_until))

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
