"""Cross-process invalidation through the event bus: two engines sharing a throwaway Redis (a
single server, a cluster with sharded pub/sub, and sentinel)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from cache.backends.base import escape_glob
from cache.backends.redis_client import RedisClient
from cache.coordination.event_codec import DomainEvent
from cache.coordination.events import EventBus
from tests.support.clock import ManualClock
from tests.support.events import CHANNEL, POLICY, Node, open_node, wire
from tests.support.redis_topologies import Topology, publish

pytestmark = pytest.mark.redis


@pytest.fixture
async def nodes(redis_topology: Topology) -> AsyncIterator[tuple[Node, Node]]:
    """Two engines with buses on each topology (single, cluster: sharded pub/sub, sentinel)."""
    a = await open_node(redis_topology, instance_id="a")
    b = await open_node(redis_topology, instance_id="b")
    yield a, b
    await a.aclose()
    await b.aclose()


class Raw:
    """Publishes raw payloads on the topology's channel kind, as another instance would."""

    def __init__(self, client: RedisClient) -> None:
        self.client = client

    async def publish(self, channel: str, payload: bytes) -> None:
        await publish(self.client, channel, payload)


@pytest.fixture
async def raw(redis_topology: Topology) -> AsyncIterator[Raw]:
    client = redis_topology.client()
    yield Raw(client)
    await client.aclose()


async def _fill(node: Node, *keys: str, tags: tuple[str, ...] = ()) -> None:
    for key in keys:
        await node.cache.set(key, {"key": key, "tags": list(tags)}, POLICY)


async def _received(bus: EventBus, count: int) -> None:
    await bus.wait_until(lambda: bus.received >= count)


INVALIDATIONS = {
    "keys": lambda c: c.invalidate_keys("trials:v1:a"),
    "tags": lambda c: c.invalidate_tags("NCT1"),
    "pattern": lambda c: c.invalidate_pattern(escape_glob("trials:v1:") + "a*"),
    "namespace": lambda c: c.invalidate_namespace("trials"),
    "clear": lambda c: c.clear(),
}
SURVIVES = {
    "keys": {"stocks:v1:x"},
    "tags": {"stocks:v1:x"},
    "pattern": {"stocks:v1:x"},
    "namespace": {"stocks:v1:x"},
    "clear": set(),
}


@pytest.mark.parametrize("kind", sorted(INVALIDATIONS))
async def test_an_invalidation_in_one_engine_removes_the_entry_from_the_others_memory(
    nodes: tuple[Node, Node],
    kind: str,
) -> None:
    a, b = nodes
    await _fill(b, "trials:v1:a", tags=("NCT1",))
    await _fill(b, "stocks:v1:x")
    assert "trials:v1:a" in b.memory
    await INVALIDATIONS[kind](a.cache)
    await _received(b.bus, 1)
    assert {key for key in ("trials:v1:a", "stocks:v1:x") if key in b.memory} == SURVIVES[kind]
    assert (a.bus.published, b.bus.received, b.bus.ignored_own) == (1, 1, 0)


async def test_received_events_are_not_published_again(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    await a.cache.invalidate_keys("trials:v1:a")
    await _received(b.bus, 1)
    await a.bus.wait_until(lambda: a.bus.ignored_own == 1)  # a hears its own message and drops it
    assert b.bus.published == 0  # apply_event does not call the hooks: no echo storm


async def test_own_events_are_ignored(nodes: tuple[Node, Node], raw: Raw) -> None:
    a, b = nodes
    await _fill(a, "trials:v1:a")  # also promoted into b below
    await b.cache.get_many(["trials:v1:a"])
    assert "trials:v1:a" in b.memory
    await raw.publish(CHANNEL, wire("keys", ["trials:v1:a"], src=a.bus.instance_id))
    await _received(b.bus, 1)
    await a.bus.wait_until(lambda: a.bus.ignored_own == 1)
    assert "trials:v1:a" in a.memory and "trials:v1:a" not in b.memory
    assert a.bus.received == 0


async def test_a_repeated_event_id_is_applied_once(nodes: tuple[Node, Node], raw: Raw) -> None:
    _, b = nodes
    message = wire("keys", ["trials:v1:a"])
    await _fill(b, "trials:v1:a")
    await raw.publish(CHANNEL, message)
    await _received(b.bus, 1)
    assert "trials:v1:a" not in b.memory
    await _fill(b, "trials:v1:a")
    await raw.publish(CHANNEL, message)
    await b.bus.wait_until(lambda: b.bus.duplicates == 1)
    assert "trials:v1:a" in b.memory and b.bus.received == 1


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[1, 2]",
        b'{"v": 1}',
        wire("keys", "trials:v1:a"),
        wire("explode", ["x"]),
        wire("keys", ["x"], event_id="not-hex"),
        wire("keys", ["x"], v=2),
        wire("namespace", ["Bad NS"]),
        wire("domain", {"name": "x", "data": [1]}),
        wire("keys", ["x"], ts="yesterday"),
    ],
)
async def test_a_malformed_message_is_counted_and_ignored(nodes: tuple[Node, Node], raw: Raw, payload: bytes) -> None:
    _, b = nodes
    await _fill(b, "x", "trials:v1:a")
    await raw.publish(CHANNEL, payload)
    await b.bus.wait_until(lambda: b.bus.malformed == 1)
    assert "x" in b.memory and b.bus.received == 0
    await raw.publish(CHANNEL, wire("keys", ["trials:v1:a"]))  # the bus goes on
    await _received(b.bus, 1)
    assert "trials:v1:a" not in b.memory and "x" in b.memory
    assert b.cache.stats.snapshot()["events"]["malformed"] == 1


