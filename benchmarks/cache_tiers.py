"""Cache tier hits against the raw libraries, measured in one run: ``python -m benchmarks.cache_tiers``.

Rows (median, p90, p99 per hit; ratio of medians; target):

- memory tier hit through ``TieredCache.get_or_fetch`` vs ``cachetools.TTLCache.get`` (2x);
- ``SqliteBackend.get_many([key])`` vs a raw aiosqlite primary-key SELECT on the same file (1.3x),
  and the same hit through ``TieredCache`` with the memory tier emptied before every call;
- ``RedisBackend.get_many([key])`` vs a raw redis-py asyncio GET on the same throwaway server
  (1.3x), the same through ``TieredCache``, and a 100-key batch vs a raw 100-key MGET, with its
  round trips counted from ``INFO commandstats`` (must be 1 MGET per batch);
- the engine's own CPU on a lower-tier hit: the same ``TieredCache`` hit over an in-process
  backend that answers from a dict at once, against that backend's ``get_many`` alone (no
  target: it is what the engine adds to any tier's read, whatever the tier's latency).

Subject and baseline are sampled in alternating rounds so machine noise hits both alike. Spawns
its own redis-server (tests.support.redis_server); skips the Redis rows when the binary is
missing. Runs in well under 60 s.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite
from cachetools import TTLCache
from redis.asyncio import Redis

from benchmarks._table import Row, print_table, sample_async, sample_sync
from cache.backends.memory import MemoryBackend
from cache.backends.redis import RedisBackend
from cache.backends.sqlite import SqliteBackend
from cache.engine.tiered import TieredCache
from cache.entry import Record
from cache.policy import CachePolicy
from tests.support.redis_server import RedisServer

POLICY = CachePolicy("bench", fresh_ttl=3600, stale_ttl=7200)
KEYS = [f"bench:trial:NCT{10_000_000 + i}" for i in range(1000)]
ROUNDS = 5
PER_CALL_SAMPLES = 4000  # per side, I/O rows (one call per sample)
MEMORY_SAMPLES, MEMORY_INNER = 400, 100  # per side, memory row (100 calls per sample)


def _value(i: int) -> dict[str, Any]:
    """A trial summary of about 2 KB, the typical cached object."""
    return {
        "nctId": f"NCT{10_000_000 + i}",
        "briefTitle": f"A Phase 2 Study of Drug {i} in EGFR L858R Non-Small Cell Lung Cancer",
        "overallStatus": "RECRUITING",
        "conditions": ["Non-Small Cell Lung Cancer", "EGFR L858R"],
        "phases": ["PHASE2"],
        "eligibility": "Inclusion Criteria: adults with EGFR L858R mutation. " * 25,
        "locations": [{"city": "Taipei", "country": "Taiwan", "status": "RECRUITING"}] * 5,
    }


def _key_cycle(keys: list[str]) -> Callable[[], str]:
    order = keys[:]
    random.Random(7).shuffle(order)
    return itertools.cycle(order).__next__


async def _loader() -> Any:
    raise AssertionError("benchmark hits must never load")


async def _interleaved(
    subject: Callable[[], Awaitable[object]],
    baseline: Callable[[], Awaitable[object]],
    *,
    samples: int,
    before: Callable[[], object] | None = None,
) -> tuple[list[float], list[float]]:
    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(ROUNDS):
        mine += await sample_async(subject, samples=samples // ROUNDS, before=before)
        theirs += await sample_async(baseline, samples=samples // ROUNDS)
    return mine, theirs


async def _warm(fn: Callable[[], Awaitable[object]], times: int = 300) -> None:
    for _ in range(times):
        await fn()


async def bench_memory() -> Row:
    memory = MemoryBackend(max_entries=10_000, max_bytes=256 * 1024 * 1024)
    engine = TieredCache(memory)
    ttl: TTLCache[str, Any] = TTLCache(maxsize=10_000, ttl=3600)
    for i, key in enumerate(KEYS):
        await engine.set(key, _value(i), POLICY)
        ttl[key] = _value(i)
    next_key, next_raw = _key_cycle(KEYS), _key_cycle(KEYS)

    async def engine_hit() -> object:
        return await engine.get_or_fetch(next_key(), _loader, POLICY)

    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(ROUNDS):
        mine += await sample_async(engine_hit, samples=MEMORY_SAMPLES // ROUNDS, inner=MEMORY_INNER)
        theirs += sample_sync(lambda: ttl.get(next_raw()), samples=MEMORY_SAMPLES // ROUNDS, inner=MEMORY_INNER)
    await engine.aclose()
    return Row(
        "memory: TieredCache.get_or_fetch hit",
        mine,
        "cachetools TTLCache.get",
        theirs,
        target=2.0,
        note=f"each sample averages {MEMORY_INNER} calls",
    )


async def bench_sqlite(folder: Path) -> list[Row]:
    path = folder / "bench.sqlite3"
    backend = await SqliteBackend.open(path)
    memory = MemoryBackend(max_entries=10_000, max_bytes=256 * 1024 * 1024)
    engine = TieredCache(memory, sqlite=backend, tier_timeout=5.0)
    for i, key in enumerate(KEYS):
        await engine.set(key, _value(i), POLICY)
    await engine.flush()  # writes are queued: the raw baseline reads the file
    raw = await aiosqlite.connect(path, isolation_level=None)
    try:
        next_key, next_raw = _key_cycle(KEYS), _key_cycle(KEYS)

        async def backend_get() -> object:
            return await backend.get_many([next_key()])

        async def engine_get() -> object:
            return await engine.get_or_fetch(next_key(), _loader, POLICY)

        async def raw_get() -> object:
            return await raw.execute_fetchall("SELECT data FROM entries WHERE key = ?", (next_raw(),))

        for fn in (backend_get, raw_get):
            await _warm(fn)
        direct = await _interleaved(backend_get, raw_get, samples=PER_CALL_SAMPLES)
        through = await _interleaved(engine_get, raw_get, samples=PER_CALL_SAMPLES, before=memory.clear_now)
    finally:
        await raw.close()
        await engine.aclose()
    return [
        Row("sqlite: SqliteBackend.get_many([k])", direct[0], "raw aiosqlite PK SELECT", direct[1], target=1.3),
        Row(
            "sqlite: TieredCache hit, memory bypassed",
            through[0],
            "raw aiosqlite PK SELECT",
            through[1],
            target=1.3,
            note="get_or_fetch: single-flight task + tier guard + decode + promote to memory",
        ),
    ]


async def bench_redis(server: RedisServer) -> list[Row]:
    backend = RedisBackend.from_url(server.url, socket_timeout=2.0, connect_timeout=2.0)
    memory = MemoryBackend(max_entries=10_000, max_bytes=256 * 1024 * 1024)
    engine = TieredCache(memory, redis=backend, tier_timeout=5.0)
    for i, key in enumerate(KEYS):
        await engine.set(key, _value(i), POLICY)
    raw = Redis.from_url(server.url)
    try:
        next_key, next_raw = _key_cycle(KEYS), _key_cycle(KEYS)
        batch_keys = KEYS[:100]
        raw_batch_keys = [backend.key(k) for k in batch_keys]

        async def backend_get() -> object:
            return await backend.get_many([next_key()])

        async def engine_get() -> object:
            return await engine.get_or_fetch(next_key(), _loader, POLICY)

        async def raw_get() -> object:
            return await raw.get(backend.key(next_raw()))

        async def backend_batch() -> object:
            return await backend.get_many(batch_keys)

        async def raw_batch() -> object:
            return await raw.mget(raw_batch_keys)

        for fn in (backend_get, raw_get, backend_batch, raw_batch):
            await _warm(fn)
        direct = await _interleaved(backend_get, raw_get, samples=PER_CALL_SAMPLES)
        through = await _interleaved(engine_get, raw_get, samples=PER_CALL_SAMPLES, before=memory.clear_now)
        batch = await _interleaved(backend_batch, raw_batch, samples=PER_CALL_SAMPLES // 4)
        round_trips = await _round_trips_per_batch(raw, backend_batch, calls=50)
    finally:
        await raw.aclose()
        await engine.aclose()
    return [
        Row("redis: RedisBackend.get_many([k])", direct[0], "raw redis-py asyncio GET", direct[1], target=1.3),
        Row(
            "redis: TieredCache hit, memory bypassed",
            through[0],
            "raw redis-py asyncio GET",
            through[1],
            target=1.3,
            note="get_or_fetch: single-flight task + tier guard + decode + promote to memory",
        ),
        Row(
            "redis: get_many(100 keys)",
            batch[0],
            "raw redis-py MGET of 100",
            batch[1],
            target=1.3,
            note=f"round trips per batch: {round_trips} (cmdstat_mget calls / batches; target 1)",
        ),
    ]


async def _round_trips_per_batch(raw: Redis, batch: Callable[[], Awaitable[object]], *, calls: int) -> str:
    await raw.config_resetstat()
    for _ in range(calls):
        await batch()
    stats = await raw.info("commandstats")
    mget = stats.get("cmdstat_mget", {}).get("calls", 0)
    others = sum(
        v.get("calls", 0)
        for k, v in stats.items()
        if k != "cmdstat_mget" and not k.startswith(("cmdstat_config", "cmdstat_info"))
    )
    verdict = "TARGET MET" if mget == calls and others == 0 else "MISSED"
    return f"{mget / calls:g} MGET, {others} other commands -> {verdict}"


class InstantBackend:
    """A lower tier that answers from a dict with no I/O: the engine's own work stands alone."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        return {key: self.data[key] for key in keys if key in self.data}

    async def set_many(self, records: Sequence[Record]) -> None:
        self.data.update((record.key, record.data) for record in records)

    async def delete_many(self, keys: Sequence[str]) -> int:
        return sum(self.data.pop(key, None) is not None for key in keys)

    async def match(self, pattern: str) -> list[str]:
        return []

    async def tagged(self, tags: Sequence[str]) -> list[str]:
        return []

    async def clear(self) -> int:
        count = len(self.data)
        self.data.clear()
        return count

    async def ping(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None


async def bench_engine_cpu() -> Row:
    backend = InstantBackend()
    memory = MemoryBackend(max_entries=10_000, max_bytes=256 * 1024 * 1024)
    engine = TieredCache(memory, sqlite=backend, tier_timeout=5.0)
    for i, key in enumerate(KEYS):
        await engine.set(key, _value(i), POLICY)
    next_key, next_raw = _key_cycle(KEYS), _key_cycle(KEYS)

    async def engine_get() -> object:
        return await engine.get_or_fetch(next_key(), _loader, POLICY)

    async def backend_get() -> object:
        return await backend.get_many([next_raw()])

    try:
        for fn in (engine_get, backend_get):
            await _warm(fn)
        mine, theirs = await _interleaved(engine_get, backend_get, samples=PER_CALL_SAMPLES, before=memory.clear_now)
    finally:
        await engine.aclose()
    return Row(
        "engine CPU: TieredCache hit, instant tier",
        mine,
        "that tier's get_many (a dict)",
        theirs,
        note="what the engine adds to any lower-tier read: guard, single-flight, decode, promote, stats",
    )


async def main() -> None:
    rows = [await bench_memory(), await bench_engine_cpu()]
    folder = Path(tempfile.mkdtemp(prefix="trialstock-bench-"))
    try:
        rows += await bench_sqlite(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if shutil.which("redis-server") is None:
        print("redis-server not found: Redis rows skipped")
    else:
        with RedisServer() as server:
            rows += await bench_redis(server)
    print_table(rows, title="Cache tier hits vs raw libraries (same run, same data)")


if __name__ == "__main__":
    asyncio.run(main())
