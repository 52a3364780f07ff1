"""Writing to the tiers: pack values into entries and store them in memory and every lower tier.

A value is wrapped in an :class:`~cache.entry.Entry` timed by the engine's clock and the
policy's TTLs, encoded once, and written to memory (the encoded entry itself: one object per
item) and to every lower tier in one batch each, concurrently (a single lower tier is awaited in
the caller's task: a task of its own would cost the caller a loop turn, on a cold call's answer
path). A lower tier that fails is skipped and counted by its guard; writes never raise for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from cache.backends.base import Backend
from cache.backends.memory import MemoryBackend
from cache.engine.stats import LostEntries, TierCounters
from cache.engine.tier_guard import SKIPPED, TierGuard
from cache.entry import Entry, Record
from cache.policy import CachePolicy
from cache.serialization import EncodedEntry, Serializer

Packed = tuple[str, Entry, bytes]
"""A key, its entry and the entry's bytes: one item of :meth:`TierWriter.write`."""


class TierWriter:
    """Packs and stores entries for :class:`cache.engine.tiered.TieredCache`. ``lost`` is told
    which keys memory holds again; ``memory_counters`` count the writes to memory."""

    def __init__(
        self,
        memory: MemoryBackend,
        guards: Sequence[TierGuard[Backend]],
        serializer: Serializer,
        clock: Callable[[], float],
        memory_counters: TierCounters,
        lost: LostEntries,
    ) -> None:
        self._memory = memory
        self._guards = list(guards)
        self._serializer = serializer
        self._clock = clock
        self._mem = memory_counters
        self._lost = lost

    async def set(self, key: str, value: Any, policy: CachePolicy, fetch_cost: float = 0.0) -> None:
        """Store ``value`` under ``key`` in every tier (TypeError if it is not JSON-able)."""
        await self.write([(key, *self.pack(value, policy, fetch_cost))])

    async def set_many(self, items: Sequence[tuple[str, Any]], policy: CachePolicy) -> None:
        """Store several ``(key, value)`` pairs under one policy; one batch per tier."""
        await self.write([(key, *self.pack(value, policy, 0.0)) for key, value in items])

    def pack(self, value: Any, policy: CachePolicy, fetch_cost: float) -> tuple[EncodedEntry, bytes]:
        """The entry for ``value`` created now under ``policy`` (tags included), and its bytes."""
        now = self._clock()
        tags = policy.tags
        if policy.tags_from is not None:
            tags = tuple(dict.fromkeys((*policy.tags, *policy.tags_from(value))))
        entry = Entry(value, now, now + policy.fresh_ttl, now + policy.stale_ttl, tags, fetch_cost)
        return self._serializer.pack(entry, namespace=policy.namespace)

    async def write(self, items: Sequence[Packed]) -> None:
        """Store packed items in memory, then in every lower tier (one batch each, concurrently)."""
        for key, entry, data in items:
            if self._memory.put_entry(key, entry, data):  # False: larger than the whole tier
                self._lost.stored(key)
        self._mem.writes += len(items)
        if not self._guards:
            return
        records = [Record(key, data, entry.stale_until, entry.tags, entry.created_at) for key, entry, data in items]
        guards = self._guards
        if len(guards) == 1:  # one lower tier (SQLite alone): awaited here, no task and loop turn of its own
            outcomes = [await guards[0].call(guards[0].backend.set_many, records)]
        else:
            outcomes = await asyncio.gather(*(g.call(g.backend.set_many, records) for g in guards))
        for guard, outcome in zip(self._guards, outcomes, strict=True):
            if outcome is not SKIPPED:
                guard.counters.writes += len(records)
