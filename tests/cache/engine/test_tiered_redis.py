"""The engine over real tiers: memory + a throwaway Redis (single server, cluster, sentinel) + a
SQLite file."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cache import EngineConfig, SqliteConfig, build_cache
from cache.backends.base import escape_glob
from cache.engine.tiered import TieredCache
from cache.policy import CachePolicy
from tests.support.faults import LoaderSpy
from tests.support.redis_topologies import Topology

pytestmark = pytest.mark.redis

POLICY = CachePolicy("trials", fresh_ttl=60, stale_ttl=600, tags_from=lambda v: v["ids"])


def _config(topology: Topology, tmp_path: Path, name: str = "c.sqlite3") -> dict[str, Any]:
    # Generous timeouts: on a loaded 2-core machine a 0.25 s Redis timeout would (correctly)
    # make the engine skip Redis, and these tests are about the path where Redis answers.
    return {
        "engine": EngineConfig(tier_timeout=5.0),
        "sqlite": SqliteConfig(path=tmp_path / name),
        "redis": topology.config.model_copy(update={"socket_timeout": 5.0, "connect_timeout": 5.0}),
    }


@pytest.fixture
async def engines(redis_topology: Topology, tmp_path: Path) -> AsyncIterator[tuple[TieredCache, TieredCache]]:
    """Two engines (two 'processes') sharing one Redis, each with its own SQLite file."""
    a = await build_cache(**_config(redis_topology, tmp_path, "a.sqlite3"), clock=time.time)
    b = await build_cache(**_config(redis_topology, tmp_path, "b.sqlite3"), clock=time.time)
    yield a, b
    await a.aclose()
    await b.aclose()


async def test_a_value_loaded_by_one_engine_is_read_by_the_other_from_redis(
    engines: tuple[TieredCache, TieredCache],
) -> None:
    a, b = engines
    assert a.tiers() == ["memory", "redis", "sqlite"]
    await a.get_or_fetch("trials:k", LoaderSpy({"ids": ["NCT1"]}), POLICY)
    loader = LoaderSpy({"ids": ["other"]})
    result = await b.get_or_fetch("trials:k", loader, POLICY)
    assert (result.value, result.meta.tier, loader.calls) == ({"ids": ["NCT1"]}, "redis", 0)
    assert (await b.get_or_fetch("trials:k", loader, POLICY)).meta.tier == "memory"


async def test_cross_engine_single_flight_with_the_redis_lock(engines: tuple[TieredCache, TieredCache]) -> None:
    gate = asyncio.Event()
    loader = LoaderSpy({"ids": []}, gate=gate)
    tasks = [asyncio.create_task(e.get_or_fetch("trials:cold", loader, POLICY)) for e in engines for _ in range(50)]
    await loader.started.wait()
    gate.set()
    async with asyncio.timeout(20):
        results = await asyncio.gather(*tasks)
    for engine in engines:  # Redis answered throughout (else a skipped lock would explain 2 loads)
        redis = engine.stats.snapshot()["tiers"]["redis"]
        assert (redis["errors"], redis["timeouts"], redis["skips"]) == (0, 0, 0)
    assert loader.calls == 1
    assert all(r.value == {"ids": []} for r in results)


async def test_invalidation_by_tag_and_escaped_pattern_reaches_redis_and_sqlite(
    engines: tuple[TieredCache, TieredCache],
) -> None:
    a, b = engines
    await a.set_many([("trials:s*1", {"ids": ["NCT1"]}), ("trials:sx1", {"ids": ["NCT2"]})], POLICY)
    counts = await a.invalidate_pattern(escape_glob("trials:s*1"))
    assert counts == {"memory": 1, "redis": 1, "sqlite": 1}
    assert await b.get("trials:s*1") is None
    counts = await a.invalidate_tags("NCT2")
    assert counts == {"memory": 1, "redis": 1, "sqlite": 1}
    assert await b.get("trials:sx1") is None
