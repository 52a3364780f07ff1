"""Stale-while-revalidate and serving stale values when the loader fails (manual clock)."""

from __future__ import annotations

import asyncio

from cache.backends.memory import MemoryBackend
from cache.engine.tiered import TieredCache
from cache.entry import Entry, Record
from cache.policy import CachePolicy
from cache.serialization import Serializer
from tests.support.clock import ManualClock
from tests.support.faults import LoaderSpy


async def _refresh_done(cache: TieredCache, key: str) -> None:
    """Check a background refresh of ``key`` is running, then wait (bounded) for it to end."""
    assert cache.in_flight(key), "no refresh was running"
    async with asyncio.timeout(5):
        await cache.wait_idle()
    assert not cache.in_flight(key)


async def test_stale_is_served_at_once_with_one_background_refresh_then_fresh(
    cache: TieredCache, clock: ManualClock, policy: CachePolicy
) -> None:
    await cache.get_or_fetch("ns:k", LoaderSpy("v1"), policy)
    clock.advance(policy.fresh_ttl + 1)
    gate = asyncio.Event()
    refresh = LoaderSpy("v2", gate=gate)
    stale = [await cache.get_or_fetch("ns:k", refresh, policy) for _ in range(5)]
    assert [r.value for r in stale] == ["v1"] * 5
    assert all(r.meta.stale and r.meta.hit and r.meta.tier == "memory" for r in stale)
    assert stale[0].meta.age == policy.fresh_ttl + 1
    await refresh.started.wait()
    gate.set()
    await _refresh_done(cache, "ns:k")
    assert refresh.calls == 1
    fresh = await cache.get_or_fetch("ns:k", refresh, policy)
    assert (fresh.value, fresh.meta.stale, fresh.meta.age) == ("v2", False, 0.0)
    counters = cache.stats.snapshot()["namespaces"]["ns"]
    assert counters["stale_serves"] == 5


async def test_expired_entries_make_the_caller_wait_for_the_loader(
    cache: TieredCache, clock: ManualClock, policy: CachePolicy
) -> None:
    await cache.get_or_fetch("ns:k", LoaderSpy("v1"), policy)
    clock.advance(policy.stale_ttl)
    result = await cache.get_or_fetch("ns:k", LoaderSpy("v2"), policy)
    assert (result.value, result.meta.hit, result.meta.stale) == ("v2", False, False)


async def test_failed_refresh_keeps_serving_stale_and_is_counted(
    cache: TieredCache, clock: ManualClock, policy: CachePolicy
) -> None:
    await cache.get_or_fetch("ns:k", LoaderSpy("v1"), policy)
    clock.advance(policy.fresh_ttl)
    failing = LoaderSpy(error=RuntimeError("upstream down"))
    first = await cache.get_or_fetch("ns:k", failing, policy)
    await _refresh_done(cache, "ns:k")
    second = await cache.get_or_fetch("ns:k", failing, policy)
    await _refresh_done(cache, "ns:k")
    assert (first.value, first.meta.stale) == ("v1", True)
    assert (second.value, second.meta.stale) == ("v1", True)
    assert failing.calls == 2  # the error was not cached: each stale serve retried once
    counters = cache.stats.snapshot()["namespaces"]["ns"]
    assert (counters["loader_errors"], counters["stale_on_error"]) == (2, 2)


async def test_caller_joining_a_failing_refresh_gets_the_stale_value_flagged(
    memory: MemoryBackend, clock: ManualClock, policy: CachePolicy
) -> None:
    sqlite = MemoryBackend(max_entries=10, max_bytes=100_000, clock=clock)
    cache = TieredCache(memory, sqlite=sqlite, clock=clock)
    await cache.get_or_fetch("ns:k", LoaderSpy("v1"), policy)
    clock.advance(policy.fresh_ttl)
    gate = asyncio.Event()
    failing = LoaderSpy(error=RuntimeError("down"), gate=gate)
    served = await cache.get_or_fetch("ns:k", failing, policy)  # starts the refresh
    assert served.meta.stale
    await cache.invalidate_keys("ns:k", tiers=("memory",))  # memory lost it; the refresh still runs
    joiner = asyncio.create_task(cache.get_or_fetch("ns:k", LoaderSpy("unused"), policy))
    await failing.started.wait()
    gate.set()
    result = await joiner
    assert (result.value, result.meta.hit, result.meta.stale, result.meta.tier) == ("v1", True, True, "memory")
    assert failing.calls == 1
    await cache.aclose()


async def test_stale_in_a_lower_tier_is_served_and_refreshed(
    memory: MemoryBackend, clock: ManualClock, policy: CachePolicy
) -> None:
    sqlite = MemoryBackend(max_entries=10, max_bytes=100_000, clock=clock)
    now = clock()
    data = Serializer().dumps(Entry("old", now, now + 10, now + 1000))
    await sqlite.set_many([Record("ns:k", data, now + 1000)])
    clock.advance(20)
    cache = TieredCache(memory, sqlite=sqlite, clock=clock)
    refresh = LoaderSpy("new")
    result = await cache.get_or_fetch("ns:k", refresh, policy)
    assert (result.value, result.meta.tier, result.meta.stale) == ("old", "sqlite", True)
    await _refresh_done(cache, "ns:k")
    assert refresh.calls == 1
    assert (await cache.get("ns:k")).value == "new"  # type: ignore[union-attr]
    assert Serializer().loads((await sqlite.get_many(["ns:k"]))["ns:k"]).value == "new"
    await cache.aclose()


async def test_aclose_cancels_background_refreshes(cache: TieredCache, clock: ManualClock, policy: CachePolicy) -> None:
    await cache.get_or_fetch("ns:k", LoaderSpy("v1"), policy)
    clock.advance(policy.fresh_ttl)
    hanging = LoaderSpy("v2", gate=asyncio.Event())
    await cache.get_or_fetch("ns:k", hanging, policy)
    await hanging.started.wait()
    assert cache.in_flight("ns:k")
    await cache.aclose()
    assert not cache.in_flight("ns:k")
    assert hanging.calls == 1
