"""Refresh-ahead: recompute hot, expensive keys so the new value lands as the old turns stale.

Which keys. HOT: hit in the memory tier within the last ``window`` seconds. EXPENSIVE: the
entry's ``fetch_cost`` (seconds its loader took) is above the cost cutoff, a run-time tunable
(:mod:`cache.coordination.tunables`) re-read at every scheduler pass, so a change made from another process
applies within about a second. Cheap keys are left to stale-while-revalidate.

How keys become known. :meth:`RefreshAhead.attach` registers it with
:meth:`TieredCache.subscribe_hits`; every memory hit on an entry above the cutoff calls
:meth:`RefreshAhead.hit`, which remembers the loader and policy of that ``get_or_fetch`` call,
the hit time and a hit count (at most ``max_keys`` keys). Nothing else runs on the hot path.

When. The refresh of an entry starts at
``max(fresh_until - lead, created_at + (fresh_until - created_at) / 2)`` with
``lead = fetch_cost * (1 + lead_ratio) + lead_margin``: it should end just before the entry
turns stale; the second term keeps a TTL shorter than the loader from becoming a refresh loop.
Each entry (identified by its ``created_at``) gets at most one attempt: after a failure the
entry is left to stale-while-revalidate rather than retried against a failing upstream.

How. :meth:`run_due` (one scheduler pass; tests call it directly) drops keys that went cold
(``skipped_cold``), left memory (``skipped_gone``) or are now under the cutoff
(``skipped_cheap``), and starts a task per due key, at most ``concurrency`` loading at once.
A task calls :meth:`TieredCache.refresh`: the cache's single-flight (callers asking meanwhile
share the load; with Redis the cross-process lock makes it one load per deployment) writes the
new entry to every tier. Loaders are the tool services' own, behind the upstream rate limits.
Counters (``refreshed``, ``failed``, ``adopted`` = another process's value taken, the skips)
appear as the ``refresh_ahead`` section of the cache statistics.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from cache.config import DEFAULT_REFRESH
from cache.coordination.tunables import Tunables
from cache.engine.tiered import Loader, TieredCache
from cache.hooks import Unsubscribe
from cache.policy import CachePolicy
from cache.tasks import stop_tasks

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[Any]]


class _Hot:
    __slots__ = ("loader", "policy", "last_hit", "hits", "attempted")

    def __init__(self, loader: Loader, policy: CachePolicy, now: float) -> None:
        self.loader = loader
        self.policy = policy
        self.last_hit = now
        self.hits = 1
        self.attempted: float | None = None  # created_at of the entry last refreshed (or tried)


@dataclass(frozen=True, slots=True)
class HotKey:
    """A tracked key as :meth:`RefreshAhead.hot_keys` reports it (re-fetchable by warming)."""

    key: str
    loader: Loader
    policy: CachePolicy
    hits: int
    last_hit: float


class RefreshAhead:
    """Tracks hot expensive keys of ``cache`` and refreshes them ahead of staleness."""

    COUNTERS = ("refreshed", "failed", "adopted", "skipped_cold", "skipped_gone", "skipped_cheap")

    def __init__(
        self,
        cache: TieredCache,
        tunables: Tunables,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
        window: float = DEFAULT_REFRESH.refresh_window,
        concurrency: int = DEFAULT_REFRESH.refresh_concurrency,
        lead_margin: float = 0.25,
        lead_ratio: float = 0.25,
        tick: float = 0.5,
        min_pause: float = 0.02,
        max_keys: int = 10_000,
    ) -> None:
        if window <= 0 or concurrency < 1 or tick <= 0 or max_keys < 1:
            raise ValueError("window and tick must be positive, concurrency and max_keys at least 1")
        self._cache = cache
        self._tunables = tunables
        self._clock = clock
        self._sleep = sleep
        self.window = window
        self._lead_margin, self._lead_ratio = lead_margin, lead_ratio
        self._tick, self._min_pause = tick, min_pause
        self._max_keys = max_keys
        self._slots = asyncio.Semaphore(concurrency)
        self._keys: dict[str, _Hot] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._detach: list[Unsubscribe] = []  # ends the hit subscription and the statistics section
        self.cutoff = math.inf  # read by the cache on every memory hit; synced from the tunables
        self.next_due: float | None = None
        self.counts = dict.fromkeys(self.COUNTERS, 0)

    # -- the cache's side --------------------------------------------------------------------------

    def hit(self, key: str, loader: Loader, policy: CachePolicy, now: float) -> None:
        """A memory hit on an entry above the cutoff (called by the cache; cheap, never raises)."""
        hot = self._keys.get(key)
        if hot is None:
            if len(self._keys) < self._max_keys:
                self._keys[key] = _Hot(loader, policy, now)
            return
        hot.loader, hot.policy, hot.last_hit = loader, policy, now
        hot.hits += 1

    # -- life cycle ----------------------------------------------------------------------------------

    async def attach(self) -> None:
        """Read the cutoff, start receiving hits from the cache and report in its statistics
        (once: attaching again only re-reads the cutoff)."""
        await self.sync_cutoff()
        if not self._detach:
            self._detach = [
                self._cache.subscribe_hits(self),
                self._cache.stats.add_section("refresh_ahead", self.snapshot),
            ]

    async def start(self) -> None:
        """:meth:`attach` and run the scheduler in a task until :meth:`aclose`."""
        await self.attach()
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self._run_forever(), name="refresh-ahead")

    async def aclose(self) -> None:
        """Stop the scheduler, cancel running refreshes and detach from the cache. Idempotent."""
        detach, self._detach = self._detach, []
        for unsubscribe in detach:
            unsubscribe()
        tasks = [t for t in (self._loop_task, *self._running.values()) if t is not None]
        self._loop_task = None
        await stop_tasks(tasks)
        self._running.clear()

    async def wait_idle(self) -> None:
        """Wait until no refresh started by this object is running (tests, shutdown)."""
        while self._running:
            await asyncio.wait(list(self._running.values()))

    # -- scheduling ------------------------------------------------------------------------------------

    async def sync_cutoff(self) -> float:
        """Re-read the cost cutoff from the tunables (cached there for about a second)."""
        self.cutoff = await self._tunables.get_cost_cutoff()
        return self.cutoff

    async def run_due(self) -> int:
        """One pass: drop cold, gone and cheap keys, start the due refreshes; how many started.

        Sets :attr:`next_due` to the earliest start time of the keys not yet due (None if none).
        """
        cutoff = await self.sync_cutoff()
        now = self._clock()
        started, next_due = 0, math.inf
        for key, hot in list(self._keys.items()):
            if now - hot.last_hit > self.window:
                self._drop(key, "skipped_cold")
                continue
            entry = self._cache.peek(key)
            if entry is None:
                self._drop(key, "skipped_gone")
                continue
            if entry.fetch_cost <= cutoff:
                self._drop(key, "skipped_cheap")
                continue
            if key in self._running or hot.attempted == entry.created_at:
                continue
            due = self.due_at(entry.created_at, entry.fresh_until, entry.fetch_cost)
            if due <= now and not self._cache.in_flight(key):
                hot.attempted = entry.created_at
                self._running[key] = asyncio.create_task(self._refresh(key, hot), name=f"refresh-ahead {key}")
                started += 1
            else:
                next_due = min(next_due, max(due, now))
        self.next_due = None if next_due == math.inf else next_due
        return started

    def due_at(self, created_at: float, fresh_until: float, fetch_cost: float) -> float:
        """When the refresh of an entry with these times and cost should start (epoch seconds)."""
        lead = fetch_cost * (1 + self._lead_ratio) + self._lead_margin
        return max(fresh_until - lead, created_at + (fresh_until - created_at) / 2)

    async def _run_forever(self) -> None:
        while True:
            try:
                await self.run_due()
            except Exception:  # a pass must never kill the scheduler
                log.exception("refresh-ahead pass failed")
            pause = self._tick
            if self.next_due is not None:
                pause = min(pause, max(self._min_pause, self.next_due - self._clock()))
            await self._sleep(pause)

    async def _refresh(self, key: str, hot: _Hot) -> None:
        try:
            async with self._slots:
                result = await self._cache.refresh(key, hot.loader, hot.policy)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # counted and logged; the entry is left to stale-while-revalidate
            self.counts["failed"] += 1
            log.warning("refresh-ahead of %s failed: %r", key, exc)
        else:
            if result.meta.hit:
                self.counts["adopted"] += 1
            else:
                self.counts["refreshed"] += 1
                self._cache.stats.for_key(key).refreshed_ahead += 1
        finally:
            self._running.pop(key, None)

    def _drop(self, key: str, reason: str) -> None:
        del self._keys[key]
        self.counts[reason] += 1

    # -- reporting -------------------------------------------------------------------------------------

    def hot_keys(self, limit: int | None = None) -> list[HotKey]:
        """Tracked keys, most hit first (ties: most recent hit first)."""
        ranked = sorted(self._keys.items(), key=lambda item: (-item[1].hits, -item[1].last_hit))
        return [HotKey(key, hot.loader, hot.policy, hot.hits, hot.last_hit) for key, hot in ranked[:limit]]

    def snapshot(self) -> dict[str, Any]:
        """JSON-able counters: the COUNTERS plus ``tracked``, ``running`` and ``cutoff``."""
        cutoff = None if math.isinf(self.cutoff) else self.cutoff
        return {**self.counts, "tracked": len(self._keys), "running": len(self._running), "cutoff": cutoff}
