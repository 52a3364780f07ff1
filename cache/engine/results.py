"""What a read returns, and how it is counted: tier hits become results, every read a hit or a miss.

Counting rules (see :mod:`cache.engine.stats`): a read answered by the tiers is a ``hit`` (a
stale one also a ``stale_serve``), adds the entry's ``fetch_cost`` to ``time_saved`` and, when a
lower tier answered, counts there too; a read that waited for a load is a ``miss``, and
``coalesced`` when it joined a load another caller started. A failed load still counts its
readers as misses (else hit rates would look too high).

A result's ``meta.age`` is never negative (clocks of other processes may run ahead) and
``meta.stale`` is ``now >= fresh_until`` on the engine's clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from cache.engine.reader import Found
from cache.engine.stats import CacheStats, LostEntries, NamespaceCounters
from cache.policy import CacheMeta, CacheResult


class ReadResults:
    """Builds and counts the results of the engine's reads."""

    def __init__(self, stats: CacheStats, clock: Callable[[], float], lost: LostEntries) -> None:
        self._stats = stats
        self._clock = clock
        self._lost = lost

    def found(self, keys: Sequence[str], hits: dict[str, Found]) -> dict[str, CacheResult[Any]]:
        """Results for those of ``keys`` in ``hits`` (a lookup of exactly ``keys``); every key
        counted as a hit or a miss."""
        results: dict[str, CacheResult[Any]] = {}
        for key in keys:
            counters = self._stats.for_key(key)
            hit = hits.get(key)
            if hit is None:
                counters.misses += 1
            else:
                results[key] = self.hit(key, counters, hit)
        return results

    def hit(self, key: str, counters: NamespaceCounters, hit: Found) -> CacheResult[Any]:
        """Count a read answered by the tiers (under ``counters``, the key's) and build its result."""
        result = self.result(key, hit)
        counters.hits += 1
        counters.stale_serves += result.meta.stale
        counters.time_saved += hit.entry.fetch_cost
        counters.count_lower_hit(hit.tier)
        return result

    def result(self, key: str, hit: Found) -> CacheResult[Any]:
        """The result of a tier hit, not counted (a flight's result, counted per joined caller)."""
        entry = hit.entry
        self._lost.stored(key)  # in memory now (a lower-tier hit was promoted by the lookup)
        now = self._clock()
        age = now - entry.created_at
        fresh_for = entry.fresh_until - now
        meta = CacheMeta(True, hit.tier, age if age > 0 else 0.0, fresh_for <= 0, fresh_for if fresh_for > 0 else 0.0)
        return CacheResult(entry.value, meta)

    async def join(self, key: str, task: asyncio.Future[CacheResult[Any]], started: bool) -> CacheResult[Any]:
        """Wait for a flight, shielded from this caller's cancellation, and count the read
        (``started``: this caller started the flight, so it did not coalesce)."""
        try:
            result = await asyncio.shield(task)
        except Exception:  # the load failed: still a read that missed (else hit rates look too high)
            counters = self._stats.for_key(key)
            counters.misses += 1
            counters.coalesced += not started
            raise
        counters = self._stats.for_key(key)
        if result.meta.hit:
            counters.hits += 1
            counters.stale_serves += result.meta.stale
            counters.count_lower_hit(result.meta.tier)
        else:
            counters.misses += 1
            counters.coalesced += not started
        return result
