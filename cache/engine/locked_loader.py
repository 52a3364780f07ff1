"""Cross-process single-flight: one loader run per key across processes sharing a lock store.

Before loading, the engine takes the token lock ``lock:<key>`` (Redis ``SET NX PX``, released by
compare-and-delete; see :class:`cache.backends.redis_lock.RedisLocker`) for ``ttl`` seconds and
extends it every third of that while its load runs, so a short lifetime never lapses under a
live holder. A process that finds the lock held polls the lower tiers for the value the holder
will write (every ``poll`` seconds); whenever the lock is free again (the holder finished without
writing, or died and its lock lapsed) it takes the lock and loads itself, and after ``wait``
seconds it loads anyway. A lock store that fails or is slow is skipped like any tier (through its
:class:`~cache.engine.tier_guard.TierGuard`): the process then loads without the lock rather than
failing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from cache.engine.reader import Found, TierReader
from cache.engine.tier_guard import SKIPPED, TierGuard
from cache.policy import CacheMeta, CacheResult


class Locker(Protocol):
    """What a lock store offers (RedisLocker): a token on success, None when held elsewhere."""

    async def acquire(self, key: str, ttl: float) -> str | None: ...

    async def release(self, key: str, token: str) -> bool: ...

    async def extend(self, key: str, token: str, ttl: float) -> bool: ...


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
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait
        while True:
            token = await self._guard.call(self._locker.acquire, lock_key, self._ttl)
            if token is SKIPPED:  # lock store unavailable: load without it
                return await load()
            if token is not None:
                return await self._hold(lock_key, token, key, load, newer_than)
            # Held elsewhere: wait for that process's value, a lock check at a time.
            step = min(deadline - loop.time(), max(self._poll, self._ttl / 3))
            hit, answered = await self._reader.wait_for_fresh(key, step, self._poll, newer_than)
            if hit is not None:
                return self._result(hit)
            if not answered or loop.time() >= deadline:  # nowhere to read it from, or waited enough
                return await load()

    async def _hold(
        self,
        lock_key: str,
        token: str,
        key: str,
        load: Callable[[], Awaitable[CacheResult[Any]]],
        newer_than: float | None,
    ) -> CacheResult[Any]:
        keeper = asyncio.create_task(self._keep(lock_key, token))
        try:
            # Double check: the previous holder may have written the value and released the lock
            # between our first lookup and our acquire.
            hit, _ = await self._reader.find_fresh(key, newer_than)
            return await load() if hit is None else self._result(hit)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            await self._guard.call(self._locker.release, lock_key, token)

    async def _keep(self, lock_key: str, token: str) -> None:
        """Extend the lock every third of its lifetime until cancelled or it was lost (a skipped
        extension is tried again next time: the lock may lapse and a second process load too)."""
        while True:
            await asyncio.sleep(self._ttl / 3)
            if await self._guard.call(self._locker.extend, lock_key, token, self._ttl) is False:
                return

    def _result(self, hit: Found) -> CacheResult[Any]:
        now = self._clock()
        entry = hit.entry
        return CacheResult(
            entry.value, CacheMeta(True, hit.tier, entry.age(now), False, max(0.0, entry.fresh_until - now))
        )
