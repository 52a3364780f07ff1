"""Invalidation without Redis: two engines on one SQLite file; one invalidates, the other's
MemorySync.check() clears its memory tier. An unchanged generation clears nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cache.backends.sqlite import SqliteBackend
from cache.coordination.memory_sync import GENERATION, MemorySync
from cache.engine.tiered import TieredCache
from cache.policy import CachePolicy
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory, build_engine
from tests.support.faults import LoaderSpy

POLICY = CachePolicy("trials", fresh_ttl=3600, stale_ttl=86_400)


@dataclass
class Process:
    cache: TieredCache
    sync: MemorySync

    async def load(self, *keys: str) -> None:
        for key in keys:
            await self.cache.get_or_fetch(key, LoaderSpy(key), POLICY)


async def open_process(path: Path, clock: ManualClock) -> Process:
    cache = build_engine(sqlite=await SqliteBackend.open(path, clock=clock), clock=clock)
    sync = MemorySync(cache)
    await sync.start()
    return Process(cache, sync)


@pytest.fixture
async def pair(tmp_path: Path, clock: ManualClock) -> AsyncIterator[tuple[Process, Process]]:
    a = await open_process(tmp_path / "shared.sqlite3", clock)
    b = await open_process(tmp_path / "shared.sqlite3", clock)
    yield a, b
    for process in (a, b):
        await process.sync.aclose()
        await process.cache.aclose()


async def test_an_invalidation_in_one_process_clears_the_others_memory(pair: tuple[Process, Process]) -> None:
    a, b = pair
    await b.load("trials:v1:x", "trials:v1:y")
    assert len(b.cache.memory) == 2
    assert await b.sync.check() is False  # nothing happened yet
    await a.cache.invalidate_keys("trials:v1:x")
    assert await b.sync.check() is True
    assert len(b.cache.memory) == 0
    assert (await b.cache.get("trials:v1:y")).meta.tier == "sqlite"  # type: ignore[union-attr]
    await b.load("trials:v1:z")
    assert await b.sync.check() is False  # same generation: nothing cleared
    assert sorted(b.cache.memory.match_now("*")) == ["trials:v1:y", "trials:v1:z"]


async def test_a_process_does_not_clear_itself_for_its_own_invalidations(pair: tuple[Process, Process]) -> None:
    a, _ = pair
    await a.load("trials:v1:x", "trials:v1:y")
    await a.cache.invalidate_keys("trials:v1:x")
    await a.cache.invalidate_tags("none")
    assert await a.sync.check() is False
    assert a.cache.memory.match_now("*") == ["trials:v1:y"]
    assert a.sync.bumps == 2 and a.sync.generation == 2


async def test_a_missed_generation_is_not_hidden_by_an_own_bump(pair: tuple[Process, Process]) -> None:
    a, b = pair
    await a.load("trials:v1:x")
    await b.sync.bump()  # e.g. after `cache restore`
    await a.cache.invalidate_keys("trials:v1:other")  # a's own bump lands on top of b's
    assert await a.sync.check() is True
    assert len(a.cache.memory) == 0


async def test_unused_invalidations_are_not_shared(pair: tuple[Process, Process], clock: ManualClock) -> None:
    a, b = pair
    await b.load("trials:v1:x")
    await a.cache.invalidate_unused(60)
    assert await b.sync.check() is False and len(b.cache.memory) == 1
    await a.cache.invalidate_older_than(3600)
    assert await b.sync.check() is True


async def test_the_first_check_clears_only_a_tier_that_may_have_missed_something(
    tmp_path: Path, clock: ManualClock, make_cache: CacheFactory
) -> None:
    path = tmp_path / "shared.sqlite3"
    first, second = await open_process(path, clock), await open_process(path, clock)
    cache = make_cache(sqlite=await SqliteBackend.open(path, clock=clock))
    late, busy = MemorySync(cache), MemorySync(second.cache)  # never started: no baseline
    try:
        await second.load("trials:v1:x")
        await first.cache.clear()
        assert await late.check() is False  # empty memory: nothing to clear, baseline taken
        assert await busy.check() is True  # entries of unknown standing: cleared
        await cache.set("trials:v1:x", 1, POLICY)
        assert await late.check() is False
        assert cache.sqlite is not None
        assert await cache.sqlite.meta_get_prefixed(GENERATION) == {GENERATION: "1"}
    finally:
        for process in (first, second):
            await process.sync.aclose()
            await process.cache.aclose()
        await cache.aclose()


async def test_without_a_sqlite_tier_it_does_nothing(cache: TieredCache, policy: CachePolicy) -> None:
    sync = MemorySync(cache)
    await sync.start()
    await cache.set("ns:k", 1, policy)
    await cache.invalidate_keys("ns:other")
    assert await sync.bump() is None
    assert await sync.check() is False and len(cache.memory) == 1
    await sync.aclose()
    assert cache.invalidation_hooks == ()
