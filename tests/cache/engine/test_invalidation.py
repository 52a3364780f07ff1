"""Invalidation by key, tag, pattern, namespace and everything, on every tier, with hooks."""

from __future__ import annotations

import asyncio
from typing import NamedTuple

import pytest

from cache.backends.base import escape_glob
from cache.backends.memory import MemoryBackend
from cache.engine.invalidator import InvalidationEvent
from cache.engine.tiered import TieredCache
from cache.entry import Record
from cache.policy import CachePolicy
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory
from tests.support.faults import LoaderSpy

TAGGED = CachePolicy("trials", fresh_ttl=60, stale_ttl=600, tags_from=lambda v: v["ids"])


class Stack(NamedTuple):
    cache: TieredCache
    tiers: tuple[MemoryBackend, MemoryBackend, MemoryBackend]


@pytest.fixture
def stack(clock: ManualClock, make_cache: CacheFactory) -> Stack:
    tiers = tuple(MemoryBackend(max_entries=100, max_bytes=1_000_000, clock=clock) for _ in range(3))
    cache = make_cache(tiers[0], redis=tiers[1], sqlite=tiers[2])
    return Stack(cache, tiers)  # type: ignore[arg-type]


def _everywhere(stack: Stack, key: str) -> list[bool]:
    return [key in tier for tier in stack.tiers]


async def test_by_keys(stack: Stack, policy: CachePolicy) -> None:
    await stack.cache.set_many([("ns:a", 1), ("ns:b", 2)], policy)
    counts = await stack.cache.invalidate_keys("ns:a", "ns:missing")
    assert counts == {"memory": 1, "redis": 1, "sqlite": 1}
    assert _everywhere(stack, "ns:a") == [False] * 3
    assert _everywhere(stack, "ns:b") == [True] * 3


async def test_by_tags(stack: Stack) -> None:
    await stack.cache.set("trials:s1", {"ids": ["NCT1", "NCT2"]}, TAGGED)
    await stack.cache.set("trials:s2", {"ids": ["NCT3"]}, TAGGED)
    await stack.cache.set("trials:s3", {"ids": ["NCT2"]}, TAGGED)
    counts = await stack.cache.invalidate_tags("NCT2")
    assert counts == {"memory": 2, "redis": 2, "sqlite": 2}
    assert await stack.cache.get("trials:s1") is None and await stack.cache.get("trials:s3") is None
    assert (await stack.cache.get("trials:s2")).value == {"ids": ["NCT3"]}  # type: ignore[union-attr]


async def test_by_pattern_with_escaped_literals_never_widens(stack: Stack, policy: CachePolicy) -> None:
    keys = ["ns:a*", "ns:ab", "ns:a?", "ns:a[b]", "ns:ab]", "ns:a%_", "ns:a%x"]
    await stack.cache.set_many([(k, k) for k in keys], policy)
    for literal in ("ns:a*", "ns:a?", "ns:a[b]", "ns:a%_"):
        counts = await stack.cache.invalidate_pattern(escape_glob(literal))
        assert counts == {"memory": 1, "redis": 1, "sqlite": 1}, literal
    assert sorted(await stack.tiers[2].match("*")) == ["ns:a%x", "ns:ab", "ns:ab]"]
    counts = await stack.cache.invalidate_pattern("ns:a?")  # an unescaped glob does widen
    assert counts == {"memory": 1, "redis": 1, "sqlite": 1}  # ns:ab
    counts = await stack.cache.invalidate_pattern("ns:a*")
    assert counts == {"memory": 2, "redis": 2, "sqlite": 2}


async def test_by_namespace_leaves_other_namespaces(stack: Stack, policy: CachePolicy) -> None:
    other = CachePolicy("nsx", fresh_ttl=60, stale_ttl=60)
    await stack.cache.set_many([("ns:v1:a", 1), ("ns:v2:b", 2)], policy)
    await stack.cache.set("nsx:v1:c", 3, other)
    counts = await stack.cache.invalidate_namespace("ns")
    assert counts == {"memory": 2, "redis": 2, "sqlite": 2}
    assert _everywhere(stack, "nsx:v1:c") == [True] * 3
    with pytest.raises(ValueError):
        await stack.cache.invalidate_namespace("Bad*")


async def test_clear_empties_every_tier_and_counts_what_each_removed(
    stack: Stack, policy: CachePolicy, clock: ManualClock
) -> None:
    await stack.cache.set_many([("ns:a", 1), ("ns:b", 2)], policy)
    await stack.tiers[2].set_many([Record("ns:only-below", b"x", clock() + 60)])
    assert await stack.cache.clear() == {"memory": 2, "redis": 2, "sqlite": 3}
    assert [len(tier) for tier in stack.tiers] == [0, 0, 0]


