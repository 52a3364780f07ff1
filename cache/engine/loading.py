"""Running a key's loader: once, counted, stored unless invalidated meanwhile, stale on failure.

:class:`LoadRunner` is what the engine's single-flight runs on a miss, a background
revalidation and a refresh. With a cross-process lock (:class:`~cache.engine.locked_loader.LockedLoader`)
the loader runs only in the process holding ``lock:<key>``; the others take the value it writes.

Contracts:

- every run is counted (``loader_calls``, ``loader_errors``, its seconds under the policy's
  fresh TTL), failed runs too;
- a value is stored under the policy as changed by the caller's
  :func:`cache.policy.override_policy` block, if any;
- it is stored only when no invalidation (but a time-based one) ran during the load: the
  :attr:`~cache.engine.invalidation.Invalidations.epoch` is compared before storing;
- when the loader fails and a ``fallback`` entry has not expired, that entry is returned
  flagged stale (counted as ``stale_on_error``); otherwise the error propagates, never cached.
  An upstream outage makes every stale serve fail this way, so the warning is one per episode
  and namespace (:class:`~cache.state_log.StateLog`): logged at the first, ended with a count by
  the namespace's next successful load.

:data:`Loader` and :class:`HitWatcher` are the callbacks the engine takes from its callers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from cache.engine.invalidation import Invalidations
from cache.engine.locked_loader import LockedLoader
from cache.engine.stats import CacheStats
from cache.engine.writes import TierWriter
from cache.entry import Entry
from cache.policy import CacheMeta, CachePolicy, CacheResult, TierName, policy_override
from cache.state_log import StateLog

log = logging.getLogger(__name__)

_MAX_EPISODES = 256
Loader = Callable[[], Awaitable[Any]]
"""Produces the value of a key on a miss (JSON-able; the caller's own upstream call)."""


class HitWatcher(Protocol):
    """What :meth:`TieredCache.subscribe_hits` takes. The cache reads ``cutoff`` on every memory
    hit and calls ``hit`` only when the entry's ``fetch_cost`` is above it; ``hit`` must be
    cheap and must not raise."""

    @property
    def cutoff(self) -> float: ...

    def hit(self, key: str, loader: Loader, policy: CachePolicy, now: float) -> None: ...


class LoadRunner:
    """Runs loaders for the engine; see the module doc."""

    def __init__(
        self,
        stats: CacheStats,
        clock: Callable[[], float],
        writer: TierWriter,
        invalidations: Invalidations,
        locked: LockedLoader | None,
    ) -> None:
        self._stats = stats
        self._clock = clock
        self._writer = writer
        self._invalidations = invalidations
        self._locked = locked
        self._stale_logs: dict[str, StateLog] = {}  # namespace -> its episode of stale serves

    def _stale_log(self, key: str) -> StateLog:
        namespace = key.partition(":")[0]
        found = self._stale_logs.get(namespace)
        if found is None:
            if len(self._stale_logs) >= _MAX_EPISODES:  # a bad key scheme must not grow this
                namespace = "_other"
            found = self._stale_logs.setdefault(namespace, StateLog(log, f"cache loads of {namespace}"))
        return found

    async def load(
        self,
        key: str,
        loader: Loader,
        policy: CachePolicy,
        fallback: Entry | None = None,
        fallback_tier: TierName | None = None,
        *,
        newer_than: float | None = None,
    ) -> CacheResult[Any]:
        """Run ``loader`` for ``key`` (under the lock when there is one) and store its value.

        ``newer_than``: the creation time of the entry being replaced (a refresh); through the
        lock, only an entry created after it counts as another process's value.
        """

        def run() -> Awaitable[CacheResult[Any]]:
            return self._run(key, loader, policy, fallback, fallback_tier)

        return await (run() if self._locked is None else self._locked.run(key, run, newer_than))

    async def _run(
        self, key: str, loader: Loader, policy: CachePolicy, fallback: Entry | None, fallback_tier: TierName | None
    ) -> CacheResult[Any]:
        counters = self._stats.for_key(key)
        counters.loader_calls += 1
        epoch, started = self._invalidations.epoch, self._clock()
        try:
            value = await loader()
        except Exception:
            counters.loader_errors += 1
            now = self._clock()
            counters.count_load(max(0.0, now - started), policy.fresh_ttl)
            if fallback is not None and not fallback.is_expired(now):
                counters.stale_on_error += 1
                self._stale_log(key).event("stale values served after loader failures", key, exc_info=True)
                return CacheResult(fallback.value, CacheMeta(True, fallback_tier, fallback.age(now), True))
            raise
        cost = max(0.0, self._clock() - started)
        counters.count_load(cost, policy.fresh_ttl)
        if self._stale_logs:
            self._end_stale_episode(key)
        override = policy_override.get()  # e.g. warming's TTLs (see cache.policy.override_policy)
        entry, data = self._writer.pack(value, policy if override is None else override(policy), cost)
        if epoch == self._invalidations.epoch:  # an invalidation during the load would make this value suspect
            await self._writer.write([(key, entry, data)])
        return CacheResult(
            entry.value, CacheMeta(False, None, 0.0, False, max(0.0, entry.fresh_until - entry.created_at))
        )

    def _end_stale_episode(self, key: str) -> None:
        episodes = self._stale_logs
        episode = episodes.get(key.partition(":")[0])
        if episode is None and len(episodes) >= _MAX_EPISODES:
            episode = episodes.get("_other")
        if episode is not None and episode.active:
            episode.end("loading again")
