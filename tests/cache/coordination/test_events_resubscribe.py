"""When the event subscription drops, the memory tier is cleared and the bus resubscribes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from cache.coordination.events import EventBus
from tests.support.events import CHANNEL, POLICY, Node, open_node
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.redis


async def _fill(node: Node, *keys: str) -> None:
    for key in keys:
        await node.cache.set(key, {"key": key}, POLICY)


async def _assert_receives_again(sender: Node, receiver: Node) -> None:
    await _fill(receiver, "trials:v1:after")
    before = receiver.bus.received
    await sender.cache.invalidate_keys("trials:v1:after")
    await receiver.bus.wait_until(lambda: receiver.bus.received > before)
    assert "trials:v1:after" not in receiver.memory


@pytest.fixture
async def nodes(redis_url: str) -> AsyncIterator[tuple[Node, Node]]:
    a, b = await open_node(redis_url, instance_id="a"), await open_node(redis_url, instance_id="b")
    yield a, b
    await a.aclose()
    await b.aclose()


async def test_a_killed_subscriber_connection_clears_memory_and_resubscribes(
    nodes: tuple[Node, Node],
    redis_server: RedisServer,  # noqa: F811
) -> None:
    a, b = nodes
    await _fill(b, "trials:v1:a", "stocks:v1:x")
    assert len(b.memory) == 2
    assert redis_server.command("CLIENT", "KILL", "TYPE", "pubsub").startswith(b":")  # both buses' subscriptions
    # redis-py reconnects the pub/sub connection by itself; the bus notices the new confirmation.
    await b.bus.wait_until(lambda: b.bus.subscriptions == 2 and b.bus.connected)
    assert len(b.memory) == 0
    assert (b.bus.drops, b.bus.memory_clears) == (1, 1)
    await a.bus.wait_until(lambda: a.bus.subscriptions == 2)
    await _assert_receives_again(a, b)
    assert b.cache.stats.snapshot()["events"]["drops"] == 1


async def test_a_client_without_retries_drops_reconnects_with_backoff_and_clears(
    nodes: tuple[Node, Node],
    redis_url: str,
    redis_server: RedisServer,  # noqa: F811
) -> None:
    a, _ = nodes
    client = Redis.from_url(redis_url, retry=Retry(NoBackoff(), 0), socket_timeout=5.0)
    c = await open_node(redis_url, client=client, instance_id="c")
    try:
        await _fill(c, "trials:v1:a")
        redis_server.command("CLIENT", "KILL", "TYPE", "pubsub")
        await c.bus.wait_until(lambda: c.bus.subscriptions == 2 and c.bus.connected)
        assert len(c.memory) == 0 and c.bus.drops == 1
        await a.bus.wait_until(lambda: a.bus.subscriptions == 2)
        await _assert_receives_again(a, c)
    finally:
        await c.aclose()


@pytest.fixture
def own_server() -> Iterator[RedisServer]:
    """A server of this test's own: it gets stopped and started again."""
    with RedisServer() as server:
        yield server


async def test_a_redis_restart_clears_memory_and_the_bus_resubscribes(own_server: RedisServer) -> None:
    a = await open_node(own_server.url, instance_id="a")
    b = await open_node(own_server.url, instance_id="b")
    try:
        await _fill(b, "trials:v1:a", "trials:v1:b")
        own_server.stop()
        await b.bus.wait_until(lambda: not b.bus.connected)
        assert len(b.memory) == 0 and b.bus.drops == 1  # cleared as soon as the drop was seen
        # Entries stored during the outage may miss events too: cleared again on resubscription.
        await _fill(b, "trials:v1:during")  # the Redis tier is down: memory only
        assert "trials:v1:during" in b.memory
        own_server.start()
        await b.bus.wait_until(lambda: b.bus.connected and b.bus.subscriptions == 2)
        await a.bus.wait_until(lambda: a.bus.connected and a.bus.subscriptions == 2)
        assert "trials:v1:during" not in b.memory
        assert b.bus.drops == 1 and b.bus.memory_clears == 2
        await _assert_receives_again(a, b)
    finally:
        await a.aclose()
        await b.aclose()


async def test_entries_cached_before_the_first_subscription_are_cleared(redis_url: str) -> None:
    node = await open_node(redis_url)
    await node.bus.aclose()
    await _fill(node, "trials:v1:early")  # cached while no bus listened: may miss events
    bus = EventBus(node.cache.redis.client, CHANNEL, node.cache)  # type: ignore[union-attr]
    await bus.start()
    await bus.wait_connected()
    assert "trials:v1:early" not in node.memory and (bus.memory_clears, bus.drops) == (1, 0)
    await bus.aclose()
    await node.cache.aclose()
