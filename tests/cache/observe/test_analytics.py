"""Analytics over a real cache: windows, time saved, efficiency, lower-tier hits, evictions."""

from __future__ import annotations

import orjson

from cache.backends.memory import MemoryBackend
from cache.coordination.shared_store import MemoryStore
from cache.coordination.tunables import Tunables
from cache.engine.tiered import TieredCache
from cache.observe.analytics import Analytics
from cache.policy import CachePolicy
from cache.warming.refresh_ahead import RefreshAhead
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory

POLICY = CachePolicy("trials", fresh_ttl=60.0, stale_ttl=600.0)


def timed_loader(clock: ManualClock, seconds: float, value: object = "v") -> object:
    async def load() -> object:
        clock.advance(seconds)  # the engine measures fetch cost on its clock
        return value

    return load


async def test_windows_hit_rates_time_saved_and_efficiency(cache: TieredCache, clock: ManualClock) -> None:
    analytics = Analytics(cache, clock=clock, windows=(60.0, 900.0), mark_every=60.0)
    await cache.get_or_fetch("trials:v1:a", timed_loader(clock, 2.0), POLICY)  # miss, 2 s load
    for _ in range(3):
        await cache.get_or_fetch("trials:v1:a", timed_loader(clock, 2.0), POLICY)  # hits: 3 x 2 s saved
    clock.advance(120)
    analytics.tick()
    await cache.get_or_fetch("quotes:v1:x", timed_loader(clock, 0.5), CachePolicy("quotes", 30, 30))
    for _ in range(4):
        await cache.get_or_fetch("quotes:v1:x", timed_loader(clock, 0.5), CachePolicy("quotes", 30, 30))
    clock.advance(61)

    recent, longer = analytics.window(60.0), analytics.window(900.0)
    assert set(recent.namespaces["quotes"].to_dict().items()) >= {("hits", 4), ("misses", 1), ("requests", 5)}
    assert recent.namespaces["trials"].requests == 0  # its traffic is older than the minute
    assert recent.covered == 61.5 and longer.covered == 183.5
    trials = longer.namespaces["trials"]
    assert (trials.hits, trials.misses, trials.hit_rate) == (3, 1, 0.75)
    assert (trials.time_saved, trials.load_seconds) == (6.0, 2.0)
    assert trials.efficiency == 0.75
    assert (trials.fresh_ttl, trials.max_fetch_cost) == (60.0, 2.0)
    assert longer.total.time_saved == 6.0 + 4 * 0.5
    assert longer.total.efficiency == (8.0 / (8.0 + 2.5))
    report = analytics.report()
    assert set(report["windows"]) == {"1m", "15m"}
    assert report["windows"]["15m"]["namespaces"]["trials"]["hit_rate"] == 0.75
    assert report["lifetime"]["hits"] == 7
    orjson.dumps(report)


async def test_a_young_process_reports_the_span_it_really_covered(cache: TieredCache, clock: ManualClock) -> None:
    analytics = Analytics(cache, clock=clock, windows=(3600.0,))
    clock.advance(300)
    assert analytics.window(3600.0).covered == 300.0


async def test_counter_resets_do_not_give_negative_windows(cache: TieredCache, clock: ManualClock) -> None:
    analytics = Analytics(cache, clock=clock, windows=(60.0,))
    for _ in range(5):
        await cache.get_or_fetch("trials:v1:a", timed_loader(clock, 0.1), POLICY)
    clock.advance(60)
    analytics.tick()
    cache.stats.reset()
    await cache.get_or_fetch("trials:v1:a", timed_loader(clock, 0.1), POLICY)
    clock.advance(61)
    assert analytics.window(60.0).namespaces["trials"].hits == 1


async def test_lower_tier_hits_and_time_saved_through_them_are_counted(
    clock: ManualClock, make_cache: CacheFactory
) -> None:
    lower = MemoryBackend(clock=clock)
    cache = make_cache(sqlite=lower)
    await cache.get_or_fetch("trials:v1:a", timed_loader(clock, 3.0), POLICY)
    await cache.invalidate_keys("trials:v1:a", tiers=("memory",))
    result = await cache.get_or_fetch("trials:v1:a", timed_loader(clock, 3.0), POLICY)
    assert result.meta.tier == "sqlite"
    counters = cache.stats.namespace_counters()["trials"]
    assert (counters.sqlite_hits, counters.redis_hits, counters.time_saved) == (1, 0, 3.0)
    await cache.aclose()


async def test_entries_evicted_and_asked_for_again_are_counted_but_invalidated_ones_are_not(
    clock: ManualClock,
    make_cache: CacheFactory,
) -> None:
    cache = make_cache(MemoryBackend(max_entries=2, clock=clock))
    for key in ("trials:v1:a", "trials:v1:b", "trials:v1:c"):  # "a" is evicted by "c"
        await cache.get_or_fetch(key, timed_loader(clock, 0.1), POLICY)
    await cache.get_or_fetch("trials:v1:a", timed_loader(clock, 0.1), POLICY)  # asked for again
    assert cache.stats.snapshot()["tiers"]["memory"]["evicted_refetched"] == 1
    await cache.invalidate_keys("trials:v1:c")
    await cache.get_or_fetch("trials:v1:c", timed_loader(clock, 0.1), POLICY)
    clock.advance(POLICY.stale_ttl)  # expired entries are not evictions either
    await cache.get_or_fetch("trials:v1:a", timed_loader(clock, 0.1), POLICY)
    assert cache.stats.snapshot()["tiers"]["memory"]["evicted_refetched"] == 1
    await cache.aclose()


async def test_refresh_ahead_counts_reach_the_windows(cache: TieredCache, clock: ManualClock) -> None:
    ahead = RefreshAhead(cache, Tunables(MemoryStore(), clock=clock), clock=clock)
    await ahead.attach()
    analytics = Analytics(cache, clock=clock, windows=(60.0,))
    await cache.set("trials:v1:a", "v", POLICY, fetch_cost=5.0)
    await cache.get_or_fetch("trials:v1:a", timed_loader(clock, 5.0), POLICY)
    clock.advance(54)  # due 5 x 1.25 + 0.25 s before the 60 s TTL ends
    assert await ahead.run_due() == 1
    await ahead.wait_idle()
    window = analytics.window(60.0)
    assert (window.refreshes, window.namespaces["trials"].refreshed_ahead) == (1, 1)
    assert analytics.facts().refresh_cutoff == 0.5
    await ahead.aclose()


async def test_values_too_large_for_memory_are_not_counted_as_evictions(
    clock: ManualClock, make_cache: CacheFactory
) -> None:
    cache = make_cache(MemoryBackend(max_bytes=200, clock=clock))
    for _ in range(2):
        await cache.get_or_fetch("trials:v1:big", timed_loader(clock, 0.1, "x" * 500), POLICY)
    assert cache.stats.namespace_counters()["trials"].misses == 2  # never stored in memory
    assert cache.stats.snapshot()["tiers"]["memory"]["evicted_refetched"] == 0
    await cache.aclose()
