"""Reading through the tiers: memory first, then each lower tier in order, promoting hits.

A lower-tier hit is written back to memory and to every lower tier above the one that answered
(same bytes, same expiry: the entry keeps its original times). Bytes that cannot be decoded are
counted as ``decode_errors`` and treated as a miss. Expired entries are misses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cache.backends.base import Backend
from cache.backends.memory import MemoryBackend
from cache.engine.stats import TierCounters
from cache.engine.tier_guard import SKIPPED, TierGuard
from cache.entry import Entry, Record
from cache.policy import TierName, tier_name
from cache.serialization import CorruptEntry, Serializer


@dataclass(slots=True)
class Found:
    """A hit: which tier answered, the decoded entry and (for lower tiers) its bytes."""

    tier: TierName
    entry: Entry
    data: bytes = b""


class TierReader:
    """Batch lookups over the memory tier and the guarded lower tiers."""

    def __init__(
        self,
        memory: MemoryBackend,
        guards: Sequence[TierGuard[Backend]],
        serializer: Serializer,
        clock: Callable[[], float],
        memory_counters: TierCounters,
    ) -> None:
        self._memory = memory
        self._guards = list(guards)
        self._tier_names = {guard.name: tier_name(guard.name) for guard in guards}  # ValueError for a stray guard
        self._serializer = serializer
        self._clock = clock
        self._mem = memory_counters

    async def lookup(self, keys: list[str], *, skip_memory: bool = False) -> dict[str, Found]:
        """Hits among ``keys`` (live entries, stale included), one batch call per tier."""
        now = self._clock()
        found: dict[str, Found] = {}
        missing = keys
        if not skip_memory:
            missing = []
            for key in keys:
                entry = self._memory.get_entry(key, now)
                if entry is None:
                    missing.append(key)
                else:
                    found[key] = Found("memory", entry)
            self._mem.hits += len(found)
            self._mem.misses += len(missing)
        above: list[TierGuard[Backend]] = []
        for guard in self._guards:
            if not missing:
                break
            got = await guard.call(guard.backend.get_many, missing, timed=True)
            if got is SKIPPED:
                continue
            hits = self._decode(guard, missing, got, now)
            if hits:
                found.update(hits)
                await self._promote(hits, above)
                missing = [key for key in missing if key not in hits]
            above.append(guard)
        return found

    async def lookup_lower(self, key: str) -> Found | None:
        """The lower tiers' hit for ``key`` (live, stale included), promoted, memory not
        consulted: :meth:`lookup` of one key with ``skip_memory``, without its batch bookkeeping."""
        now = self._clock()
        keys = [key]
        above: list[TierGuard[Backend]] = []
        for guard in self._guards:
            got = await guard.call(guard.backend.get_many, keys, timed=True)
            if got is SKIPPED:
                continue
            hit = self._decode_one(guard, got.get(key), now)
            if hit is not None:
                self._memory.put_entry(key, hit.entry, hit.data)
                if above:
                    await self._promote_lower({key: hit}, above)
                return hit
            above.append(guard)
        return None

    async def wait_for_fresh(
        self, key: str, wait: float, poll: float, newer_than: float | None = None
    ) -> tuple[Found | None, bool]:
        """Poll the lower tiers every ``poll`` s for a fresh entry (created after ``newer_than``
        when given), up to ``wait`` s (loop time): (hit or None, whether a tier still answers).

        Returns (None, True) at the deadline, and at once when no lower tier answers any more.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while loop.time() < deadline:
            await asyncio.sleep(poll)
            hit, answered = await self.find_fresh(key, newer_than)
            if hit is not None or not answered:
                return hit, answered
        return None, True

    async def find_fresh(self, key: str, newer_than: float | None = None) -> tuple[Found | None, bool]:
        """One pass over the lower tiers for a fresh entry created after ``newer_than`` (any, when
        None): (hit or None, whether any tier answered)."""
        answered = False
        for index, guard in enumerate(self._guards):
            got = await guard.call(guard.backend.get_many, [key])
            if got is SKIPPED:
                continue
            answered = True
            hit = self._decode_one(guard, got.get(key), self._clock(), count=False)
            if (
                hit is not None
                and hit.entry.is_fresh(self._clock())
                and (newer_than is None or hit.entry.created_at > newer_than)
            ):
                await self._promote({key: hit}, self._guards[:index])
                return hit, True
        return None, answered

    def _decode(
        self, guard: TierGuard[Backend], keys: Sequence[str], got: dict[str, bytes], now: float, count: bool = True
    ) -> dict[str, Found]:
        hits: dict[str, Found] = {}
        for key in keys:
            hit = self._decode_one(guard, got.get(key), now, count)
            if hit is not None:
                hits[key] = hit
        return hits

    def _decode_one(
        self, guard: TierGuard[Backend], data: bytes | None, now: float, count: bool = True
    ) -> Found | None:
        """Decode once; the entry carries the bytes (no copy when they already are ``bytes``)."""
        counters = guard.counters
        entry = None
        if data is not None:
            try:
                entry = self._serializer.load_encoded(data)
            except CorruptEntry:
                counters.decode_errors += 1
        if entry is None or now >= entry.stale_until:
            counters.misses += count
            return None
        counters.hits += count
        return Found(self._tier_names[guard.name], entry, entry.data)

    async def _promote(self, hits: dict[str, Found], above: Sequence[TierGuard[Backend]]) -> None:
        """Write hits to memory (one object per item: the entry carries its bytes) and to ``above``."""
        for key, hit in hits.items():
            self._memory.put_entry(key, hit.entry, hit.data)
        if above:
            await self._promote_lower(hits, above)

    @staticmethod
    async def _promote_lower(hits: dict[str, Found], above: Sequence[TierGuard[Backend]]) -> None:
        records = [
            Record(key, hit.data, hit.entry.stale_until, hit.entry.tags, hit.entry.created_at)
            for key, hit in hits.items()
        ]
        for guard in above:
            await guard.call(guard.backend.set_many, records)
