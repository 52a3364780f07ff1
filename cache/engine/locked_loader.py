"""Cross-process single-flight: one loader run per key across processes sharing a lock store.

Before loading, the engine takes the token lock ``lock:<key>`` (Redis ``SET NX PX``, released by
compare-and-delete; see :class:`cache.backends.redis_lock.RedisLocker`). The holder loads. A
process that finds the lock held polls the lower tiers for the value the holder will write
(every ``poll`` seconds, at most ``wait`` seconds), then loads anyway. A lock store that fails
or is slow is skipped like any tier (through its :class:`~cache.engine.tier_guard.TierGuard`): the
process then loads without the lock rather than failing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from cache.engine.reader import Found, TierReader
from cache.engine.tier_guard import SKIPPED, TierGuard
from cache.policy import CacheMeta, CacheResult


class Locker(Protocol):
    """What a lock store offers (RedisLocker): a token on success, None when held elsewhere."""

    async def acquire(self, key: str, ttl: float) -> str | None: ...

    async def release(self, key: str, token: str) -> bool: ...


class LockedLoader:
    """Runs a load under the cross-process lock of its key."""

    def __init__(
        self,
        locker: Locker,
        guard: TierGuard[object],
        reader: TierReader,
        clock: Callable[[], float],
        *,
        ttl: float,
        wait: float,
        poll: float,
    ) -> None:
        self._locker = locker
        self._guard = guard
        self._reader = reader
        self._clock = clock
        self._ttl, self._wait, self._poll = ttl, wait, poll

    async def run(
        self, key: str, load: Callable[[], Awaitable[CacheResult[Any]]], newer_than: float | None = None
    ) -> CacheResult[Any]:
        """``await load()`` holding ``lock:<key>``, or the value another process loaded meanwhile.

        ``newer_than``: the creation time of the entry being replaced (a refresh); only an entry
        created after it counts as "loaded meanwhile" (the old one may well still be fresh)."""
        lock_key = f"lock:{key}"
        token = await self._guard.call(self._locker.acquire, lock_key, self._ttl)
        if token is SKIPPED:  # lock store unavailable: load without it
            return await load()
        if token is None:  # held elsewhere: wait for that process's value
            hit = await self._reader.wait_for_fresh(key, self._wait, self._poll, newer_than)
            return await load() if hit is None else self._result(hit)
        try:
            # Double check: the previous holder may have written the value and released the lock
            # between our first lookup and our acquire.
            hit, _ = await self._reader.find_fresh(key, newer_than)
            return await load() if hit is None else self._result(hit)
        finally:
            await self._guard.call(self._locker.release, lock_key, token)

    def _result(self, hit: Found) -> CacheResult[Any]:
        now = self._clock()
        entry = hit.entry
        return CacheResult(
            entry.value, CacheMeta(True, hit.tier, entry.age(now), False, max(0.0, entry.fresh_until - now))
        )
