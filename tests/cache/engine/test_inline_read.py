"""The first memory miss reads the lower tiers inline; callers arriving meanwhile join that read.

A task is started only when the loader must run, so: concurrent misses read a lower tier once
and load at most once; cancelling the reader hands the read over to a task the others still
get their answer from; closing the cache during the read never starts a load.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import NamedTuple

import pytest

from cache.backends.memory import MemoryBackend
from cache.engine.tiered import TieredCache
from cache.policy import CachePolicy
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory
from tests.support.faults import LoaderSpy


class GatedTier(MemoryBackend):
    """A lower tier whose reads wait for ``release`` once ``hold`` is set; counts reads."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__(clock=clock)
        self.reads = 0
        self.hold = False
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        self.reads += 1
        if self.hold:
            self.entered.set()
            await self.release.wait()
        return await super().get_many(keys)


class Stack(NamedTuple):
    cache: TieredCache
    lower: GatedTier


@pytest.fixture
async def stack(clock: ManualClock, make_cache: CacheFactory) -> AsyncIterator[Stack]:
    lower = GatedTier(clock)
    cache = make_cache(sqlite=lower, tier_timeout=30.0)
    yield Stack(cache, lower)
    lower.release.set()
    await cache.aclose()


async def _stored_below(stack: Stack, key: str, value: object, policy: CachePolicy) -> None:
    await stack.cache.set(key, value, policy)
    stack.cache.memory.clear_now()
    stack.lower.hold, stack.lower.reads = True, 0


def _counters(cache: TieredCache) -> dict:
    return cache.stats.snapshot()["namespaces"]["ns"]


async def test_concurrent_misses_share_one_lower_tier_read(stack: Stack, policy: CachePolicy) -> None:
    await _stored_below(stack, "ns:k", {"v": 1}, policy)
    loader = LoaderSpy("loaded")
    tasks = [asyncio.create_task(stack.cache.get_or_fetch("ns:k", loader, policy)) for _ in range(20)]
    await stack.lower.entered.wait()  # every task has run up to the read or joined it by now
    stack.lower.release.set()
    results = await asyncio.gather(*tasks)
    assert [(r.value, r.meta.tier, r.meta.hit) for r in results] == [({"v": 1}, "sqlite", True)] * 20
    assert (stack.lower.reads, loader.calls) == (1, 0)
    assert (_counters(stack.cache)["hits"], _counters(stack.cache)["misses"]) == (20, 0)
    assert stack.cache.stats.namespace_counters()["ns"].sqlite_hits == 20
    assert not stack.cache.in_flight("ns:k")
    assert (await stack.cache.get_or_fetch("ns:k", loader, policy)).meta.tier == "memory"  # promoted


async def test_concurrent_misses_below_too_load_once(stack: Stack, policy: CachePolicy) -> None:
    stack.lower.hold = True
    loader = LoaderSpy("loaded")
    tasks = [asyncio.create_task(stack.cache.get_or_fetch("ns:k", loader, policy)) for _ in range(20)]
    await stack.lower.entered.wait()
    stack.lower.release.set()
    results = await asyncio.gather(*tasks)
    assert all(r.value == "loaded" and r.meta.hit is False for r in results)
    assert (stack.lower.reads, loader.calls) == (1, 1)
    assert (_counters(stack.cache)["misses"], _counters(stack.cache)["coalesced"]) == (20, 19)


async def test_cancelling_the_reader_hands_the_read_over(stack: Stack, policy: CachePolicy) -> None:
    await _stored_below(stack, "ns:k", "below", policy)
    loader = LoaderSpy("loaded")
    reader = asyncio.create_task(stack.cache.get_or_fetch("ns:k", loader, policy))
    joiner = asyncio.create_task(stack.cache.get_or_fetch("ns:k", loader, policy))
    await stack.lower.entered.wait()  # the reader is reading, the joiner has joined it
    assert stack.cache.in_flight("ns:k")
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    stack.lower.release.set()
    result = await joiner
    assert (result.value, result.meta.tier, loader.calls) == ("below", "sqlite", 0)
    assert stack.lower.reads == 2  # the cancelled read, then the handed-over one
    await stack.cache.wait_idle()
    assert stack.cache.peek("ns:k") is not None


async def test_an_error_of_the_handed_over_load_reaches_who_joined(stack: Stack, policy: CachePolicy) -> None:
    stack.lower.hold = True
    failing = LoaderSpy(error=RuntimeError("upstream down"))
    reader = asyncio.create_task(stack.cache.get_or_fetch("ns:k", failing, policy))
    joiner = asyncio.create_task(stack.cache.get_or_fetch("ns:k", failing, policy))
    await stack.lower.entered.wait()
    stack.lower.release.set()
    outcomes = await asyncio.gather(reader, joiner, return_exceptions=True)
    assert [str(o) for o in outcomes] == ["upstream down"] * 2
    assert failing.calls == 1


async def test_closing_the_cache_during_the_read_never_loads(
    clock: ManualClock, policy: CachePolicy, make_cache: CacheFactory
) -> None:
    lower = GatedTier(clock)
    lower.hold = True
    cache = make_cache(sqlite=lower, tier_timeout=30.0)
    loader = LoaderSpy("loaded")
    reader = asyncio.create_task(cache.get_or_fetch("ns:k", loader, policy))
    await lower.entered.wait()
    await cache.aclose()
    lower.release.set()
    with pytest.raises(asyncio.CancelledError):
        await reader
    assert loader.calls == 0 and not cache.in_flight("ns:k")


async def test_a_stale_lower_tier_hit_is_served_and_refreshed_once(
    stack: Stack, clock: ManualClock, policy: CachePolicy
) -> None:
    await _stored_below(stack, "ns:k", "old", policy)
    stack.lower.hold = False
    clock.advance(policy.fresh_ttl)
    loader = LoaderSpy("new")
    result = await stack.cache.get_or_fetch("ns:k", loader, policy)
    assert (result.value, result.meta.tier, result.meta.stale) == ("old", "sqlite", True)
    await stack.cache.wait_idle()
    assert loader.calls == 1
    assert (await stack.cache.get_or_fetch("ns:k", loader, policy)).value == "new"
    assert _counters(stack.cache)["stale_serves"] == 1
