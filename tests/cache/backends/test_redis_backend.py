"""Redis-specific behaviour: URL handling, AUTH, prefixes, expiry, round trips, RESP3."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from cache.backends.base import BackendError
from cache.backends.redis import RedisBackend
from cache.backends.redis_connection import QuickConnection, QuickSSLConnection
from cache.entry import Record
from tests.support.clock import ManualClock
from tests.support.redis_server import RedisServer


async def test_rediss_url_builds_an_ssl_pool_with_auth() -> None:
    backend = RedisBackend.from_url(
        "rediss://:s3cret@cache.example.internal:6380/2",
        prefix="p:",
        socket_timeout=0.3,
        connect_timeout=0.2,
        max_connections=7,
    )
    try:
        pool = backend.client.connection_pool
        assert pool.connection_class is QuickSSLConnection  # TLS, writing without a task
        assert pool.max_connections >= 7
        kwargs = pool.connection_kwargs
        assert (kwargs["host"], kwargs["port"], kwargs["db"], kwargs["password"]) == (
            "cache.example.internal",
            6380,
            2,
            "s3cret",
        )
        assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (0.3, 0.2)
        assert kwargs["health_check_interval"] > 0
    finally:
        await backend.aclose()


async def test_plain_url_builds_a_tcp_pool() -> None:
    backend = RedisBackend.from_url("redis://user:pw@127.0.0.1:6390/0")
    try:
        pool = backend.client.connection_pool
        assert pool.connection_class is QuickConnection
        assert (pool.connection_kwargs["username"], pool.connection_kwargs["password"]) == ("user", "pw")
    finally:
        await backend.aclose()


@pytest.mark.redis
async def test_auth_against_a_password_protected_server(spawn_redis: Callable[..., RedisServer]) -> None:
    server = spawn_redis(password="hunter2")
    good = RedisBackend.from_url(server.url)
    wrong = RedisBackend.from_url(server.url.replace("hunter2", "nope"))
    anonymous = RedisBackend.from_url(f"redis://127.0.0.1:{server.port}/0")
    try:
        assert await good.ping() is True
        await good.set_many([Record("k", b"v", 4e9)])
        assert await good.get_many(["k"]) == {"k": b"v"}
        for rejected in (wrong, anonymous):
            assert await rejected.ping() is False
            with pytest.raises(BackendError):
                await rejected.get_many(["k"])
    finally:
        for backend in (good, wrong, anonymous):
            await backend.aclose()


@pytest.fixture
async def pair(redis_url: str) -> AsyncIterator[tuple[RedisBackend, RedisBackend, ManualClock]]:
    clock = ManualClock()
    first = RedisBackend.from_url(redis_url, prefix="one:", clock=clock)
    second = RedisBackend.from_url(redis_url, prefix="two:", clock=clock)
    yield first, second, clock
    await first.aclose()
    await second.aclose()


@pytest.mark.redis
async def test_prefixes_isolate_backends_and_clear_touches_only_its_own(pair) -> None:
    one, two, clock = pair
    await one.set_many([Record("k", b"1", clock() + 60, ("t",))])
    await two.set_many([Record("k", b"2", clock() + 60, ("t",))])
    await one.client.set("unrelated", b"x")
    assert await one.client.exists("one:{k}", "two:{k}", "one:tag:{t}") == 3

    await one.clear()

    assert await one.get_many(["k"]) == {}
    assert await two.get_many(["k"]) == {"k": b"2"}
    assert await two.tagged(["t"]) == ["k"]
    assert await one.client.get("unrelated") == b"x"
    assert sorted(await one.client.keys("*")) == [b"two:keytags:{k}", b"two:tag:{t}", b"two:{k}", b"unrelated"]


@pytest.mark.redis
async def test_expiry_is_relative_px_and_tag_sets_live_as_long_as_their_longest_member(pair) -> None:
    one, _, clock = pair
    await one.set_many([Record("a", b"v", clock() + 100, ("t",))])
    assert await one.client.get("one:{a}") == b"v"  # stored as is: reads need no decoding
    assert 99_000 < await one.client.pttl("one:{a}") <= 100_000
    assert 99_000 < await one.client.pttl("one:keytags:{a}") <= 100_000
    assert 99_000 < await one.client.pttl("one:tag:{t}") <= 100_000
    await one.set_many([Record("b", b"v", clock() + 500, ("t",))])
    assert 499_000 < await one.client.pttl("one:tag:{t}") <= 500_000
    await one.set_many([Record("c", b"v", clock() + 10, ("t",))])
    assert await one.client.pttl("one:tag:{t}") > 499_000  # never shortened
    await one.set_many([Record("forever", b"v", float("inf"))])
    assert await one.client.pttl("one:{forever}") == -1


@pytest.mark.redis
async def test_batches_are_single_round_trips_and_match_scans(pair) -> None:
    one, _, clock = pair
    await one.client.config_resetstat()
    keys = [f"k{i}" for i in range(100)]
    await one.set_many([Record(k, b"v", clock() + 60) for k in keys])
    assert len(await one.get_many(keys)) == 100
    await one.match("k1*")
    stats = await one.client.info("commandstats")
    assert stats["cmdstat_mget"]["calls"] == 1
    assert stats["cmdstat_set"]["calls"] == 100
    assert stats["cmdstat_scan"]["calls"] >= 1
    assert "cmdstat_keys" not in stats


@pytest.mark.redis
async def test_concurrency_is_bounded_by_max_connections(redis_url: str) -> None:
    backend = RedisBackend.from_url(redis_url, max_connections=3, pool_timeout=5.0)
    try:
        await backend.set_many([Record(f"k{i}", b"v", 4e9) for i in range(200)])
        results = await asyncio.gather(*(backend.get_many([f"k{i}"]) for i in range(200)))
        assert results == [{f"k{i}": b"v"} for i in range(200)]
        clients = await backend.client.client_list()  # every connection the server has open
        assert 1 <= len(clients) <= 3
    finally:
        await backend.aclose()


@pytest.mark.redis
async def test_tagged_drops_stale_links_lazily(pair) -> None:
    one, _, clock = pair
    await one.set_many([Record("a", b"v", clock() + 60, ("t",)), Record("b", b"v", clock() + 60, ("t",))])
    await one.delete_many(["a"])
    assert await one.client.scard("one:tag:{t}") == 2  # delete does not touch the tag set
    assert await one.tagged(["t"]) == ["b"]
    assert await one.client.smembers("one:tag:{t}") == {b"b"}


@pytest.mark.redis
async def test_reserved_namespaces_are_not_listed(pair) -> None:
    one, _, clock = pair
    await one.set_many([Record("a", b"v", clock() + 60, ("t",))])
    await one.client.set("one:lock:{a}", "token")
    assert await one.client.exists("one:keytags:{a}", "one:tag:{t}") == 2
    assert await one.match("*") == ["a"]


@pytest.mark.redis
async def test_connection_speaks_resp3(pair) -> None:
    one, _, _ = pair
    info = await one.client.client_info()
    assert str(info["resp"]) == "3"
