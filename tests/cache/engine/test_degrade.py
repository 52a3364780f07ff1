"""A failing or hanging tier is skipped and counted, never fails a request, and is retried after
``tier_recovery`` seconds of the (manual) clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cache.engine.tiered import TieredCache
from cache.policy import CachePolicy
from tests.support.clock import ManualClock
from tests.support.faults import LoaderSpy, Stack, fault_stack

RECOVERY = 5.0


@pytest.fixture
async def stack(clock: ManualClock) -> AsyncIterator[Stack]:
    async with fault_stack(clock, tier_timeout=0.05, tier_recovery=RECOVERY) as built:
        yield built


def _tier(cache: TieredCache, name: str) -> dict:
    return cache.stats.snapshot()["tiers"][name]


async def test_failing_tier_is_skipped_counted_and_retried_after_recovery(
    stack: Stack, clock: ManualClock, policy: CachePolicy
) -> None:
    stack.redis.mode = "fail"
    first = await stack.cache.get_or_fetch("ns:a", LoaderSpy("A"), policy)
    assert first.value == "A"
    assert "ns:a" in stack.sqlite.inner and "ns:a" not in stack.redis.inner
    assert _tier(stack.cache, "redis")["errors"] == 1
    assert stack.cache.tier_states()["redis"] == "open"

    calls_before = sum(stack.redis.calls.values())
    for key in ("ns:b", "ns:c"):
        assert (await stack.cache.get_or_fetch(key, LoaderSpy(key), policy)).value == key
    assert sum(stack.redis.calls.values()) == calls_before  # skipped outright: no call at all
    # The first request's write was already skipped; then a read and a write per request.
    assert _tier(stack.cache, "redis")["skips"] == 5

    stack.redis.mode = "ok"
    clock.advance(RECOVERY)
    assert stack.cache.tier_states()["redis"] == "half-open"
    await stack.cache.get_or_fetch("ns:d", LoaderSpy("D"), policy)
    assert stack.cache.tier_states()["redis"] == "closed"
    assert "ns:d" in stack.redis.inner  # used again


async def test_failed_probe_reopens_the_tier(stack: Stack, clock: ManualClock, policy: CachePolicy) -> None:
    stack.sqlite.mode = "fail"
    await stack.cache.get_or_fetch("ns:a", LoaderSpy("A"), policy)
    clock.advance(RECOVERY)
    await stack.cache.get_or_fetch("ns:b", LoaderSpy("B"), policy)  # probe fails
    assert _tier(stack.cache, "sqlite")["errors"] == 2
    assert stack.cache.tier_states()["sqlite"] == "open"
    clock.advance(RECOVERY - 1)
    await stack.cache.get_or_fetch("ns:c", LoaderSpy("C"), policy)
    assert _tier(stack.cache, "sqlite")["errors"] == 2  # still skipped


async def test_hanging_tier_times_out_once_then_is_skipped(stack: Stack, policy: CachePolicy) -> None:
    stack.redis.mode = "hang"
    result = await stack.cache.get_or_fetch("ns:a", LoaderSpy("A"), policy)
    assert result.value == "A" and result.meta.hit is False
    assert _tier(stack.cache, "redis")["timeouts"] == 1
    assert "ns:a" in stack.sqlite.inner
    again = await stack.cache.get_or_fetch("ns:b", LoaderSpy("B"), policy)
    assert again.value == "B"
    assert _tier(stack.cache, "redis")["timeouts"] == 1  # no second wait
    assert stack.redis.calls["get_many"] == 1


async def test_lower_tier_answers_when_the_one_above_is_down(
    stack: Stack, clock: ManualClock, policy: CachePolicy
) -> None:
    await stack.cache.get_or_fetch("ns:k", LoaderSpy("stored"), policy)
    await stack.cache.invalidate_keys("ns:k", tiers=("memory",))
    stack.redis.mode = "fail"
    loader = LoaderSpy("reloaded")
    result = await stack.cache.get_or_fetch("ns:k", loader, policy)
    assert (result.value, result.meta.tier) == ("stored", "sqlite")
    assert loader.calls == 0


async def test_every_lower_tier_down_still_answers_from_the_loader(stack: Stack, policy: CachePolicy) -> None:
    stack.redis.mode = stack.sqlite.mode = "fail"
    assert (await stack.cache.get_or_fetch("ns:k", LoaderSpy("v"), policy)).value == "v"
    assert (await stack.cache.get("ns:k")).meta.tier == "memory"  # type: ignore[union-attr]
    assert await stack.cache.get_many(["ns:x"]) == {}
    await stack.cache.set("ns:y", 1, policy)
    assert await stack.cache.ping() == {"memory": True, "redis": False, "sqlite": False}


async def test_invalidation_reports_a_failed_tier_as_none(stack: Stack, policy: CachePolicy) -> None:
    await stack.cache.set("ns:k", 1, policy)
    stack.redis.mode = "fail"
    counts = await stack.cache.invalidate_keys("ns:k")
    assert counts == {"memory": 1, "redis": None, "sqlite": 1}