BLANK_SELECTORS = [
    ("invalidate_keys", ("",)),
    ("invalidate_keys", ("ns:a", " ")),
    ("invalidate_keys", ()),
    ("invalidate_tags", ("\t",)),
    ("invalidate_tags", ()),
    ("invalidate_pattern", ("",)),
    ("invalidate_pattern", ("   ",)),
    ("invalidate_namespace", ("",)),
    ("invalidate_namespace", (" ",)),
]


@pytest.mark.parametrize(("method", "args"), BLANK_SELECTORS)
async def test_blank_selectors_are_refused_and_remove_nothing(
    stack: Stack, policy: CachePolicy, method: str, args: tuple[str, ...]
) -> None:
    seen: list[InvalidationEvent] = []
    stack.cache.subscribe_invalidations(seen.append)
    await stack.cache.set_many([("ns:a", 1), ("", 2)], policy)
    with pytest.raises(ValueError, match="empty"):
        await getattr(stack.cache, method)(*args)
    assert _everywhere(stack, "ns:a") == [True] * 3 and _everywhere(stack, "") == [True] * 3
    assert seen == []


async def test_a_malformed_glob_is_the_callers_error_not_a_tier_failure(stack: Stack, policy: CachePolicy) -> None:
    await stack.cache.set("ns:b", 1, policy)
    with pytest.raises(ValueError, match="reversed"):
        await stack.cache.invalidate_pattern("ns:[z-a]", tiers=("sqlite",))
    assert stack.cache.tier_states() == {"redis": "closed", "sqlite": "closed"}
    assert _everywhere(stack, "ns:b") == [True] * 3


@pytest.mark.parametrize("kind", ["keys", "tags", "pattern", "namespace"])
@pytest.mark.parametrize("value", [(), ("",), (" ",)])
def test_events_refuse_blank_selectors(kind: str, value: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="empty"):
        InvalidationEvent(kind, value)  # type: ignore[arg-type]


async def test_limited_to_some_tiers(stack: Stack, policy: CachePolicy) -> None:
    await stack.cache.set("ns:a", 1, policy)
    assert await stack.cache.invalidate_keys("ns:a", tiers=("memory",)) == {"memory": 1}
    assert _everywhere(stack, "ns:a") == [False, True, True]


async def test_hooks_receive_events_sync_and_async_and_failures_are_contained(stack: Stack) -> None:
    seen: list[InvalidationEvent] = []

    async def async_hook(event: InvalidationEvent) -> None:
        seen.append(event)

    def broken_hook(event: InvalidationEvent) -> None:
        raise RuntimeError("publisher down")

    for hook in (seen.append, broken_hook, async_hook):
        stack.cache.subscribe_invalidations(hook)
    await stack.cache.invalidate_tags("t1", "t2")
    await stack.cache.invalidate_namespace("ns")
    await stack.cache.clear()
    await stack.cache.invalidate_keys("k", notify=False)
    assert seen == [
        InvalidationEvent("tags", ("t1", "t2")),
        InvalidationEvent("tags", ("t1", "t2")),
        InvalidationEvent("namespace", ("ns",)),
        InvalidationEvent("namespace", ("ns",)),
        InvalidationEvent("clear"),
        InvalidationEvent("clear"),
    ]


async def test_apply_event_touches_memory_only_and_does_not_notify(stack: Stack, policy: CachePolicy) -> None:
    seen: list[InvalidationEvent] = []
    stack.cache.subscribe_invalidations(seen.append)
    await stack.cache.set("ns:a", 1, policy)
    await stack.cache.apply_event(InvalidationEvent("keys", ("ns:a",)))
    assert _everywhere(stack, "ns:a") == [False, True, True]
    assert seen == []
    with pytest.raises(ValueError):
        InvalidationEvent("everything")  # type: ignore[arg-type]


async def test_load_running_across_an_invalidation_does_not_store_its_value(stack: Stack, policy: CachePolicy) -> None:
    gate = asyncio.Event()
    loader = LoaderSpy("old-data", gate=gate)
    task = asyncio.create_task(stack.cache.get_or_fetch("ns:k", loader, policy))
    await loader.started.wait()
    await stack.cache.invalidate_namespace("ns")
    gate.set()
    assert (await task).value == "old-data"  # the caller still gets its answer
    assert _everywhere(stack, "ns:k") == [False] * 3
