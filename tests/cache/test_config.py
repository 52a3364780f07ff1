"""build_cache: tiers from configuration, a real SQLite file across restarts, Redis down at start."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from pydantic import ValidationError

from cache import EngineConfig, RedisConfig, SqliteConfig, build_cache
from cache.policy import CachePolicy
from tests.support.clock import ManualClock
from tests.support.faults import LoaderSpy

POLICY = CachePolicy("ns", fresh_ttl=60, stale_ttl=600)


async def test_memory_only_by_default(clock: ManualClock) -> None:
    cache = await build_cache(EngineConfig(memory_max_entries=5), clock=clock)
    try:
        assert cache.tiers() == ["memory"]
        assert cache.memory.max_entries == 5
        assert (await cache.get_or_fetch("ns:k", LoaderSpy(1), POLICY)).value == 1
    finally:
        await cache.aclose()


async def test_bad_serializer_is_refused() -> None:
    with pytest.raises(ValueError, match="serializer"):
        await build_cache(EngineConfig(serializer="pickle"))


async def test_sqlite_tier_survives_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    config = {"engine": EngineConfig(compress_threshold=64), "sqlite": SqliteConfig(path=tmp_path / "cache.sqlite3")}
    first = await build_cache(**config, clock=clock)
    assert first.tiers() == ["memory", "sqlite"]
    await first.get_or_fetch("ns:k", LoaderSpy({"text": "x" * 500}), POLICY)
    await first.aclose()

    second = await build_cache(**config, clock=clock)
    try:
        loader = LoaderSpy("reloaded")
        result = await second.get_or_fetch("ns:k", loader, POLICY)
        assert (result.value, result.meta.tier, loader.calls) == ({"text": "x" * 500}, "sqlite", 0)
        assert await second.invalidate_namespace("ns") == {"memory": 1, "sqlite": 1}
    finally:
        await second.aclose()


async def test_unusable_sqlite_path_is_left_out(tmp_path: Path, clock: ManualClock) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory should be")
    cache = await build_cache(sqlite=SqliteConfig(path=blocker / "cache.sqlite3"), clock=clock)
    try:
        assert cache.tiers() == ["memory"]
    finally:
        await cache.aclose()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_redis_down_at_start_degrades_to_the_other_tiers(clock: ManualClock) -> None:
    pytest.importorskip("cache.backends.redis")
    redis = RedisConfig(url=f"redis://127.0.0.1:{_closed_port()}/0")
    cache = await build_cache(EngineConfig(tier_timeout=1.0), redis=redis, clock=clock)
    try:
        assert cache.tiers() == ["memory", "redis"]
        assert (await cache.get_or_fetch("ns:k", LoaderSpy("v"), POLICY)).value == "v"
        assert (await cache.get_or_fetch("ns:k", LoaderSpy("w"), POLICY)).value == "v"
        redis = cache.stats.snapshot()["tiers"]["redis"]
        assert redis["errors"] + redis["timeouts"] >= 1 and redis["state"] == "open"
        assert (await cache.ping())["redis"] is False
    finally:
        await cache.aclose()


async def test_tier_accessors_and_info(tmp_path: Path, clock: ManualClock) -> None:
    cache = await build_cache(sqlite=SqliteConfig(path=tmp_path / "c.sqlite3"), clock=clock)
    try:
        assert cache.redis is None and cache.sqlite is not None
        await cache.set_many([("ns:a", 1), ("ns:b", 2)], POLICY)
        memory = await cache.tier_info("memory")
        assert (memory["entries"], memory["bytes"] > 0) == (2, True)
        sqlite = await cache.tier_info("sqlite")
        assert sqlite == {
            "state": "closed",
            "where": str(tmp_path / "c.sqlite3"),
            "entries": 2,
            "queued_writes": 0,
            "dropped_writes": 0,
        }
        with pytest.raises(ValueError, match="no cache tier"):
            await cache.tier_info("redis")
    finally:
        await cache.aclose()


def test_redis_topology_settings_parse_and_are_checked() -> None:
    cluster = RedisConfig(mode="cluster", url="redis://127.0.0.1:7000", nodes="127.0.0.1:7001, 127.0.0.1:7002")
    assert cluster.nodes == ("127.0.0.1:7001", "127.0.0.1:7002") and cluster.enabled
    assert RedisConfig(mode="cluster", nodes='["10.0.0.1:7000"]').enabled  # seed nodes alone suffice
    sentinel = RedisConfig(mode="sentinel", sentinels="127.0.0.1:26379,127.0.0.1:26380", service_name="ts")
    assert sentinel.enabled and sentinel.url is None and sentinel.service_name == "ts"
    assert not RedisConfig().enabled
    with pytest.raises(ValidationError, match="needs the sentinels"):
        RedisConfig(mode="sentinel")
    with pytest.raises(ValidationError, match="needs a seed node"):
        RedisConfig(mode="cluster")
    with pytest.raises(ValidationError, match="no unix sockets"):
        RedisConfig(mode="cluster", url="unix:///tmp/redis.sock")
    with pytest.raises(ValidationError, match="is not host:port"):
        RedisConfig(mode="cluster", nodes="10.0.0.1")
    with pytest.raises(ValidationError, match="mode"):
        RedisConfig(mode="ring", url="redis://127.0.0.1:6379")
