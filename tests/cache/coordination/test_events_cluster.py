"""Sharded pub/sub on the session's Redis Cluster: events ride SPUBLISH/SSUBSCRIBE on the primary
owning the channel's slot, and the bus follows that slot to the promoted replica when its
primary dies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.support.events import CHANNEL, POLICY, Node, open_node
from tests.support.redis_topologies import ClusterServers, Topology, cli, info_fields

pytestmark = pytest.mark.redis


@pytest.fixture
async def nodes(redis_cluster: ClusterServers) -> AsyncIterator[tuple[Node, Node]]:
    redis_cluster.wait_healthy()
    redis_cluster.flushall()
    topology = Topology("cluster", redis_cluster.redis_config(), redis_cluster)
    a = await open_node(topology, instance_id="a")
    b = await open_node(topology, instance_id="b")
    yield a, b
    await a.aclose()
    await b.aclose()


async def test_events_use_sharded_pub_sub(nodes: tuple[Node, Node], redis_cluster: ClusterServers) -> None:
    a, b = nodes
    owner = redis_cluster.owner_port(CHANNEL)
    assert cli(owner, "PUBSUB", "SHARDNUMSUB", CHANNEL).split() == [CHANNEL, "2"]
    assert cli(owner, "PUBSUB", "NUMSUB", CHANNEL).split() == [CHANNEL, "0"]  # no plain subscribers
    await b.cache.set("trials:v1:a", {"key": "a"}, POLICY)
    await a.cache.invalidate_keys("trials:v1:a")
    await b.bus.wait_until(lambda: "trials:v1:a" not in b.memory, timeout=10)


async def test_the_bus_follows_the_channels_slot_to_the_promoted_replica(
    nodes: tuple[Node, Node], redis_cluster: ClusterServers
) -> None:
    a, b = nodes
    killed = redis_cluster.owner_port(CHANNEL)
    victim = redis_cluster.server(killed)
    drops = b.bus.drops
    victim.stop()  # SIGKILL: both buses lose their subscription and clear their memory tier
    try:
        async with asyncio.timeout(30):
            while True:
                owner = await asyncio.to_thread(_owner_or_none, redis_cluster, CHANNEL)
                if owner not in (None, killed) and _role(owner) == "master":
                    break
                await asyncio.sleep(0.1)
        await b.bus.wait_until(lambda: b.bus.drops > drops and b.bus.connected, timeout=20)
        await a.bus.wait_until(lambda: a.bus.connected, timeout=20)
        await b.cache.set("trials:v1:after", {"key": "after"}, POLICY)
        await a.cache.invalidate_keys("trials:v1:after")
        await b.bus.wait_until(lambda: "trials:v1:after" not in b.memory, timeout=10)
        new_owner = redis_cluster.owner_port(CHANNEL)
        assert cli(new_owner, "PUBSUB", "SHARDNUMSUB", CHANNEL).split() == [CHANNEL, "2"]
    finally:
        victim.start()  # rejoins as a replica
        redis_cluster.wait_healthy()


def _owner_or_none(cluster: ClusterServers, key: str) -> int | None:
    try:
        return cluster.owner_port(key)
    except Exception:  # mid-election: no primary serves the slot yet
        return None


def _role(port: int) -> str:
    return info_fields(cli(port, "INFO", "replication")).get("role", "")
