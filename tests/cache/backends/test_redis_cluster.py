"""The Redis tier on a real Redis Cluster (3 primaries, 1 replica each, spawned once per session):
slots, per-slot batches, SCAN on every primary, redirections during a slot migration, and a
health check that asks the cluster rather than PING."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import RedisCluster
from redis.crc import key_slot

from cache import EngineConfig, build_cache
from cache.backends.redis import RedisBackend
from cache.backends.redis_lock import RedisLocker
from cache.config import RedisConfig
from cache.entry import Record
from tests.support.ports import free_port
from tests.support.redis_server import RedisServer
from tests.support.redis_topologies import ClusterServers, cli, info_fields

pytestmark = pytest.mark.redis

KEYS = [f"ns:k{i}" for i in range(300)]


def slot(name: str) -> int:
    return key_slot(name.encode())


@pytest.fixture
async def backend(redis_cluster: ClusterServers) -> AsyncIterator[RedisBackend]:
    redis_cluster.wait_healthy()
    redis_cluster.flushall()
    config = redis_cluster.redis_config()
    opened = RedisBackend.from_url(
        config.url.get_secret_value() if config.url else None,
        mode="cluster",
        nodes=config.nodes,
        socket_timeout=5.0,
        connect_timeout=5.0,
    )
    yield opened
    await opened.aclose()


def _records(keys: list[str], ttl: float = 600.0) -> list[Record]:
    now = time.time()
    return [Record(key, key.encode(), now + ttl, ("t", key)) for key in keys]


def _stat(cluster: ClusterServers, port: int, command: str) -> int:
    fields = info_fields(cli(port, "INFO", "commandstats")).get(f"cmdstat_{command}", "")
    values = dict(part.split("=", 1) for part in fields.split(",") if "=" in part)
    return int(values.get("calls", 0)) - int(values.get("failed_calls", 0))


def test_a_keys_value_tag_list_and_lock_share_one_slot() -> None:
    backend = RedisBackend.from_url("redis://127.0.0.1:1/0")  # no connection is made
    locker = RedisLocker(backend)
    for key in ["trials:v1:NCT1", "ns:a{b}", "ns:a}b", "ns:[*?]%_\\", "stocks:v2:2330.TW"]:
        slots = {slot(backend.key(key)), slot(backend.keytags_key(key)), slot(locker.lock_key(key))}
        assert len(slots) == 1, key
    spread = {slot(backend.key(key)) for key in KEYS}
    assert len(spread) > 250  # not forced into one slot: the cache spreads over the cluster


def test_a_prefix_with_braces_is_refused() -> None:
    with pytest.raises(ValueError, match="hash tags"):
        RedisBackend.from_url("redis://127.0.0.1:1/0", prefix="{app}:")


async def test_batches_are_one_command_per_slot_spread_over_every_primary(
    backend: RedisBackend, redis_cluster: ClusterServers
) -> None:
    primaries = redis_cluster.primary_ports()
    await backend.set_many(_records(KEYS))
    sizes = {port: int(cli(port, "DBSIZE")) for port in primaries}
    assert all(size > 0 for size in sizes.values()), sizes  # every primary holds a share
    for port in primaries:
        cli(port, "CONFIG", "RESETSTAT")
    found = await backend.get_many([*KEYS, "ns:missing"])
    assert found == {key: key.encode() for key in KEYS}
    mgets = sum(_stat(redis_cluster, port, "mget") for port in primaries)
    assert mgets == len({slot(backend.key(key)) for key in [*KEYS, "ns:missing"]})  # one MGET per slot
    assert await backend.delete_many([*KEYS[:100], "ns:missing"]) == 100
    assert await backend.get_many(KEYS[:100]) == {}


async def test_match_tagged_and_clear_see_every_primary(backend: RedisBackend, redis_cluster: ClusterServers) -> None:
    await backend.set_many(_records(KEYS))
    assert sorted(await backend.match("ns:k1*")) == sorted(k for k in KEYS if k.startswith("ns:k1"))
    assert sorted(await backend.tagged(["t"])) == sorted(KEYS)
    assert await backend.clear() == len(KEYS)
    assert all(int(cli(port, "DBSIZE")) == 0 for port in redis_cluster.primary_ports())


async def test_reads_follow_a_slot_migration_through_ask_and_moved(
    backend: RedisBackend, redis_cluster: ClusterServers
) -> None:
    await backend.set_many(_records(KEYS[:50]))
    hot = backend.key("ns:k0")
    moving = key_slot(hot.encode())
    source = redis_cluster.owner_port(hot)
    target = next(port for port in redis_cluster.primary_ports() if port != source)
    source_id, target_id = redis_cluster.node_id(source), redis_cluster.node_id(target)
    reads = 0
    errors: list[str] = []
    stop = asyncio.Event()

    async def reader() -> None:
        nonlocal reads
        while not stop.is_set():
            try:
                found = await backend.get_many(KEYS[:50])
                tagged = await backend.tagged(["ns:k0"])
                assert found == {key: key.encode() for key in KEYS[:50]} and tagged == ["ns:k0"]
                reads += 1
            except Exception as exc:  # collected: the assertion below shows them
                errors.append(repr(exc))
            await asyncio.sleep(0)

    cli(target, "CONFIG", "RESETSTAT")
    task = asyncio.create_task(reader())
    try:
        await asyncio.to_thread(cli, target, "CLUSTER", "SETSLOT", str(moving), "IMPORTING", source_id)
        await asyncio.to_thread(cli, source, "CLUSTER", "SETSLOT", str(moving), "MIGRATING", target_id)
        names = (await asyncio.to_thread(cli, source, "CLUSTER", "GETKEYSINSLOT", str(moving), "100")).split()
        assert hot in names and backend.keytags_key("ns:k0") in names  # the value and its tag list
        # The value moves first: reads of it are answered with ASK while its tag list stays behind.
        await asyncio.to_thread(cli, source, "MIGRATE", "127.0.0.1", str(target), hot, "0", "5000")
        before = reads
        await _wait(lambda: reads >= before + 20)
        assert _stat(redis_cluster, target, "asking") > 0  # redis-py followed ASK to the importing node
        rest = [name for name in names if name != hot]
        await asyncio.to_thread(cli, source, "MIGRATE", "127.0.0.1", str(target), "", "0", "5000", "KEYS", *rest)
        # The slot now belongs to target (MOVED from here on): told to the target first, then the
        # source, then the others, as the Redis manual orders it (else a redirection loop).
        others = [port for port in redis_cluster.primary_ports() if port not in (source, target)]
        for port in [target, source, *others]:
            await asyncio.to_thread(cli, port, "CLUSTER", "SETSLOT", str(moving), "NODE", target_id)
        before = reads
        await _wait(lambda: reads >= before + 20)
    finally:
        stop.set()
        await task
    assert errors == [] and reads >= 40
    assert redis_cluster.owner_port(hot) == target
    assert await backend.get_many(["ns:k0"]) == {"ns:k0": b"ns:k0"}


async def test_health_asks_the_cluster_not_just_ping(
    backend: RedisBackend, spawn_redis: Callable[..., RedisServer]
) -> None:
    assert await backend.ping() is True
    # A cluster-enabled node that owns no slots answers PING but cannot serve a single key.
    lonely = spawn_redis(
        extra_args=[
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-port",
            str(free_port()),
        ]
    )
    assert lonely.command("PING").startswith(b"+PONG")
    config = {"url": lonely.url, "mode": "cluster", "socket_timeout": 2.0, "connect_timeout": 2.0}
    cache = await build_cache(EngineConfig(tier_timeout=2.0), redis=RedisConfig(**config))
    try:
        assert (await cache.ping())["redis"] is False  # what service_status and readiness report
    finally:
        await cache.aclose()


async def test_ping_is_false_while_a_slot_has_no_primary(backend: RedisBackend, redis_cluster: ClusterServers) -> None:
    """Stopping a primary and its replica leaves slots unserved: CLUSTER INFO says fail."""
    assert await backend.ping() is True
    primary = redis_cluster.primary_ports()[-1]
    replica_of = {
        int(f[1].split("@")[0].rsplit(":", 1)[1]): f[3] for f in redis_cluster.node_table() if "slave" in f[2]
    }
    primary_id = redis_cluster.node_id(primary)
    replica = next(port for port, master in replica_of.items() if master == primary_id)
    redis_cluster.server(replica).stop()
    redis_cluster.server(primary).stop()
    try:
        await _wait(lambda: _state_of_others(redis_cluster) == "fail", timeout=20)
        assert await backend.ping() is False
    finally:
        redis_cluster.server(primary).start()
        redis_cluster.server(replica).start()
        redis_cluster.wait_healthy()
    await _wait_async(backend.ping, timeout=20)


def _state_of_others(cluster: ClusterServers) -> str:
    states = {info_fields(cli(node.port, "CLUSTER", "INFO")).get("cluster_state") for node in cluster.running()}
    return "fail" if "fail" in states else "ok"


async def _wait(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


async def _wait_async(probe: Callable[[], object], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not await probe():  # type: ignore[misc]
            await asyncio.sleep(0.1)


def test_cluster_client_type(backend: RedisBackend) -> None:
    assert isinstance(backend.client, RedisCluster) and backend.cluster
