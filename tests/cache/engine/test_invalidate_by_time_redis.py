"""Time-based invalidation with a Redis tier: age read from entry headers (compressed ones too),
"unused" leaves Redis out, and the event reaches another engine's memory tier."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from cache.backends.redis import RedisBackend
from cache.coordination.events import EventBus
from cache.engine.tiered import TieredCache
from cache.policy import CachePolicy
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory, build_engine

pytestmark = pytest.mark.redis

TRIALS = CachePolicy("trials", fresh_ttl=3600, stale_ttl=86_400)
QUOTES = CachePolicy("quotes", fresh_ttl=3600, stale_ttl=86_400)
BIG = {"text": "".join(f"{i:08x}" for i in range(5000))}  # ~40 KB: stored zlib-compressed


def engine(url: str, clock: ManualClock, build: Callable[..., TieredCache] = build_engine) -> TieredCache:
    redis = RedisBackend.from_url(url, clock=clock, socket_timeout=5.0, connect_timeout=5.0)
    return build(redis=redis, clock=clock, tier_timeout=5.0)


@pytest.fixture
def cache(redis_url: str, clock: ManualClock, make_cache: CacheFactory) -> TieredCache:
    return engine(redis_url, clock, make_cache)


async def redis_keys(cache: TieredCache) -> list[str]:
    assert cache.redis is not None
    return sorted(await cache.redis.match("*"))


async def test_older_than_reads_creation_times_from_headers(cache: TieredCache, clock: ManualClock) -> None:
    await cache.set("trials:v1:old", 1, TRIALS)
    await cache.set("trials:v1:old-big", BIG, TRIALS)
    await cache.set("quotes:v1:old", 2, QUOTES)
    assert cache.redis is not None
    await cache.redis.client.set(cache.redis.key("trials:v1:foreign"), b"\x01not an entry")
    clock.advance(1000)
    await cache.set("trials:v1:new", BIG, TRIALS)
    counts = await cache.invalidate_older_than(500, "trials")
    assert counts == {"memory": 2, "redis": 2}
    assert await redis_keys(cache) == ["quotes:v1:old", "trials:v1:foreign", "trials:v1:new"]
    assert await cache.invalidate_older_than(500) == {"memory": 1, "redis": 1}  # quotes too now


async def test_unused_skips_redis(cache: TieredCache, clock: ManualClock) -> None:
    await cache.set("trials:v1:a", 1, TRIALS)
    await cache.invalidate_unused(60)  # the memory tier's first watermark
    clock.advance(120)
    assert await cache.invalidate_unused(60) == {"memory": 1}
    assert await redis_keys(cache) == ["trials:v1:a"]


async def test_another_engine_drops_its_old_memory_entries(redis_url: str, clock: ManualClock) -> None:
    sender, receiver = engine(redis_url, clock), engine(redis_url, clock)
    buses = [
        EventBus(
            e.redis.client,
            "test:time-events",
            e,
            instance_id=name,
            clock=clock,  # type: ignore[union-attr]
            reconnect_backoff=(0.01, 0.2),
            poll_interval=0.5,
        )
        for e, name in ((sender, "sender"), (receiver, "receiver"))
    ]
    try:
        for bus in buses:
            await bus.start()
            await bus.wait_connected()
        await receiver.set("trials:v1:old", 1, TRIALS)
        clock.advance(1000)
        await receiver.set("trials:v1:new", 2, TRIALS)
        await sender.invalidate_older_than(500, tiers=("memory",))
        await buses[1].wait_until(lambda: buses[1].received >= 1)
        assert receiver.memory.match_now("*") == ["trials:v1:new"]
    finally:
        for bus in buses:
            await bus.aclose()
        await sender.aclose()
        await receiver.aclose()


async def test_heads_reads_only_the_first_bytes(redis_url: str, clock: ManualClock) -> None:
    backend = RedisBackend(Redis.from_url(redis_url), clock=clock)
    try:
        await backend.client.set(backend.key("a"), b"0123456789")
        assert await backend.heads(["a", "missing"], 4) == {"a": b"0123"}
        assert await backend.heads([], 4) == {}
    finally:
        await backend.aclose()
