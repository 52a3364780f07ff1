"""Read-through order, promotion, writes to every tier, get / get_many / set / set_many."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cache.backends.memory import MemoryBackend
from cache.engine.tiered import TieredCache
from cache.entry import Entry, Record
from cache.policy import CachePolicy
from cache.serialization import Serializer
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory
from tests.support.faults import LoaderSpy, Stack, fault_stack


@pytest.fixture
async def stack(clock: ManualClock) -> AsyncIterator[Stack]:
    async with fault_stack(clock) as built:
        yield built


async def _store(
    backend: MemoryBackend,
    key: str,
    value: object,
    clock: ManualClock,
    fresh: float = 60,
    stale: float = 600,
    tags: tuple[str, ...] = (),
) -> bytes:
    now = clock()
    data = Serializer().dumps(Entry(value, now, now + fresh, now + stale, tags))
    await backend.set_many([Record(key, data, now + stale, tags)])
    return data


async def test_miss_everywhere_loads_and_writes_every_tier(stack: Stack, policy: CachePolicy) -> None:
    loader = LoaderSpy({"v": 1})
    result = await stack.cache.get_or_fetch("ns:k", loader, policy)
    assert result.value == {"v": 1}
    assert (result.meta.hit, result.meta.tier, result.meta.stale) == (False, None, False)
    assert loader.calls == 1
    for backend in (stack.memory, stack.redis.inner, stack.sqlite.inner):
        assert "ns:k" in backend
    again = await stack.cache.get_or_fetch("ns:k", loader, policy)
    assert (again.meta.hit, again.meta.tier) == (True, "memory")
    assert loader.calls == 1


async def test_order_is_memory_then_redis_then_sqlite(stack: Stack, clock: ManualClock, policy: CachePolicy) -> None:
    await _store(stack.redis.inner, "ns:k", "from-redis", clock)
    await _store(stack.sqlite.inner, "ns:k", "from-sqlite", clock)
    result = await stack.cache.get_or_fetch("ns:k", LoaderSpy("loaded"), policy)
    assert (result.value, result.meta.tier) == ("from-redis", "redis")
    assert stack.sqlite.calls["get_many"] == 0  # found above it


async def test_sqlite_hit_is_promoted_to_redis_and_memory_with_original_times(
    stack: Stack, clock: ManualClock, policy: CachePolicy
) -> None:
    created = clock()
    data = await _store(stack.sqlite.inner, "ns:k", {"x": 1}, clock, fresh=100, stale=1000, tags=("tag",))
    clock.advance(30)
    loader = LoaderSpy("loaded")
    result = await stack.cache.get_or_fetch("ns:k", loader, policy)
    assert (result.value, result.meta.tier, result.meta.age, result.meta.stale) == ({"x": 1}, "sqlite", 30.0, False)
    assert loader.calls == 0
    assert await stack.redis.inner.get_many(["ns:k"]) == {"ns:k": data}  # same bytes, same times
    promoted = stack.memory.get_entry("ns:k", clock())
    assert promoted is not None
    assert (promoted.created_at, promoted.fresh_until, promoted.stale_until) == (created, created + 100, created + 1000)
    assert await stack.redis.inner.tagged(["tag"]) == ["ns:k"]
    hit = await stack.cache.get_or_fetch("ns:k", loader, policy)
    assert hit.meta.tier == "memory"


async def test_corrupt_bytes_in_a_tier_are_a_counted_miss(stack: Stack, policy: CachePolicy) -> None:
    await stack.redis.inner.set_many([Record("ns:k", b"\x09garbage", 2e9)])
    result = await stack.cache.get_or_fetch("ns:k", LoaderSpy("loaded"), policy)
    assert result.value == "loaded" and result.meta.hit is False
    assert stack.cache.stats.snapshot()["tiers"]["redis"]["decode_errors"] == 1


async def test_expired_lower_tier_entries_are_misses(
    stack: Stack, clock: ManualClock, policy: CachePolicy, make_cache: CacheFactory
) -> None:
    class NoExpiry(MemoryBackend):  # a tier that forgot to expire: the engine still checks
        async def get_many(self, keys: object) -> dict[str, bytes]:
            return {k: v.data for k, v in self._items.items() if k in keys}  # type: ignore[operator]

    lazy = NoExpiry(max_entries=10, max_bytes=100_000, clock=clock)
    cache = make_cache(MemoryBackend(10, 100_000, clock), sqlite=lazy)
    await _store(lazy, "ns:k", "old", clock, fresh=1, stale=2)
    clock.advance(5)
    assert await cache.get("ns:k") is None
    assert (await cache.get_or_fetch("ns:k", LoaderSpy("new"), policy)).value == "new"
    await cache.aclose()


async def test_get_never_loads_and_flags_stale(stack: Stack, clock: ManualClock, policy: CachePolicy) -> None:
    assert await stack.cache.get("ns:none") is None
    await stack.cache.set("ns:k", [1, 2], policy)
    fresh = await stack.cache.get("ns:k")
    assert fresh is not None and fresh.value == [1, 2] and fresh.meta.stale is False
    clock.advance(policy.fresh_ttl)
    stale = await stack.cache.get("ns:k")
    assert stale is not None and stale.meta.stale is True and stale.meta.age == policy.fresh_ttl
    clock.advance(policy.stale_ttl)
    assert await stack.cache.get("ns:k") is None


async def test_get_many_uses_one_batch_per_tier_and_promotes(stack: Stack, clock: ManualClock) -> None:
    policy = CachePolicy("q", fresh_ttl=60, stale_ttl=60)
    await stack.cache.set("q:a", "A", policy)  # everywhere
    await _store(stack.redis.inner, "q:b", "B", clock)
    await _store(stack.sqlite.inner, "q:c", "C", clock)
    stack.redis.calls.clear()
    stack.sqlite.calls.clear()
    results = await stack.cache.get_many(["q:a", "q:b", "q:c", "q:d", "q:a"])
    assert {k: r.value for k, r in results.items()} == {"q:a": "A", "q:b": "B", "q:c": "C"}
    assert {k: r.meta.tier for k, r in results.items()} == {"q:a": "memory", "q:b": "redis", "q:c": "sqlite"}
    assert stack.redis.calls["get_many"] == 1 and stack.sqlite.calls["get_many"] == 1
    assert "q:c" in stack.redis.inner and "q:b" in stack.memory and "q:c" in stack.memory
    assert stack.cache.stats.snapshot()["namespaces"]["q"]["misses"] == 1


async def test_set_many_writes_one_batch_per_tier_with_tags(stack: Stack) -> None:
    policy = CachePolicy("q", fresh_ttl=60, stale_ttl=120, tags=("fixed",), tags_from=lambda v: [f"sym:{v['s']}"])
    stack.redis.calls.clear()
    await stack.cache.set_many([("q:1", {"s": "2330"}), ("q:2", {"s": "6488"})], policy)
    assert stack.redis.calls["set_many"] == 1 and stack.sqlite.calls["set_many"] == 1
    assert sorted(await stack.sqlite.inner.tagged(["fixed"])) == ["q:1", "q:2"]
    assert await stack.redis.inner.tagged(["sym:6488"]) == ["q:2"]


async def test_values_come_back_the_same_from_every_tier(stack: Stack, policy: CachePolicy) -> None:
    loaded = await stack.cache.get_or_fetch("ns:k", LoaderSpy({"t": (1, 2)}), policy)
    from_memory = await stack.cache.get("ns:k")
    await stack.cache.invalidate_keys("ns:k", tiers=("memory",))
    from_redis = await stack.cache.get("ns:k")
    assert from_memory is not None and from_redis is not None
    assert loaded.value == from_memory.value == from_redis.value == {"t": [1, 2]}
    assert from_redis.meta.tier == "redis"


async def test_unserializable_value_raises_type_error_and_is_not_cached(
    cache: TieredCache, policy: CachePolicy
) -> None:
    with pytest.raises(TypeError, match="'ns'"):
        await cache.get_or_fetch("ns:k", LoaderSpy(object()), policy)
    assert await cache.get("ns:k") is None


async def test_tiers_ping_and_aclose(stack: Stack) -> None:
    assert stack.cache.tiers() == ["memory", "redis", "sqlite"]
    assert await stack.cache.ping() == {"memory": True, "redis": True, "sqlite": True}
    stack.sqlite.mode = "fail"
    assert (await stack.cache.ping())["sqlite"] is False
    await stack.cache.aclose()
    await stack.cache.aclose()
    assert stack.redis.calls["aclose"] == 1 and stack.sqlite.calls["aclose"] == 1


async def test_every_answer_says_how_long_it_stays_fresh(
    make_cache: CacheFactory, clock: ManualClock, policy: CachePolicy
) -> None:
    sqlite = MemoryBackend(clock=clock)
    cache = make_cache(sqlite=sqlite)

    async def loader() -> str:
        return "v"

    loaded = await cache.get_or_fetch("k", loader, policy)
    assert (loaded.meta.hit, loaded.meta.fresh_for) == (False, 60.0)
    clock.advance(20)
    assert (await cache.get_or_fetch("k", loader, policy)).meta.fresh_for == 40.0  # memory
    await _store(sqlite, "lower", "w", clock, fresh=30)
    lower = await cache.get_or_fetch("lower", loader, policy)
    assert (lower.meta.tier, lower.meta.fresh_for) == ("sqlite", 30.0)
    clock.advance(45)
    stale = await cache.get_or_fetch("k", loader, policy)
    assert (stale.meta.stale, stale.meta.fresh_for) == (True, 0.0)
