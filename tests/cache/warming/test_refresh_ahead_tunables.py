"""Run-time tunables: shared through Redis, the SQLite file or memory; cached locally ~1 s."""

from __future__ import annotations

import asyncio
import logging
import math
from pathlib import Path

import pytest

from cache.backends.redis import RedisBackend
from cache.backends.sqlite import SqliteBackend
from cache.coordination.shared_store import MemoryStore, RedisHashStore, redis_scope_key
from cache.coordination.tunables import COST_CUTOFF, TunableError, Tunables, TunableStoreError, tunables_for
from cache.policy import CachePolicy
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory


class BrokenStore:
    where = "a store that is down"

    def __init__(self) -> None:
        self.reads = 0

    async def read_all(self) -> dict[str, str]:
        self.reads += 1
        raise ConnectionError("down")

    async def write(self, name: str, value: str) -> None:
        raise ConnectionError("down")


async def test_a_change_from_another_process_applies_after_the_local_cache_expires(clock: ManualClock) -> None:
    store = MemoryStore()
    server = Tunables(store, clock=clock, max_age=1.0)
    cli = Tunables(store, clock=clock, max_age=1.0)
    assert await server.get_cost_cutoff() == 0.5  # the built-in default
    await cli.set_cost_cutoff(2.5)
    clock.advance(0.5)
    assert await server.get_cost_cutoff() == 0.5  # still the local copy
    clock.advance(0.5)
    assert await server.get_cost_cutoff() == 2.5


async def test_defaults_validation_and_unknown_names(clock: ManualClock) -> None:
    tunables = Tunables(MemoryStore(), clock=clock, defaults={COST_CUTOFF: 3.0})
    assert await tunables.get_cost_cutoff() == 3.0
    for bad in (-1, float("nan"), "1", True):
        with pytest.raises(TunableError, match="cost_cutoff"):
            await tunables.set_cost_cutoff(bad)  # type: ignore[arg-type]
    with pytest.raises(TunableError, match="unknown tunable 'nope'; known: refresh_ahead.cost_cutoff"):
        await tunables.get("nope")
    await tunables.set_cost_cutoff(math.inf)  # refresh-ahead off
    assert await tunables.get_cost_cutoff() == math.inf
    listing = await tunables.values()
    assert listing[COST_CUTOFF]["value"] == math.inf and listing[COST_CUTOFF]["default"] == 3.0


async def test_a_failing_store_keeps_the_last_values_for_reads_and_fails_writes(clock: ManualClock) -> None:
    store = BrokenStore()
    tunables = Tunables(store, clock=clock, max_age=1.0, defaults={COST_CUTOFF: 0.7})
    assert await tunables.get_cost_cutoff() == 0.7
    assert await tunables.get_cost_cutoff() == 0.7
    assert store.reads == 1  # retried only after max_age
    clock.advance(1.0)
    await tunables.get_cost_cutoff()
    assert store.reads == 2
    with pytest.raises(TunableStoreError, match="a store that is down"):
        await tunables.set_cost_cutoff(1.0)


class HungStore(BrokenStore):
    where = "a store that never answers"

    async def read_all(self) -> dict[str, str]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def write(self, name: str, value: str) -> None:
        await asyncio.Event().wait()


async def test_a_store_that_never_answers_is_named_with_the_wait_given_up(
    clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    tunables = Tunables(HungStore(), clock=clock, timeout=0.01, defaults={COST_CUTOFF: 0.7})
    with caplog.at_level(logging.WARNING, logger="cache.coordination.tunables"):
        assert await tunables.get_cost_cutoff() == 0.7
    assert "cannot read tunables from a store that never answers (no answer within 0.01 s)" in caplog.text
    with pytest.raises(TunableStoreError, match=r"a store that never answers: no answer within 0.01 s$"):
        await tunables.set_cost_cutoff(1.0)


async def test_garbage_in_the_store_is_ignored(clock: ManualClock) -> None:
    store = MemoryStore()
    await store.write(COST_CUTOFF, "fast")
    await store.write("someone.elses", "1")
    assert await Tunables(store, clock=clock).get_cost_cutoff() == 0.5


async def test_two_processes_share_tunables_through_the_sqlite_file(
    tmp_path: Path, clock: ManualClock, make_cache: CacheFactory
) -> None:
    path = tmp_path / "cache.sqlite3"
    first = make_cache(sqlite=await SqliteBackend.open(path, clock=clock))
    second = make_cache(sqlite=await SqliteBackend.open(path, clock=clock))
    try:
        writer, reader = tunables_for(first, clock=clock), tunables_for(second, clock=clock)
        assert "sqlite meta table" in reader.where
        await writer.set_cost_cutoff(1.25)
        assert await reader.get_cost_cutoff() == 1.25
        await first.clear()  # emptying the cache keeps the tunables
        clock.advance(1.0)
        assert await reader.get_cost_cutoff() == 1.25
    finally:
        await first.aclose()
        await second.aclose()


async def test_sqlite_meta_rows_of_the_schema_cannot_be_overwritten(tmp_path: Path) -> None:
    backend = await SqliteBackend.open(tmp_path / "cache.sqlite3")
    try:
        with pytest.raises(ValueError, match="schema"):
            await backend.meta_set("schema_version", "9")
        await backend.meta_set("tunable.x", "1")
        assert await backend.meta_get_prefixed("tunable.") == {"tunable.x": "1"}
    finally:
        await backend.aclose()


@pytest.mark.redis
async def test_tunables_live_in_a_redis_hash_outside_the_cache_prefix(
    redis_url: str, clock: ManualClock, make_cache: CacheFactory
) -> None:
    caches = [make_cache(redis=RedisBackend.from_url(redis_url, clock=clock)) for _ in range(2)]
    try:
        writer, reader = (tunables_for(cache, clock=clock) for cache in caches)
        assert isinstance(reader.store, RedisHashStore)
        assert reader.store.key == redis_scope_key("trialstock:", "tunables") == "trialstock.tunables"
        await writer.set_cost_cutoff(3.5)
        assert await reader.get_cost_cutoff() == 3.5
        await caches[0].set("ns:k", 1, CachePolicy("ns", 60, 60))
        await caches[0].clear()
        clock.advance(1.0)
        assert await reader.get_cost_cutoff() == 3.5
    finally:
        for cache in caches:
            await cache.aclose()


async def test_without_lower_tiers_the_tunables_stay_in_process(clock: ManualClock, make_cache: CacheFactory) -> None:
    cache = make_cache()
    assert tunables_for(cache).where == "process memory"
    await cache.aclose()
