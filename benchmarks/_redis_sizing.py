"""Redis memory of cache entries, for ``benchmarks.scale_out`` (and the sizing in docs/deployment.md).

- :func:`real_entry_bytes`: what the entries a workload left take (``MEMORY USAGE``);
- :func:`sizing`: ``used_memory`` before and after writing N trial-summary entries through
  ``TieredCache`` with a Redis tier, each tagged with its NCT id as trial records are.
"""

from __future__ import annotations

from redis import Redis

from benchmarks.cache_tiers import _value
from cache.backends.memory import MemoryBackend
from cache.backends.redis import RedisBackend
from cache.engine.tiered import TieredCache
from cache.policy import CachePolicy
from tests.support.redis_server import RedisServer

MIB = 1024 * 1024


def real_entry_bytes(urls: list[str]) -> tuple[int, float]:
    """Entries of the cache prefix left by the workload on the primaries at ``urls``, and their
    mean ``MEMORY USAGE`` (bytes, keytags and tag sets included)."""
    entries, total = 0, 0
    for url in urls:
        client = Redis.from_url(url)
        try:
            keys = list(client.scan_iter(match="trialstock:*", count=1000))
            total += sum(client.memory_usage(key) or 0 for key in keys)
            entries += sum(1 for key in keys if b"keytags:" not in key and b"tag:" not in key)
        finally:
            client.close()
    return entries, total / max(entries, 1)


async def sizing(entries: int) -> str:
    """Redis memory taken by ``entries`` trial-summary entries written through the engine."""
    with RedisServer() as server:
        raw = Redis.from_url(server.url)
        before = int(raw.info("memory")["used_memory"])
        backend = RedisBackend.from_url(server.url, socket_timeout=5.0, connect_timeout=5.0)
        engine = TieredCache(MemoryBackend(max_entries=100, max_bytes=MIB), redis=backend, tier_timeout=30.0)
        policy = CachePolicy("trials.record", fresh_ttl=86400, stale_ttl=7 * 86400, tags_from=lambda v: [v["nctId"]])
        try:
            for start in range(0, entries, 500):
                batch = [(f"trials.record:v2:{i:032x}", _value(i)) for i in range(start, min(start + 500, entries))]
                await engine.set_many(batch, policy)
            after = int(raw.info("memory")["used_memory"])
            keys = int(raw.dbsize())
        finally:
            await engine.aclose()
            raw.close()
    per_entry = (after - before) / entries
    return (
        f"Redis used_memory for {entries:,} entries (~2 KB trial summaries, one tag each, {keys:,} keys with "
        f"the tag index): {(after - before) / MIB:.1f} MiB, {per_entry:,.0f} B per entry, "
        f"{per_entry * 10_000 / MIB:.1f} MiB per 10k entries"
    )
