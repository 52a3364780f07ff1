"""Helpers for the event-bus tests: engines with a memory tier, a Redis tier and a bus each."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis

from cache.backends.memory import MemoryBackend
from cache.backends.redis import RedisBackend
from cache.coordination.events import EventBus
from cache.engine.tiered import TieredCache
from cache.policy import CachePolicy
from tests.support.engine import bounded_memory, build_engine
from tests.support.redis_topologies import Topology

CHANNEL = "test:events"
POLICY = CachePolicy("trials", fresh_ttl=60, stale_ttl=600, tags_from=lambda v: v.get("tags", ()))


@dataclass
class Node:
    """One 'process': its engine and its bus."""

    cache: TieredCache
    bus: EventBus

    @property
    def memory(self) -> MemoryBackend:
        return self.cache.memory

    async def aclose(self) -> None:
        await self.bus.aclose()
        await self.cache.aclose()


async def open_node(
    url: str | Topology,
    *,
    clock: Callable[[], float] = time.time,
    client: Redis | None = None,
    instance_id: str | None = None,
) -> Node:
    """A started node on ``url`` (a single server) or a topology; generous socket timeouts (a
    loaded 2-core machine must not skip Redis)."""
    if client is not None:
        backend = RedisBackend(client)
    elif isinstance(url, Topology):
        backend = url.backend(socket_timeout=5.0, connect_timeout=5.0)
    else:
        backend = RedisBackend.from_url(url, socket_timeout=5.0, connect_timeout=5.0)
    cache = build_engine(bounded_memory(), redis=backend, tier_timeout=5.0)  # on the system clock
    bus = EventBus(
        backend.client,
        CHANNEL,
        cache,
        instance_id=instance_id,
        clock=clock,
        reconnect_backoff=(0.01, 0.2),
        poll_interval=0.5,
    )
    await bus.start()
    await bus.wait_connected()
    return Node(cache, bus)


def wire(
    kind: str,
    value: Any,
    *,
    src: str = "someone-else",
    event_id: str | None = None,
    ts: float | None = None,
    **extra: Any,
) -> bytes:
    """A message as another instance would publish it (fields overridable for malformed cases)."""
    doc = {
        "v": 1,
        "id": event_id or uuid.uuid4().hex,
        "src": src,
        "kind": kind,
        "value": value,
        "ts": time.time() if ts is None else ts,
        **extra,
    }
    return orjson.dumps(doc)
