"""A read whose load fails is a miss in the namespace statistics (hit rates stay honest)."""

from __future__ import annotations

import asyncio

import pytest

from cache.engine.tiered import TieredCache
from cache.policy import CachePolicy
from tests.support.faults import LoaderSpy


class UpstreamDown(Exception):
    pass


async def test_a_failed_load_counts_as_a_miss(cache: TieredCache, policy: CachePolicy) -> None:
    failing = LoaderSpy(error=UpstreamDown("503"))
    for _ in range(3):
        with pytest.raises(UpstreamDown):
            await cache.get_or_fetch("ns:k", failing, policy)
    await cache.get_or_fetch("ns:ok", LoaderSpy(1), policy)
    await cache.get_or_fetch("ns:ok", LoaderSpy(1), policy)
    counters = cache.stats.snapshot()["namespaces"]["ns"]
    assert (counters["hits"], counters["misses"]) == (1, 4)
    assert (counters["loader_calls"], counters["loader_errors"]) == (4, 3)
    assert counters["hit_rate"] == 0.2


async def test_callers_joining_a_failed_load_are_coalesced_misses(cache: TieredCache, policy: CachePolicy) -> None:
    gate = asyncio.Event()
    failing = LoaderSpy(error=UpstreamDown("503"), gate=gate)
    callers = [asyncio.create_task(cache.get_or_fetch("ns:k", failing, policy)) for _ in range(3)]
    await failing.started.wait()
    gate.set()
    outcomes = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(outcome, UpstreamDown) for outcome in outcomes)
    counters = cache.stats.snapshot()["namespaces"]["ns"]
    assert (counters["misses"], counters["coalesced"], counters["loader_calls"]) == (3, 2, 1)
