"""invalidate_older_than / invalidate_unused through the engine, on the memory and SQLite tiers,
with the event other processes receive."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cache.backends.memory import MemoryBackend
from cache.backends.sqlite import SqliteBackend
from cache.engine.invalidator import InvalidationEvent, age_event, age_filter
from cache.engine.tiered import TieredCache
from cache.policy import CachePolicy
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory
from tests.support.faults import LoaderSpy

TRIALS = CachePolicy("trials", fresh_ttl=3600, stale_ttl=86_400)
QUOTES = CachePolicy("quotes", fresh_ttl=3600, stale_ttl=86_400)


@pytest.fixture
async def engine(tmp_path: Path, clock: ManualClock, make_cache: CacheFactory) -> TieredCache:
    sqlite = await SqliteBackend.open(tmp_path / "cache.sqlite3", clock=clock)
    return make_cache(MemoryBackend(clock=clock, watermark_every=60), sqlite=sqlite)


async def sqlite_keys(cache: TieredCache) -> list[str]:
    assert cache.sqlite is not None
    return sorted(await cache.sqlite.match("*"))


async def test_older_than_drops_old_entries_from_every_tier(engine: TieredCache, clock: ManualClock) -> None:
    events: list[InvalidationEvent] = []
    engine.subscribe_invalidations(events.append)
    await engine.set("trials:v1:old", 1, TRIALS)
    await engine.set("quotes:v1:old", 2, QUOTES)
    clock.advance(1000)
    await engine.set("trials:v1:new", 3, TRIALS)
    clock.advance(100)
    counts = await engine.invalidate_older_than(500)
    assert counts == {"memory": 2, "sqlite": 2}
    assert sorted(engine.memory.match_now("*")) == await sqlite_keys(engine) == ["trials:v1:new"]
    assert [e.kind for e in events] == ["older_than"]
    assert age_filter(events[0]) == (clock() - 500, "*")


async def test_older_than_within_one_namespace(engine: TieredCache, clock: ManualClock) -> None:
    await engine.set("trials:v1:a", 1, TRIALS)
    await engine.set("quotes:v1:a", 2, QUOTES)
    clock.advance(1000)
    assert await engine.invalidate_older_than(10, "quotes") == {"memory": 1, "sqlite": 1}
    assert await sqlite_keys(engine) == ["trials:v1:a"]
    with pytest.raises(ValueError):
        await engine.invalidate_older_than(10, "Bad*")
    with pytest.raises(ValueError):
        await engine.invalidate_older_than(-1)


async def test_a_promoted_entry_keeps_its_creation_time(engine: TieredCache, clock: ManualClock) -> None:
    await engine.set("trials:v1:a", 1, TRIALS)
    clock.advance(1000)
    engine.memory.clear_now()
    assert (await engine.get("trials:v1:a")).meta.tier == "sqlite"  # type: ignore[union-attr]
    assert await engine.invalidate_older_than(500) == {"memory": 1, "sqlite": 1}


async def test_unused_drops_what_nobody_read(engine: TieredCache, clock: ManualClock) -> None:
    for key in ("trials:v1:read", "trials:v1:idle"):
        await engine.set(key, key, TRIALS)
    assert await engine.invalidate_unused(600) == {"memory": 0, "sqlite": 0}  # places a watermark
    clock.advance(300)
    assert (await engine.get_or_fetch("trials:v1:read", LoaderSpy(), TRIALS)).meta.hit
    engine.memory.delete_now(["trials:v1:read"])
    assert (await engine.get("trials:v1:read")).meta.tier == "sqlite"  # type: ignore[union-attr]
    clock.advance(400)  # 700 s since both were written, 400 s since one was read
    assert await engine.invalidate_unused(600) == {"memory": 1, "sqlite": 1}
    assert sorted(engine.memory.match_now("*")) == await sqlite_keys(engine) == ["trials:v1:read"]


async def test_lookups_place_watermarks_on_the_sampled_path(engine: TieredCache, clock: ManualClock) -> None:
    await engine.set("trials:v1:idle", 0, TRIALS)
    await engine.set("trials:v1:hot", 1, TRIALS)
    for _ in range(64):  # the 64th lookup is the sampled one
        await engine.get_or_fetch("trials:v1:hot", LoaderSpy(), TRIALS)
    clock.advance(600)
    await engine.get_or_fetch("trials:v1:hot", LoaderSpy(), TRIALS)
    assert engine.memory.unused_since_now(clock() - 600) == ["trials:v1:idle"]


async def test_a_load_running_across_a_time_invalidation_is_stored(engine: TieredCache, clock: ManualClock) -> None:
    gate = asyncio.Event()
    loader = LoaderSpy("fresh", gate=gate)
    task = asyncio.create_task(engine.get_or_fetch("trials:v1:k", loader, TRIALS))
    await loader.started.wait()
    await engine.invalidate_older_than(0)
    await engine.invalidate_unused(0)
    gate.set()
    await task
    assert "trials:v1:k" in engine.memory and await sqlite_keys(engine) == ["trials:v1:k"]


async def test_a_received_time_event_applies_to_memory_only_by_default(engine: TieredCache, clock: ManualClock) -> None:
    await engine.set("trials:v1:a", 1, TRIALS)
    clock.advance(100)
    await engine.apply_event(age_event("older_than", clock() - 50, "trials"))
    assert "trials:v1:a" not in engine.memory
    assert await sqlite_keys(engine) == ["trials:v1:a"]


def test_time_events_are_checked() -> None:
    assert age_event("unused", 12.5).value == ("12.5",)
    for bad in ((), ("x",), ("nan",), ("1", "Bad*"), ("1", "ns", "extra")):
        with pytest.raises(ValueError):
            InvalidationEvent("older_than", bad)
    with pytest.raises(ValueError):
        age_event("clear", 1.0)  # type: ignore[arg-type]