async def test_domain_events_run_the_registered_handlers(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    seen: list[DomainEvent] = []
    done = asyncio.Event()

    async def on_version(event: DomainEvent) -> None:
        seen.append(event)
        await b.cache.invalidate_namespace("trials", tiers=("memory",), notify=False)
        done.set()

    b.bus.on_domain("trials.data_version", on_version)
    a.bus.on_domain("trials.data_version", on_version)  # a's own event must not run it
    await _fill(b, "trials:v1:a", "stocks:v1:x")
    event_id = await a.bus.publish_domain("trials.data_version", {"dataTimestamp": "2026-11-20T09:00:00"})
    await asyncio.wait_for(done.wait(), 10)
    assert seen == [DomainEvent("trials.data_version", {"dataTimestamp": "2026-11-20T09:00:00"})]
    assert "trials:v1:a" not in b.memory and "stocks:v1:x" in b.memory
    assert b.bus.snapshot()["domain"] == {"trials.data_version": 1} and len(event_id) == 32
    await a.bus.wait_until(lambda: a.bus.ignored_own == 1)
    assert len(seen) == 1


async def test_a_failing_domain_handler_is_counted_and_others_still_run(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    ran = asyncio.Event()

    async def broken(event: DomainEvent) -> None:
        raise RuntimeError("handler bug")

    async def fine(event: DomainEvent) -> None:
        ran.set()

    b.bus.on_domain("stocks.session_closed", broken)
    b.bus.on_domain("stocks.session_closed", fine)
    await a.bus.publish_domain("stocks.session_closed", {"date": "2026-11-20"})
    await asyncio.wait_for(ran.wait(), 10)
    await b.bus.wait_until(lambda: b.bus.domain.errors == 1)
    assert b.bus.snapshot()["domain_errors"] == 1
    assert b.bus.connected


async def test_run_local_also_runs_the_senders_handlers(nodes: tuple[Node, Node]) -> None:
    a, _ = nodes
    ran = asyncio.Event()

    async def handler(event: DomainEvent) -> None:
        ran.set()

    a.bus.on_domain("trials.data_version", handler)
    await a.bus.publish_domain("trials.data_version", {}, run_local=True)
    await asyncio.wait_for(ran.wait(), 10)
    with pytest.raises(ValueError):
        await a.bus.publish_domain("no spaces allowed", {})


async def test_propagation_latency_is_reported_in_the_cache_statistics(redis_url: str) -> None:
    sender_clock, receiver_clock = ManualClock(1000.0), ManualClock(1000.25)  # never moved
    a = await open_node(redis_url, clock=sender_clock, instance_id="a")
    b = await open_node(redis_url, clock=receiver_clock, instance_id="b")
    try:
        assert b.cache.stats.snapshot()["events"]["propagation_ms"]["samples"] == 0
        await a.cache.invalidate_tags("NCT1")
        await _received(b.bus, 1)
        events: dict[str, Any] = b.cache.stats.snapshot()["events"]
        assert events["propagation_ms"] == {"p50": 250.0, "p90": 250.0, "p99": 250.0, "max": 250.0, "samples": 1}
        assert (events["received"], events["connected"], events["instance_id"]) == (1, True, "b")
    finally:
        await a.aclose()
        await b.aclose()


async def test_a_failed_publish_never_fails_the_invalidation(redis_url: str) -> None:
    a = await open_node(redis_url)
    await a.bus.aclose()  # unhooked: nothing is published any more
    await a.cache.invalidate_keys("trials:v1:a")
    assert a.bus.published == 0
    unreachable = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    bus = EventBus(unreachable, CHANNEL, a.cache, reconnect_backoff=(0.01, 0.05))
    await bus.start()  # a bus whose Redis cannot be reached
    counts = await a.cache.invalidate_keys("trials:v1:a")
    assert counts["memory"] == 0 and bus.publish_errors == 1 and not bus.connected
    await bus.aclose()
    await unreachable.aclose()
    await a.aclose()
