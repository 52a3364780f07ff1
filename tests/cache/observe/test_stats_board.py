"""The stats board forgets processes that stopped publishing long ago (and unreadable records),
on every shared store: process memory, the SQLite file's meta rows and a Redis hash."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from redis.asyncio import Redis

from cache.backends.sqlite import SqliteBackend
from cache.coordination.shared_store import MemoryStore, RedisHashStore, SharedStore, SqliteMetaStore
from cache.observe.board import StatsBoard
from tests.support.clock import ManualClock

MAX_AGE = 120.0


def board(store: SharedStore, instance: str, clock: ManualClock) -> StatsBoard:
    return StatsBoard(store, instance, clock=clock, max_age=MAX_AGE)


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SharedStore]:
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "sqlite":
        backend = await SqliteBackend.open(tmp_path / "cache.sqlite")
        try:
            yield SqliteMetaStore(backend, "stats")
        finally:
            await backend.aclose()
    else:
        client = Redis.from_url(request.getfixturevalue("redis_url"))
        try:
            yield RedisHashStore(client, "trialstock.stats")
        finally:
            await client.aclose()


async def test_delete_removes_only_the_named_fields(store: SharedStore) -> None:
    for name in ("a", "b", "c"):
        await store.write(name, name.upper())
    assert await store.delete(["a", "c", "missing", "a"]) == 2
    assert await store.read_all() == {"b": "B"}
    assert await store.delete([]) == 0


async def test_prune_deletes_long_dead_and_unreadable_records(store: SharedStore, clock: ManualClock) -> None:
    await board(store, "dead", clock).publish({"n": 1})
    clock.advance(5 * MAX_AGE)
    await board(store, "quiet", clock).publish({"n": 2})  # stopped, but recently enough to keep
    await store.write("garbage", "{not json")
    await store.write("no-time", orjson.dumps({"instance": "x", "stats": {}}).decode())
    clock.advance(5 * MAX_AGE + 1)
    live = board(store, "live", clock)
    await live.publish({"n": 3})  # the first publish prunes
    assert sorted(await store.read_all()) == ["live", "quiet"]
    assert [r["instance"] for r in await live.read()] == ["live"]


async def test_publish_prunes_at_most_once_per_max_age(store: SharedStore, clock: ManualClock) -> None:
    live = board(store, "live", clock)
    await live.publish({})  # prunes (nothing to prune yet)
    await store.write("garbage", "[]")
    clock.advance(MAX_AGE - 1)
    await live.publish({})
    assert "garbage" in await store.read_all()  # too soon for another prune
    clock.advance(1)
    await live.publish({})
    assert sorted(await store.read_all()) == ["live"]


async def test_sqlite_meta_delete_keeps_the_schema_rows(tmp_path: Path) -> None:
    backend = await SqliteBackend.open(tmp_path / "cache.sqlite")
    try:
        with pytest.raises(ValueError):
            await backend.meta_delete(["stats.x", "schema_version"])
        assert await backend.meta_get_prefixed("schema_version") != {}
    finally:
        await backend.aclose()
