"""The SQLite tier's write queue: collapsing rewrites, seen by reads and scans, ordered with deletes."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cache.backends.sqlite import SqliteBackend
from cache.entry import Record
from tests.support.clock import ManualClock
from tests.support.sqlite_files import stored, write_lock_held


@pytest.fixture
async def backend(tmp_path: Path, clock: ManualClock) -> AsyncIterator[SqliteBackend]:
    backend = await SqliteBackend.open(tmp_path / "cache.sqlite3", clock=clock)
    yield backend
    await backend.aclose()


def _record(clock: ManualClock, key: str, data: bytes = b"v", ttl: float = 3600, tags: tuple[str, ...] = ()) -> Record:
    return Record(key, data, clock() + ttl, tags)


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
