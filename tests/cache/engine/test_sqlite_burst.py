"""Bursts of answers through the engine onto a real SQLite file: group commit, a guard that a busy
writer does not trip, and invalidations that win over queued writes.

Measured before the write queue: 800 concurrent distinct answers cost 800 transactions, the
SQLite tier's 1 s guard timed out again and again, and after a restart most answers went
upstream again because their writes had been dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from cache.backends.sqlite import SqliteBackend
from cache.engine.tiered import TieredCache
from cache.policy import CachePolicy
from cache.serialization import Serializer
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory, bounded_memory, build_engine
from tests.support.sqlite_files import stored, write_lock_held

POLICY = CachePolicy("trials.get", fresh_ttl=3600.0, stale_ttl=86_400.0)
TAGGED = CachePolicy("trials.get", fresh_ttl=3600.0, stale_ttl=86_400.0, tags=("NCT00000001",))


@pytest.fixture
async def sqlite(tmp_path: Path, clock: ManualClock) -> AsyncIterator[SqliteBackend]:
    backend = await SqliteBackend.open(tmp_path / "cache.sqlite3", clock=clock)
    yield backend
    await backend.aclose()  # after the engine closed it: harmless


def _loader(value: Any) -> Callable[[], Awaitable[Any]]:
    async def load() -> Any:
        return value

    return load


async def _never() -> Any:
    raise AssertionError("stored entries must be read from the file, not loaded")


async def _reopened(path: Path, clock: ManualClock, keys: list[str]) -> dict[str, Any]:
    """The values of ``keys`` read from the file by a backend opened afresh (a restart)."""
    backend = await SqliteBackend.open(path, clock=clock)
    try:
        found = await backend.get_many(keys)
    finally:
        await backend.aclose()
    return {key: Serializer().loads(data).value for key, data in found.items()}


async def _prefill(path: Path, clock: ManualClock, keys: list[str], policy: CachePolicy = POLICY) -> None:
    """Store ``keys`` (valued by themselves) in the file through an engine of their own, closed after."""
    engine = build_engine(bounded_memory(clock), sqlite=await SqliteBackend.open(path, clock=clock), clock=clock)
    try:
        for key in keys:
            await engine.set(key, key, policy)
    finally:
        await engine.aclose()


def _guard_failures(cache: TieredCache) -> tuple[int, int, int]:
    counters = cache.stats.tier("sqlite")
    return counters.errors, counters.timeouts, counters.skips


async def test_800_concurrent_misses_are_stored_in_a_few_transactions_and_survive_a_restart(
    make_cache: CacheFactory, sqlite: SqliteBackend, clock: ManualClock
) -> None:
    cache = make_cache(bounded_memory(clock), sqlite=sqlite, tier_timeouts={"sqlite": 1.0})
    keys = [f"trials.get:NCT{i:08d}" for i in range(800)]
    transactions = sqlite.counters.write_transactions
    started, upstream_answers = [0], asyncio.Event()

    def loader(key: str) -> Callable[[], Awaitable[Any]]:
        async def load() -> Any:  # the upstream answers the whole burst at once
            started[0] += 1
            if started[0] == len(keys):
                upstream_answers.set()
            await upstream_answers.wait()
            return {"id": key}

        return load

    answers = await asyncio.gather(*(cache.get_or_fetch(key, loader(key), POLICY) for key in keys))
    assert [a.meta.hit for a in answers] == [False] * 800
    await cache.aclose()  # a clean shutdown commits what is still queued

    assert sqlite.counters.write_transactions - transactions <= 50
    assert _guard_failures(cache) == (0, 0, 0)
    assert await _reopened(sqlite.path, clock, keys) == {key: {"id": key} for key in keys}


async def test_a_writer_held_up_by_another_process_does_not_trip_the_guard(
    tmp_path: Path, make_cache: CacheFactory, clock: ManualClock
) -> None:
    path = tmp_path / "cache.sqlite3"
    old = [f"trials.get:old{i}" for i in range(20)]
    await _prefill(path, clock, old)
    sqlite = await SqliteBackend.open(path, clock=clock)
    cache = make_cache(bounded_memory(clock), sqlite=sqlite, tier_timeouts={"sqlite": 0.25})
    new = [f"trials.get:new{i}" for i in range(200)]

    with write_lock_held(path):  # the writer waits for the lock, far longer than 0.25 s would allow
        answers = await asyncio.gather(*(cache.get_or_fetch(key, _loader(key), POLICY) for key in new))
        hits = await asyncio.gather(*(cache.get_or_fetch(key, _never, POLICY) for key in old))
        assert [(h.value, h.meta.tier) for h in hits] == [(key, "sqlite") for key in old]
        assert _guard_failures(cache) == (0, 0, 0)
        assert sqlite.queued_writes == 200  # none committed: the writer is still waiting

    assert [a.value for a in answers] == new
    assert cache.tier_states() == {"sqlite": "closed"}
    await cache.flush()
    assert set(stored(path)) == {*old, *new}


@pytest.mark.parametrize("how", ["keys", "tags", "pattern", "clear"])
async def test_an_invalidation_after_a_queued_write_wins(
    tmp_path: Path, make_cache: CacheFactory, clock: ManualClock, how: str
) -> None:
    path, key = tmp_path / "cache.sqlite3", "trials.get:NCT00000001"
    await _prefill(path, clock, [key], TAGGED)  # the old value is in the file
    sqlite = await SqliteBackend.open(path, clock=clock)
    cache = make_cache(bounded_memory(clock), sqlite=sqlite, tier_timeouts={"sqlite": 2.0})

    with write_lock_held(path):
        await cache.set(key, "new", TAGGED)
        assert sqlite.queued_writes == 1  # the new value waits for the writer
        invalidate = {
            "keys": lambda: cache.invalidate_keys(key),
            "tags": lambda: cache.invalidate_tags("NCT00000001"),
            "pattern": lambda: cache.invalidate_pattern("trials.get:NCT*"),
            "clear": lambda: cache.clear(),
        }[how]
        invalidation = asyncio.create_task(invalidate())
        async with asyncio.timeout(5):
            while sqlite.queued_writes:  # the invalidation has reached the tier
                await asyncio.sleep(0.001)
    counts = await invalidation

    assert counts["sqlite"] == 1
    await cache.aclose()
    assert await _reopened(path, clock, [key]) == {}
