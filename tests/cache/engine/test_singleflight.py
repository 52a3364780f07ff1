"""Single-flight: one loader run per key for concurrent callers, shielded from cancellation."""

from __future__ import annotations

import asyncio

import pytest

from cache.engine.singleflight import SingleFlight
from cache.engine.tiered import TieredCache
from cache.policy import CachePolicy
from tests.support.faults import LoaderSpy


async def test_a_thousand_concurrent_misses_run_the_loader_once(cache: TieredCache, policy: CachePolicy) -> None:
    gate = asyncio.Event()
    loader = LoaderSpy({"v": 42}, gate=gate)
    tasks = [asyncio.create_task(cache.get_or_fetch("ns:cold", loader, policy)) for _ in range(1000)]
    await loader.started.wait()
    gate.set()
    results = await asyncio.gather(*tasks)
    assert loader.calls == 1
    assert all(r.value == {"v": 42} and r.meta.hit is False for r in results)
    counters = cache.stats.snapshot()["namespaces"]["ns"]
    assert (counters["misses"], counters["coalesced"], counters["loader_calls"]) == (1000, 999, 1)


async def test_cancelling_some_waiters_does_not_cancel_the_fetch(cache: TieredCache, policy: CachePolicy) -> None:
    gate = asyncio.Event()
    loader = LoaderSpy("value", gate=gate)
    tasks = [asyncio.create_task(cache.get_or_fetch("ns:k", loader, policy)) for _ in range(100)]
    await loader.started.wait()
    for task in tasks[:10]:
        task.cancel()
    await asyncio.gather(*tasks[:10], return_exceptions=True)
    gate.set()
    results = await asyncio.gather(*tasks[10:])
    assert all(task.cancelled() for task in tasks[:10])
    assert [r.value for r in results] == ["value"] * 90
    assert loader.calls == 1
    assert (await cache.get("ns:k")).value == "value"  # type: ignore[union-attr]


async def test_cancelling_every_waiter_still_lets_the_fetch_finish_and_fill_the_cache(
    cache: TieredCache, policy: CachePolicy
) -> None:
    gate = asyncio.Event()
    loader = LoaderSpy("value", gate=gate)
    task = asyncio.create_task(cache.get_or_fetch("ns:k", loader, policy))
    await loader.started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    gate.set()
    later = await cache.get_or_fetch("ns:k", LoaderSpy("other"), policy)
    # Either the shared fetch already stored it, or the new caller joined that same fetch.
    assert later.value == "value"
    assert loader.calls == 1


async def test_loader_error_reaches_every_waiter_and_is_not_cached(cache: TieredCache, policy: CachePolicy) -> None:
    gate = asyncio.Event()
    failing = LoaderSpy(error=RuntimeError("upstream down"), gate=gate)
    tasks = [asyncio.create_task(cache.get_or_fetch("ns:k", failing, policy)) for _ in range(20)]
    await failing.started.wait()
    gate.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(o, RuntimeError) and str(o) == "upstream down" for o in outcomes)
    assert failing.calls == 1
    assert await cache.get("ns:k") is None
    ok = LoaderSpy("fine")
    assert (await cache.get_or_fetch("ns:k", ok, policy)).value == "fine"
    assert ok.calls == 1
    counters = cache.stats.snapshot()["namespaces"]["ns"]
    assert (counters["loader_calls"], counters["loader_errors"]) == (2, 1)


async def test_different_keys_do_not_share_a_flight(cache: TieredCache, policy: CachePolicy) -> None:
    gate = asyncio.Event()
    loader = LoaderSpy("v", gate=gate)
    tasks = [asyncio.create_task(cache.get_or_fetch(f"ns:{i}", loader, policy)) for i in range(5)]
    await loader.started.wait()
    gate.set()
    await asyncio.gather(*tasks)
    assert loader.calls == 5


async def test_singleflight_frees_the_key_and_closes_running_calls() -> None:
    flight: SingleFlight[str] = SingleFlight()
    gate = asyncio.Event()

    async def call() -> str:
        await gate.wait()
        return "done"

    first, started = flight.start("k", call)
    second, started_again = flight.start("k", call)
    assert started and not started_again and first is second and flight.running("k")
    gate.set()
    assert await flight.do("k", call) == "done"
    assert not flight.running("k") and len(flight) == 0

    never = asyncio.Event()

    async def hang() -> str:
        await never.wait()
        return "never"

    task, _ = flight.start("h", hang)
    await flight.aclose()
    assert task.cancelled()
