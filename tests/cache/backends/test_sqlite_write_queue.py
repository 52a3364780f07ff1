"""The SQLite tier's write queue: bounded (drops counted and reported), collapsing rewrites,
seen by reads and scans, ordered with deletes, and failing loudly only on real failures."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cache.backends.base import BackendError
from cache.backends.sqlite import SqliteBackend
from cache.entry import Record
from cache.observe.prometheus import render_metrics
from cache.policy import CachePolicy
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory, bounded_memory
from tests.support.sqlite_files import stored, write_lock_held

POLICY = CachePolicy("ns", fresh_ttl=60.0, stale_ttl=600.0)


@pytest.fixture
async def backend(tmp_path: Path, clock: ManualClock) -> AsyncIterator[SqliteBackend]:
    backend = await SqliteBackend.open(tmp_path / "cache.sqlite3", clock=clock)
    yield backend
    await backend.aclose()


def _record(clock: ManualClock, key: str, data: bytes = b"v", ttl: float = 3600, tags: tuple[str, ...] = ()) -> Record:
    return Record(key, data, clock() + ttl, tags)


async def test_writes_beyond_the_bound_are_dropped_counted_and_reported(
    tmp_path: Path, clock: ManualClock, make_cache: CacheFactory, caplog: pytest.LogCaptureFixture
) -> None:
    sqlite = await SqliteBackend.open(tmp_path / "cache.sqlite3", clock=clock, write_queue_max=50)
    cache = make_cache(bounded_memory(clock), sqlite=sqlite)
    with caplog.at_level(logging.WARNING, logger="cache.backends.sqlite_queue"):
        with write_lock_held(sqlite.path):  # nothing drains meanwhile
            await cache.set_many([(f"ns:{i}", i) for i in range(80)], POLICY)
            await cache.set("ns:0", "rewritten", POLICY)  # a key already queued is replaced, not dropped
            for i in range(80, 90):
                await cache.set(f"ns:{i}", i, POLICY)

            assert (sqlite.queued_writes, sqlite.dropped_writes) == (50, 40)
            tier = cache.stats.snapshot()["tiers"]["sqlite"]
            assert (tier["queued_writes"], tier["dropped_writes"]) == (50, 40)
            metrics = render_metrics(cache)
            assert 'trialstock_cache_tier_writes_dropped_total{tier="sqlite"} 40' in metrics
            assert 'trialstock_cache_tier_write_queue{tier="sqlite"} 50' in metrics
        await cache.flush()

    assert (await cache.tier_info("sqlite"))["dropped_writes"] == 40
    assert cache.stats.tier("sqlite").errors == 0  # a full queue is not a tier failure
    assert set(stored(sqlite.path)) == {f"ns:{i}" for i in range(50)}
    lines = [r.getMessage() for r in caplog.records if r.name == "cache.backends.sqlite_queue"]
    assert len(lines) == 2, lines  # one when the drops began, one (with the count) when the queue drained
    assert "dropped writes" in lines[0] and "40 dropped writes" in lines[1]


async def test_rewrites_of_a_queued_key_collapse_to_the_last(backend: SqliteBackend, clock: ManualClock) -> None:
    with write_lock_held(backend.path):
        for value in (b"1", b"2", b"3"):
            await backend.set_many([_record(clock, "k", value, tags=(f"t{value.decode()}",))])
        await backend.set_many([_record(clock, "k", b"4", tags=("t4",)), _record(clock, "k", b"5", tags=("t5",))])
        assert backend.queued_writes == 1
        batches = backend.counters.write_batches
    await backend.flush()
    assert backend.counters.write_batches - batches == 1
    assert stored(backend.path) == {"k": b"5"}
    assert await backend.tagged(["t1", "t2", "t3", "t4"]) == []
    assert await backend.tagged(["t5"]) == ["k"]


async def test_reads_and_scans_see_queued_writes_over_the_file(backend: SqliteBackend, clock: ManualClock) -> None:
    await backend.set_many([_record(clock, "a", b"old", tags=("x",)), _record(clock, "b", b"old", tags=("x",))])
    await backend.flush()
    with write_lock_held(backend.path):
        await backend.set_many([_record(clock, "a", b"new", tags=("y",)), _record(clock, "b", b"gone", ttl=-1)])
        await backend.set_many([_record(clock, "c", b"new", tags=("x",))])
        assert backend.queued_writes == 3
        assert await backend.get_many(["a", "b", "c"]) == {"a": b"new", "c": b"new"}
        assert sorted(await backend.tagged(["x"])) == ["c"]
        assert await backend.tagged(["y"]) == ["a"]
        assert sorted(await backend.match("*")) == ["a", "c"]
    await backend.flush()
    assert stored(backend.path) == {"a": b"new", "c": b"new"}


async def test_deletes_and_writes_interleaved_end_as_they_were_issued(
    tmp_path: Path, backend: SqliteBackend, clock: ManualClock
) -> None:
    rng = random.Random(14)
    model: dict[str, bytes] = {}
    for step in range(400):
        key = f"k{rng.randrange(12)}"
        action = rng.random()
        if action < 0.6:
            value = str(step).encode()
            await backend.set_many([_record(clock, key, value)])
            model[key] = value
        elif action < 0.95:
            await backend.delete_many([key])
            model.pop(key, None)
        else:
            await backend.clear()
            model.clear()
        if rng.random() < 0.3:  # let the writer take a batch, sometimes mid-way
            await asyncio.sleep(0 if rng.random() < 0.5 else 0.001)
    assert await backend.get_many([f"k{i}" for i in range(12)]) == model
    await backend.aclose()
    assert stored(backend.path) == model


async def test_a_failed_batch_is_a_real_failure_for_the_guard(
    tmp_path: Path, clock: ManualClock, make_cache: CacheFactory
) -> None:
    sqlite = await SqliteBackend.open(tmp_path / "cache.sqlite3", clock=clock, busy_timeout_ms=0)
    cache = make_cache(bounded_memory(clock), sqlite=sqlite, tier_recovery=5.0)
    with write_lock_held(sqlite.path):  # the writer gives up: no busy timeout, a few short retries
        await cache.set("ns:lost", 1, POLICY)
        with pytest.raises(BackendError, match="1 queued writes could not be stored"):
            await cache.flush()
        await cache.set("ns:next", 2, POLICY)  # told of the failure: the guard opens
    assert sqlite.counters.writes_failed == 1
    assert cache.stats.tier("sqlite").errors == 1 and cache.tier_states() == {"sqlite": "open"}

    clock.advance(5.0)
    await cache.set("ns:again", 3, POLICY)  # the probe succeeds
    await cache.flush()
    assert cache.tier_states() == {"sqlite": "closed"}
    assert set(stored(sqlite.path)) == {"ns:again"}
