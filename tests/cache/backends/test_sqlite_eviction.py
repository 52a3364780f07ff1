"""Size bounds, LRU without a write per read, and expiry cleanup in bounded batches."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cache.backends.sqlite import SqliteBackend
from cache.backends.sqlite_lru import ACCESS_RESOLUTION
from cache.entry import Record
from tests.support.clock import ManualClock
from tests.support.sqlite_files import stored


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def small(tmp_path: Path, clock: ManualClock) -> AsyncIterator[SqliteBackend]:
    backend = await SqliteBackend.open(tmp_path / "c.sqlite3", max_entries=10, clock=clock, access_flush_size=1000)
    yield backend
    await backend.aclose()


def _data_version(observer: sqlite3.Connection) -> int:
    """PRAGMA data_version on an outside connection: it moves whenever another connection commits."""
    return int(observer.execute("PRAGMA data_version").fetchone()[0])


async def test_lru_eviction_keeps_recently_read_entries(small: SqliteBackend, clock: ManualClock) -> None:
    for i in range(10):
        clock.advance(1)
        await small.set_many([Record(f"k{i}", b"v", clock() + 3600)])
    clock.advance(ACCESS_RESOLUTION)  # a read moves last_access only when it is older than this
    for i in range(5):  # read the five oldest: they become the most recently used
        clock.advance(1)
        assert await small.get_many([f"k{i}"]) == {f"k{i}": b"v"}
    clock.advance(1)
    await small.set_many([Record(f"new{i}", b"v", clock() + 3600) for i in range(5)])
    await small.flush()  # eviction runs in the batch's transaction

    survivors = await small.get_many([f"k{i}" for i in range(10)] + [f"new{i}" for i in range(5)])
    assert sorted(survivors) == sorted([f"k{i}" for i in range(5)] + [f"new{i}" for i in range(5)])
    assert small.counters.evicted == 5
    assert (await small.check())["entries"] == 10


async def test_rereads_within_the_resolution_write_nothing(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "c.sqlite3"
    backend = await SqliteBackend.open(path, clock=clock, access_flush_size=25)
    try:
        await backend.set_many([Record(f"k{i}", b"v", clock() + 3600) for i in range(100)])
        await backend.flush()
        written = clock()
        clock.advance(ACCESS_RESOLUTION - 1)
        flushes = backend.counters.access_flushes
        for i in range(100):  # four times the flush size: none of them is even buffered
            await backend.get_many([f"k{i}"])
        await backend.flush()
        assert backend.counters.access_flushes == flushes
    finally:
        await backend.aclose()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM entries WHERE last_access = ?", (written,)).fetchone()[0] == 100


async def test_expired_rows_are_evicted_before_live_ones(small: SqliteBackend, clock: ManualClock) -> None:
    await small.set_many([Record(f"old{i}", b"v", clock() + 10) for i in range(5)])
    clock.advance(1)
    await small.set_many([Record(f"live{i}", b"v", clock() + 3600) for i in range(5)])
    clock.advance(20)  # the old ones expire
    await small.set_many([Record(f"more{i}", b"v", clock() + 3600) for i in range(5)])
    assert await small.count() == 10
    assert len(await small.get_many([f"live{i}" for i in range(5)])) == 5


async def test_byte_bound_evicts_least_recently_used(tmp_path: Path, clock: ManualClock) -> None:
    backend = await SqliteBackend.open(tmp_path / "c.sqlite3", max_bytes=10_500, clock=clock)
    try:
        for i in range(8):
            clock.advance(1)
            await backend.set_many([Record(f"k{i}", b"x" * 1998, clock() + 3600)])  # 2000 bytes with key
        report = await backend.check()
        assert report["data_bytes"] == 10_000
        assert sorted(await backend.get_many([f"k{i}" for i in range(8)])) == ["k3", "k4", "k5", "k6", "k7"]
    finally:
        await backend.aclose()


async def test_reads_do_not_write(small: SqliteBackend, clock: ManualClock) -> None:
    await small.set_many([Record(f"k{i}", b"v", clock() + 3600) for i in range(10)])
    await small.flush()
    observer = sqlite3.connect(small.path)
    try:
        writes, version = small.counters.write_transactions, _data_version(observer)

        for _ in range(50):
            clock.advance(1)
            assert len(await small.get_many([f"k{i}" for i in range(10)])) == 10

        assert small.counters.write_transactions == writes
        assert _data_version(observer) == version
        await small.set_many([Record("w", b"v", clock() + 3600)])  # the next write carries the access times
        await small.flush()
        assert small.counters.write_transactions == writes + 1
        assert _data_version(observer) != version
    finally:
        observer.close()


async def test_access_buffer_flushes_in_one_batch_at_its_size(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "c.sqlite3"
    backend = await SqliteBackend.open(path, clock=clock, access_flush_size=25)
    try:
        await backend.set_many([Record(f"k{i}", b"v", clock() + 3600) for i in range(100)])
        await backend.flush()
        writes = backend.counters.write_transactions
        clock.advance(ACCESS_RESOLUTION + 10)
        for i in range(100):
            await backend.get_many([f"k{i}"])
        await backend.flush()  # the writer writes what the reads asked for
        # the writer takes the buffer when its transaction starts, so a batch holds 25 reads or more
        assert 1 <= backend.counters.access_flushes <= 4
        assert backend.counters.write_transactions - writes == backend.counters.access_flushes
    finally:
        await backend.aclose()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM entries WHERE last_access = ?", (clock(),)).fetchone()[0] == 100
    conn.close()


async def test_access_times_are_persisted_on_close(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "c.sqlite3"
    backend = await SqliteBackend.open(path, clock=clock)
    await backend.set_many([Record("k", b"v", clock() + 3600)])
    clock.advance(100)
    await backend.get_many(["k"])
    await backend.aclose()
    with sqlite3.connect(path) as conn:
        (last_access,) = conn.execute("SELECT last_access FROM entries WHERE key = 'k'").fetchone()
    conn.close()
    assert last_access == clock()


async def test_cleanup_expired_runs_in_bounded_batches(tmp_path: Path, clock: ManualClock) -> None:
    backend = await SqliteBackend.open(tmp_path / "c.sqlite3", clock=clock, cleanup_batch=500)
    try:
        await backend.set_many([Record(f"e{i}", b"v", clock() + 10, ("t",)) for i in range(1200)])
        await backend.set_many([Record(f"l{i}", b"v", clock() + 3600, ("t",)) for i in range(30)])
        await backend.flush()
        clock.advance(11)
        writes = backend.counters.write_transactions

        assert await backend.cleanup_expired() == 1200

        assert backend.counters.write_transactions - writes == 3  # 500 + 500 + 200
        report = await backend.check()
        assert (report["entries"], report["expired"], report["tag_links"]) == (30, 0, 30)
        assert await backend.cleanup_expired() == 0
    finally:
        await backend.aclose()


async def test_a_caller_cancelled_while_waiting_for_the_writer_loses_nothing(
    small: SqliteBackend, clock: ManualClock
) -> None:
    await small.set_many([Record("queued", b"v", clock() + 60)])
    task = asyncio.create_task(small.flush())
    await asyncio.sleep(0)  # one step: the writer's transaction is under way
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await small.set_many([Record("after", b"v", clock() + 60)])
    await small.flush()
    assert stored(small.path) == {"queued": b"v", "after": b"v"}
