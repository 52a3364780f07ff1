"""Child process for the cross-process single-flight test.

``python _single_flight_child.py REDIS_CONFIG_JSON COUNTER_KEY CACHE_KEY CALLERS`` (a topology's
settings, ``tests.support.redis_topologies.Topology.config_json``): builds the real
engine (memory + Redis tier + Redis lock), prints "ready", waits for "go" on stdin, then runs
CALLERS concurrent get_or_fetch for one cold key. The loader counts its runs with INCR on Redis.
Prints one JSON line: the distinct values and tiers seen, and the failures.
"""

from __future__ import annotations

import asyncio
import json
import sys

from cache import EngineConfig, build_cache
from cache.policy import CachePolicy
from tests.support.redis_topologies import config_from_json

POLICY = CachePolicy("sf", fresh_ttl=60, stale_ttl=600)


async def main(config: str, counter_key: str, key: str, callers: int) -> None:
    cache = await build_cache(EngineConfig(tier_timeout=2.0, lock_wait=20.0), redis=config_from_json(config))
    assert cache.redis is not None
    counter = cache.redis.client  # type: ignore[attr-defined]  # the tier's own client: any topology

    async def loader() -> dict[str, int]:
        await counter.incr(counter_key)
        await asyncio.sleep(0.5)  # stands in for upstream latency: the other process contends meanwhile
        return {"answer": 42}

    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("no go")
    outcomes = await asyncio.gather(
        *(cache.get_or_fetch(key, loader, POLICY) for _ in range(callers)), return_exceptions=True
    )
    failures = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    results = [o for o in outcomes if not isinstance(o, BaseException)]
    print(
        json.dumps(
            {
                "values": sorted({json.dumps(r.value, sort_keys=True) for r in results}),
                "tiers": sorted({str(r.meta.tier) for r in results}),
                "count": len(results),
                "failures": failures[:3],
            }
        ),
        flush=True,
    )
    await cache.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
