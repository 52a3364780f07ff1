"""What the engine does when memory cannot answer: one flight per key through the lower tiers and the loader.

:class:`ReadThrough` owns the engine's single-flight. On a memory miss (:meth:`ReadThrough.fetch`):

- a flight already running for the key is joined (shielded: a caller cancelled while waiting
  never cancels the flight the others wait for);
- otherwise, when there are lower tiers, the caller *claims* the key and reads them inline, in
  its own task (no task for a lower-tier hit); a hit settles the claim for everyone who joined
  meanwhile, and only when the loader must run does the rest become a shared task. A caller
  cancelled during the inline read hands the flight over to a task, so joiners still get an
  answer;
- a stale lower-tier hit is answered at once and ONE background refresh starts once the flight
  has ended (:meth:`ReadThrough.revalidate`, also used for stale memory hits). Background
  refreshes (and refresh-ahead's :meth:`ReadThrough.refresh`) run in
  :func:`~cache.policy.detached_context`: nothing of the caller's context but its policy
  override (a caller's deadline does not bound them).

Reads are counted by :class:`~cache.engine.results.ReadResults`; loads run through
:class:`~cache.engine.loading.LoadRunner`. After :meth:`ReadThrough.aclose` no background
refresh starts any more.
"""

from __future__ import annotations

import asyncio
from typing import Any

from cache.engine.loading import Loader, LoadRunner
from cache.engine.reader import TierReader
from cache.engine.results import ReadResults
from cache.engine.singleflight import SingleFlight
from cache.engine.stats import CacheStats
from cache.entry import Entry
from cache.policy import CachePolicy, CacheResult, TierName, detached_context


class ReadThrough:
    """Memory misses, revalidations and refreshes, one flight per key. ``inline``: there are
    lower tiers worth reading in the caller's own task."""

    def __init__(
        self, reader: TierReader, results: ReadResults, loads: LoadRunner, stats: CacheStats, *, inline: bool
    ) -> None:
        self._reader = reader
        self._results = results
        self._loads = loads
        self._stats = stats
        self._inline = inline
        self._flight: SingleFlight[CacheResult[Any]] = SingleFlight()
        self._closed = False

    async def fetch(self, key: str, loader: Loader, policy: CachePolicy) -> CacheResult[Any]:
        """The answer to a read memory missed: a lower tier's entry, or the loader's value."""
        flight = self._flight
        claim = flight.claim(key) if self._inline else None
        if claim is None:  # join the flight running for the key (or start one: memory-only cache)
            task, started = flight.start(key, lambda: self._lower_or_load(key, loader, policy))
            return await self._results.join(key, task, started)
        try:  # no flight: read the lower tiers inline (no task); a task only if the loader must run
            hit = await self._reader.lookup_lower(key)
        except BaseException:  # cancelled: finish in a task so callers who joined get an answer
            if not claim.cancelled():
                flight.hand_over(key, claim, lambda: self._lower_or_load(key, loader, policy))
            raise
        if hit is not None:  # end the claimed flight with it
            result = self._results.hit(key, self._stats.for_key(key), hit)
            flight.settle(key, claim, result)
            if result.meta.stale:  # answer now, refresh now that the flight has ended
                self.revalidate(key, loader, policy, hit.entry, hit.tier)
            return result
        task = flight.hand_over(key, claim, lambda: self._loads.load(key, loader, policy))
        return await self._results.join(key, task, True)

    def revalidate(self, key: str, loader: Loader, policy: CachePolicy, stale: Entry, tier: TierName) -> None:
        """Start one background refresh of the ``stale`` entry served from ``tier`` (none when a
        flight for the key is running, or after :meth:`aclose`)."""
        if not self._closed:
            self._flight.start(
                key,
                lambda: self._loads.load(key, loader, policy, stale, tier, newer_than=stale.created_at),
                detached_context(),
            )

    async def refresh(
        self, key: str, loader: Loader, policy: CachePolicy, newer_than: float | None
    ) -> CacheResult[Any]:
        """Run the loader for ``key`` now (joining a running flight); ``newer_than``: the
        creation time of the entry it replaces."""
        task, _ = self._flight.start(
            key, lambda: self._loads.load(key, loader, policy, newer_than=newer_than), detached_context()
        )
        return await asyncio.shield(task)

    def running(self, key: str) -> bool:
        """True while a flight for ``key`` runs."""
        return self._flight.running(key)

    async def wait_idle(self) -> None:
        """Wait until no flight runs (flights started meanwhile included)."""
        await self._flight.wait_all()

    async def aclose(self) -> None:
        """Cancel every flight; start no background refresh from now on."""
        self._closed = True
        await self._flight.aclose()

    async def _lower_or_load(self, key: str, loader: Loader, policy: CachePolicy) -> CacheResult[Any]:
        hit = await self._reader.lookup_lower(key)
        if hit is None:
            return await self._loads.load(key, loader, policy)
        self._stats.for_key(key).time_saved += hit.entry.fetch_cost  # once per flight
        result = self._results.result(key, hit)
        if result.meta.stale:  # answer now, refresh once this flight has ended
            current = asyncio.current_task()
            if current is not None:
                current.add_done_callback(lambda _: self.revalidate(key, loader, policy, hit.entry, hit.tier))
        return result
