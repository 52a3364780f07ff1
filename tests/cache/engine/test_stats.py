"""Statistics: counts per tier and per namespace, hit rates, latency samples, JSON-able."""

from __future__ import annotations

import orjson
import pytest

from cache.backends.memory import MemoryBackend
from cache.engine.stats import OTHER_NAMESPACE, CacheStats, Reservoir
from cache.engine.tiered import TieredCache
from cache.policy import CachePolicy
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory
from tests.support.faults import LoaderSpy


async def test_counts_hits_misses_and_loader_calls_per_namespace(cache: TieredCache, clock: ManualClock) -> None:
    trials = CachePolicy("trials", fresh_ttl=10, stale_ttl=100)
    quotes = CachePolicy("quotes", fresh_ttl=10, stale_ttl=10)
    for _ in range(3):
        await cache.get_or_fetch("trials:v1:a", LoaderSpy(1), trials)
    await cache.get_or_fetch("quotes:v1:x", LoaderSpy(2), quotes)
    await cache.get("quotes:v1:missing")
    clock.advance(10)
    await cache.get_or_fetch("trials:v1:a", LoaderSpy(1), trials)  # stale serve
    await cache.wait_idle()
    snapshot = cache.stats.snapshot()
    assert snapshot["namespaces"]["trials"] == {
        "hits": 3,
        "misses": 1,
        "stale_serves": 1,
        "stale_on_error": 0,
        "coalesced": 0,
        "loader_calls": 2,
        "loader_errors": 0,
        "hit_rate": 0.75,
    }
    assert snapshot["namespaces"]["quotes"]["misses"] == 2
    assert snapshot["totals"]["hits"] == 3 and snapshot["totals"]["misses"] == 3
    assert snapshot["totals"]["hit_rate"] == 0.5
    memory = snapshot["tiers"]["memory"]
    assert (memory["hits"], memory["misses"], memory["entries"]) == (3, 3, 2)
    assert memory["writes"] == 3
    orjson.dumps(snapshot)  # JSON-able


async def test_memory_evictions_and_lower_tier_latency_are_reported(
    clock: ManualClock, make_cache: CacheFactory
) -> None:
    memory = MemoryBackend(max_entries=2, max_bytes=1_000_000, clock=clock)
    sqlite = MemoryBackend(max_entries=100, max_bytes=1_000_000, clock=clock)
    cache = make_cache(memory, sqlite=sqlite)
    policy = CachePolicy("ns", fresh_ttl=60, stale_ttl=60)
    for index in range(5):
        await cache.get_or_fetch(f"ns:{index}", LoaderSpy(index), policy)
    snapshot = cache.stats.snapshot()["tiers"]
    assert snapshot["memory"]["evictions"] == 3
    assert snapshot["sqlite"]["misses"] == 5 and snapshot["sqlite"]["writes"] == 5
    assert snapshot["sqlite"]["latency_ms"]["samples"] == 5
    assert snapshot["sqlite"]["latency_ms"]["p50"] is not None
    assert snapshot["sqlite"]["state"] == "closed"
    await cache.aclose()


async def test_memory_latency_is_sampled(cache: TieredCache, policy: CachePolicy) -> None:
    for _ in range(128):
        await cache.get_or_fetch("ns:k", LoaderSpy(1), policy)
    assert cache.stats.snapshot()["tiers"]["memory"]["latency_ms"]["samples"] == 2


def test_namespaces_are_capped() -> None:
    stats = CacheStats(max_namespaces=2)
    for name in ("a", "b", "c", "d"):
        stats.for_key(f"{name}:key").hits += 1
    assert sorted(stats.snapshot()["namespaces"]) == [OTHER_NAMESPACE, "a", "b"]
    assert stats.snapshot()["namespaces"][OTHER_NAMESPACE]["hits"] == 2


def test_reservoir_keeps_the_latest_samples() -> None:
    reservoir = Reservoir(size=100)
    for value in range(1000):
        reservoir.add(float(value))
    assert reservoir.count == 1000
    assert reservoir.percentile(0.0) == 900.0
    assert reservoir.percentile(0.5) == pytest.approx(950, abs=1)
    assert reservoir.percentile(0.99) == 998.0
    assert Reservoir().percentile(0.5) is None


def test_reset_zeroes_counters_but_keeps_gauges() -> None:
    stats = CacheStats()
    stats.add_gauge("memory", "entries", lambda: 7)
    stats.tier("memory").hits += 4
    stats.for_key("ns:k").misses += 1
    stats.reset()
    snapshot = stats.snapshot()
    assert snapshot["tiers"]["memory"]["hits"] == 0 and snapshot["tiers"]["memory"]["entries"] == 7
    assert snapshot["namespaces"] == {} and snapshot["totals"]["hit_rate"] is None
