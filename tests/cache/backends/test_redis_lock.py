"""Cross-process single-flight locks: SET NX PX and compare-and-delete release."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import RedisCluster

from cache.backends.redis import RedisBackend
from cache.backends.redis_lock import RedisLocker
from tests.support.redis_topologies import Topology

pytestmark = pytest.mark.redis


@pytest.fixture
async def backend(redis_topology: Topology) -> AsyncIterator[RedisBackend]:
    """Each lock test on a single server, a cluster (the lock lives in its key's slot) and sentinel."""
    opened = redis_topology.backend(prefix="lk:")
    yield opened
    await opened.aclose()


async def test_acquire_contend_release(backend: RedisBackend) -> None:
    first, second = RedisLocker(backend), RedisLocker(backend)
    token = await first.acquire("trials:NCT1", ttl=30)
    assert token is not None
    assert await second.acquire("trials:NCT1", ttl=30) is None
    assert await second.acquire("trials:NCT2", ttl=30) is not None  # other keys are independent
    assert await backend.client.get("lk:lock:{trials:NCT1}") == token.encode()

    assert await first.release("trials:NCT1", token) is True
    assert await backend.client.exists("lk:lock:{trials:NCT1}") == 0
    assert await second.acquire("trials:NCT1", ttl=30) is not None


async def test_release_with_a_wrong_token_does_not_delete(backend: RedisBackend) -> None:
    locker = RedisLocker(backend)
    token = await locker.acquire("k", ttl=30)
    assert token is not None
    assert await locker.release("k", "not-the-token") is False
    assert await backend.client.get("lk:lock:{k}") == token.encode()
    assert await locker.release("k", token) is True
    assert await locker.release("k", token) is False  # already gone


async def test_lock_expires_with_its_ttl(backend: RedisBackend) -> None:
    locker = RedisLocker(backend)
    assert await locker.acquire("k", ttl=2.5) is not None
    assert 2_000 < await backend.client.pttl("lk:lock:{k}") <= 2_500


async def test_extend_renews_only_the_holders_lock(backend: RedisBackend) -> None:
    locker = RedisLocker(backend)
    token = await locker.acquire("k", ttl=1)
    assert token is not None
    assert await locker.extend("k", "not-the-token", ttl=30) is False
    assert await backend.client.pttl("lk:lock:{k}") <= 1_000  # a stranger's extension changed nothing
    assert await locker.extend("k", token, ttl=30) is True
    assert 29_000 < await backend.client.pttl("lk:lock:{k}") <= 30_000
    assert await locker.release("k", token) is True
    assert await locker.extend("k", token, ttl=30) is False  # a released lock is not brought back
    assert await backend.client.exists("lk:lock:{k}") == 0


async def test_release_script_is_registered_once(backend: RedisBackend) -> None:
    locker = RedisLocker(backend)
    cluster = isinstance(backend.client, RedisCluster)
    if cluster:
        await backend.client.config_resetstat(target_nodes=RedisCluster.PRIMARIES)  # type: ignore[call-arg]
    else:
        await backend.client.config_resetstat()
    for i in range(5):
        token = await locker.acquire(f"k{i}", ttl=30)
        assert token is not None
        assert await locker.release(f"k{i}", token) is True
    if cluster:  # one INFO per primary: the script loads once on each
        replies = await backend.client.info("commandstats", target_nodes=RedisCluster.PRIMARIES)
        per_node = list(replies.values())
    else:
        per_node = [await backend.client.info("commandstats")]
    evalsha = [stats.get("cmdstat_evalsha", {}) for stats in per_node]
    assert sum(int(e.get("calls", 0)) - int(e.get("failed_calls", 0)) for e in evalsha) == 5  # a NOSCRIPT miss fails
    assert all(stats.get("cmdstat_script", {}).get("calls", 0) <= 1 for stats in per_node)
