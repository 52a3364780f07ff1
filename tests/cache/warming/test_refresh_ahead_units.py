"""Refresh-ahead mechanics with a manual clock: tracking, due times, drops, failures, bounds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from cache.backends.memory import MemoryBackend
from cache.coordination.shared_store import MemoryStore
from cache.coordination.tunables import COST_CUTOFF, Tunables
from cache.engine.tiered import TieredCache
from cache.policy import CachePolicy
from cache.serialization import Serializer
from cache.warming.refresh_ahead import RefreshAhead
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory
from tests.support.faults import LoaderSpy

POLICY = CachePolicy("ns", fresh_ttl=10.0, stale_ttl=100.0)


@pytest.fixture
def tunables(clock: ManualClock) -> Tunables:
    return Tunables(MemoryStore(), clock=clock, max_age=0.0, defaults={COST_CUTOFF: 0.5})


@pytest.fixture
async def ahead(cache: TieredCache, tunables: Tunables, clock: ManualClock) -> AsyncIterator[RefreshAhead]:
    refresher = RefreshAhead(cache, tunables, clock=clock, window=60.0, concurrency=2)
    await refresher.attach()
    yield refresher
    await refresher.aclose()


async def _hot(cache: TieredCache, key: str, cost: float, loader: LoaderSpy, policy: CachePolicy = POLICY) -> None:
    """Store ``key`` as if its loader took ``cost`` seconds, then hit it once."""
    await cache.set(key, "v0", policy, fetch_cost=cost)
    assert (await cache.get_or_fetch(key, loader, policy)).meta.hit


async def test_only_hits_on_entries_above_the_cutoff_are_tracked(cache: TieredCache, ahead: RefreshAhead) -> None:
    await _hot(cache, "ns:cheap", 0.5, LoaderSpy("x"))  # equal to the cutoff: not above it
    await _hot(cache, "ns:dear", 0.6, LoaderSpy("y"))
    await _hot(cache, "ns:dear", 0.6, LoaderSpy("y"))
    assert [(h.key, h.hits) for h in ahead.hot_keys()] == [("ns:dear", 2)]


async def test_a_due_key_is_recomputed_once_into_every_tier(
    clock: ManualClock, tunables: Tunables, make_cache: CacheFactory
) -> None:
    lower = MemoryBackend(max_entries=10, max_bytes=100_000, clock=clock)
    cache = make_cache(sqlite=lower)
    ahead = RefreshAhead(cache, tunables, clock=clock, lead_margin=0.25, lead_ratio=0.25)
    await ahead.attach()
    loader = LoaderSpy("v1")
    await _hot(cache, "ns:k", 2.0, loader)
    due = clock() + 10.0 - (2.0 * 1.25 + 0.25)
    clock.set(due - 0.01)
    assert await ahead.run_due() == 0 and ahead.next_due == pytest.approx(due)
    clock.set(due)
    assert await ahead.run_due() == 1
    await ahead.wait_idle()
    assert loader.calls == 1
    assert (await cache.get_or_fetch("ns:k", loader, POLICY)).value == "v1"
    assert Serializer().loads((await lower.get_many(["ns:k"]))["ns:k"]).value == "v1"
    assert ahead.snapshot()["refreshed"] == 1
    assert cache.stats.namespace_counters()["ns"].refreshed_ahead == 1
    assert await ahead.run_due() == 0  # the new entry is not due yet
    await ahead.aclose()
    await cache.aclose()


async def test_callers_arriving_during_a_refresh_share_it(
    cache: TieredCache, ahead: RefreshAhead, clock: ManualClock
) -> None:
    gate = asyncio.Event()
    loader = LoaderSpy("new", gate=gate)
    await _hot(cache, "ns:k", 1.0, loader)
    clock.advance(9.0)
    assert await ahead.run_due() == 1
    await loader.started.wait()
    clock.advance(1.5)  # the old entry turned stale while the refresh still runs
    served = await cache.get_or_fetch("ns:k", LoaderSpy("other"), POLICY)
    assert (served.value, served.meta.stale) == ("v0", True)  # stale serve joins the running load
    gate.set()
    await ahead.wait_idle()
    await cache.wait_idle()
    assert loader.calls == 1
    assert (await cache.get_or_fetch("ns:k", loader, POLICY)).value == "new"


async def test_cold_gone_and_cheap_keys_are_dropped(
    cache: TieredCache, ahead: RefreshAhead, tunables: Tunables, clock: ManualClock
) -> None:
    await _hot(cache, "ns:cold", 1.0, LoaderSpy())
    clock.advance(61.0)
    await _hot(cache, "ns:gone", 1.0, LoaderSpy())
    await _hot(cache, "ns:cheap", 1.0, LoaderSpy())
    await cache.invalidate_keys("ns:gone")
    await tunables.set_cost_cutoff(0.5)
    await cache.set("ns:cheap", "v0", POLICY, fetch_cost=0.2)  # its cost fell under the cutoff
    assert await ahead.run_due() == 0
    counts = ahead.snapshot()
    assert (counts["skipped_cold"], counts["skipped_gone"], counts["skipped_cheap"]) == (1, 1, 1)
    assert counts["tracked"] == 0


async def test_raising_the_cutoff_stops_tracking_and_refreshing(
    cache: TieredCache, ahead: RefreshAhead, tunables: Tunables, clock: ManualClock
) -> None:
    loader = LoaderSpy("v1")
    await _hot(cache, "ns:k", 1.0, loader)
    await tunables.set_cost_cutoff(5.0)
    clock.advance(9.5)
    assert await ahead.run_due() == 0
    assert ahead.cutoff == 5.0
    await cache.get_or_fetch("ns:k", loader, POLICY)
    assert ahead.snapshot()["tracked"] == 0 and loader.calls == 0


async def test_a_failed_refresh_is_counted_and_not_retried_for_the_same_entry(
    cache: TieredCache, ahead: RefreshAhead, clock: ManualClock
) -> None:
    failing = LoaderSpy(error=RuntimeError("upstream down"))
    await _hot(cache, "ns:k", 1.0, failing)
    clock.advance(9.0)
    assert await ahead.run_due() == 1
    await ahead.wait_idle()
    clock.advance(0.5)
    assert await ahead.run_due() == 0
    assert failing.calls == 1
    assert ahead.snapshot()["failed"] == 1
    assert (await cache.get_or_fetch("ns:k", failing, POLICY)).value == "v0"  # still served


async def test_refreshes_run_at_most_concurrency_at_once(
    cache: TieredCache, ahead: RefreshAhead, clock: ManualClock
) -> None:
    gate, two_running = asyncio.Event(), asyncio.Event()
    running, peak = 0, 0

    async def loader() -> str:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 2:
            two_running.set()
        await gate.wait()
        running -= 1
        return "new"

    for index in range(6):
        await cache.set(f"ns:{index}", "v0", POLICY, fetch_cost=1.0)
        await cache.get_or_fetch(f"ns:{index}", loader, POLICY)
    clock.advance(9.0)
    assert await ahead.run_due() == 6
    async with asyncio.timeout(5):
        await two_running.wait()
    gate.set()
    await ahead.wait_idle()
    assert peak == 2
    assert ahead.snapshot()["refreshed"] == 6


def test_the_refresh_starts_a_cost_plus_margin_before_staleness_but_not_in_the_first_half(
    cache: TieredCache, tunables: Tunables, clock: ManualClock
) -> None:
    ahead = RefreshAhead(cache, tunables, clock=clock, lead_margin=0.25, lead_ratio=0.0)
    assert ahead.due_at(100.0, 110.0, 2.0) == 110.0 - 2.25
    assert ahead.due_at(100.0, 101.0, 5.0) == 100.5  # TTL shorter than the loader


async def test_counters_appear_in_the_cache_statistics_while_attached(cache: TieredCache, tunables: Tunables) -> None:
    ahead = RefreshAhead(cache, tunables)
    assert "refresh_ahead" not in cache.stats.snapshot()
    await ahead.attach()
    assert cache.stats.snapshot()["refresh_ahead"]["cutoff"] == 0.5
    await ahead.aclose()
    assert "refresh_ahead" not in cache.stats.snapshot()
    await _hot(cache, "ns:k", 9.0, LoaderSpy())
    assert ahead.hot_keys() == []  # detached: hits are no longer reported
