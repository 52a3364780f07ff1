"""Child process for the two-process invalidation test.

``python _events_child.py REDIS_CONFIG_JSON CHANNEL KEY`` (a topology's settings,
``tests.support.redis_topologies.Topology.config_json``): builds the real engine (memory + Redis tier)
with an event bus, loads KEY into its memory tier, prints ``ready``, then waits (bounded) until
another process's invalidation has removed KEY from its memory tier and prints one JSON line:
whether the key is gone and the bus's counters.
"""

from __future__ import annotations

import asyncio
import json
import sys

from cache import EngineConfig, build_cache
from cache.coordination.events import EventBus
from cache.policy import CachePolicy
from tests.support.redis_topologies import config_from_json

POLICY = CachePolicy("trials", fresh_ttl=60, stale_ttl=600)


async def main(config: str, channel: str, key: str) -> None:
    cache = await build_cache(
        EngineConfig(tier_timeout=5.0), redis=config_from_json(config, socket_timeout=5.0, connect_timeout=5.0)
    )
    assert cache.redis is not None
    bus = EventBus(cache.redis.client, channel, cache, instance_id="child")  # type: ignore[attr-defined]
    await bus.start()
    await bus.wait_connected(timeout=20)

    async def loader() -> dict[str, str]:
        return {"from": "child"}

    await cache.get_or_fetch(key, loader, POLICY)
    print("ready" if key in cache.memory else "not-cached", flush=True)
    try:
        await bus.wait_until(lambda: key not in cache.memory, timeout=20)
    except TimeoutError:
        pass
    events = bus.snapshot()
    print(
        json.dumps(
            {
                "gone": key not in cache.memory,
                "received": events["received"],
                "samples": events["propagation_ms"]["samples"],
            }
        ),
        flush=True,
    )
    await bus.aclose()
    await cache.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
