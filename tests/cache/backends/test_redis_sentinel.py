"""The Redis tier behind Sentinel (one primary, one replica, three sentinels, spawned once per
session): the client follows the primary across a failover, ordered or after a crash."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from cache.backends.redis import RedisBackend
from cache.entry import Record
from tests.support.redis_topologies import SentinelServers, cli, info_fields

pytestmark = pytest.mark.redis


@pytest.fixture
async def backend(redis_sentinel: SentinelServers) -> AsyncIterator[RedisBackend]:
    redis_sentinel.wait_healthy()
    redis_sentinel.flushall()
    config = redis_sentinel.redis_config()
    opened = RedisBackend.from_url(
        None,
        mode="sentinel",
        sentinels=config.sentinels,
        service_name=config.service_name,
        socket_timeout=2.0,
        connect_timeout=2.0,
    )
    yield opened
    await opened.aclose()


async def _write_and_read(backend: RedisBackend, key: str) -> bool:
    """One write and one read of ``key``; True when both worked (errors are the outage)."""
    try:
        await backend.set_many([Record(key, key.encode(), time.time() + 600, ("t",))])
        return await backend.get_many([key]) == {key: key.encode()}
    except Exception:  # the outage itself: the caller counts and retries
        return False


async def _until_it_works(backend: RedisBackend, key: str, timeout: float = 30.0) -> tuple[int, float]:
    """Retry until a write and a read of ``key`` work; (failed attempts, seconds it took)."""
    started, failures = time.monotonic(), 0
    async with asyncio.timeout(timeout):
        while not await _write_and_read(backend, key):
            failures += 1
            await asyncio.sleep(0.05)
    return failures, time.monotonic() - started


def _role(port: int) -> str:
    return info_fields(cli(port, "INFO", "replication")).get("role", "")


async def _new_primary(sentinel: SentinelServers, old: int, timeout: float = 30.0) -> int:
    async with asyncio.timeout(timeout):
        while True:
            port = await asyncio.to_thread(sentinel.primary_port)
            if port != old and await asyncio.to_thread(_role, port) == "master":
                return port
            await asyncio.sleep(0.1)


async def test_reads_and_writes_follow_an_ordered_failover(
    backend: RedisBackend, redis_sentinel: SentinelServers
) -> None:
    assert await _write_and_read(backend, "ns:before")
    old = redis_sentinel.primary_port()
    cli(old, "WAIT", "1", "2000")  # replication is asynchronous: the replica has the key first
    cli(redis_sentinel.sentinels[0].port, "SENTINEL", "FAILOVER", redis_sentinel.service)
    new = await _new_primary(redis_sentinel, old)
    # Until the sentinels demote the old primary it still takes writes that the resync will drop
    # (Redis replication is asynchronous); once it is a replica, a pooled connection to it fails
    # with READONLY and redis-py reconnects through the sentinels to the new primary.
    async with asyncio.timeout(30):
        while await asyncio.to_thread(_role, old) != "slave":
            await asyncio.sleep(0.1)
    failures, seconds = await _until_it_works(backend, "ns:after")
    print(f"\nsentinel ordered failover: {failures} failed attempts, working again after {seconds:.2f}s")
    assert cli(new, "GET", backend.key("ns:after")) == "ns:after"  # written on the new primary
    assert await backend.get_many(["ns:before"]) == {"ns:before": b"ns:before"}  # replicated before
    assert await backend.ping() is True


async def test_reads_and_writes_follow_the_primary_after_it_is_killed(
    backend: RedisBackend, redis_sentinel: SentinelServers
) -> None:
    assert await _write_and_read(backend, "ns:before")
    old = redis_sentinel.primary_port()
    cli(old, "WAIT", "1", "2000")  # the replica has the key before the crash
    victim = redis_sentinel.server(old)
    victim.stop()
    try:
        new = await _new_primary(redis_sentinel, old)
        failures, seconds = await _until_it_works(backend, "ns:after")
        print(f"\nsentinel primary killed: {failures} failed attempts, working again after {seconds:.2f}s")
        assert cli(new, "GET", backend.key("ns:after")) == "ns:after"
        assert await backend.get_many(["ns:before"]) == {"ns:before": b"ns:before"}
    finally:
        victim.start()  # comes back as a replica of the new primary (the sentinels reconfigure it)
        redis_sentinel.wait_healthy()
