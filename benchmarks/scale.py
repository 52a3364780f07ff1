"""Scale: SQLite hits at 1,000 vs 1,000,000 entries, and memory-tier bytes per entry: ``python -m benchmarks.scale``.

SQLite: two cache files built through the backend's own schema (``SqliteBackend.open``
creates it; the rows then go in with plain ``sqlite3`` ``executemany`` in 100,000-row
transactions, journal off while building, WAL restored after; the triggers keep the stats row
exact). Every row holds the same ~1 KB encoded entry under a hashed key shaped like the real
ones, so both files differ only in row count. Hits on random keys are timed through
``SqliteBackend.get_many([key])`` and through ``TieredCache.get_or_fetch`` with the memory
tier emptied before each call, alternating between the two files. Target: the 1,000,000-entry
hit within 1.5x of the 1,000-entry hit.

Memory tier: ``tracemalloc`` measures what storing N entries through ``TieredCache.set``
adds, against what merely holding the same payloads takes (each entry's decoded value and its
encoded bytes, which the tier keeps both of). The difference per entry is the tier's own cost
(key string, LRU slot, item and envelope objects, times). Target: under 400 bytes.
``--quick`` builds 100,000 rows instead of 1,000,000 (the target is then not judged).
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import random
import sqlite3
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks._harness import quick_flag, scratch
from benchmarks._table import Row, Target, interleaved, print_table, print_targets
from benchmarks.cache_tiers import _value
from cache.backends.memory import MemoryBackend
from cache.backends.sqlite import SqliteBackend
from cache.engine.tiered import TieredCache
from cache.entry import Entry
from cache.policy import CachePolicy
from cache.serialization import Serializer

POLICY = CachePolicy("bench.scale", fresh_ttl=86_400, stale_ttl=7 * 86_400)
HIT_TARGET = 1.5
BYTES_TARGET = 400
BATCH = 100_000
LIMITS = {"max_entries": 10_000_000, "max_bytes": 1 << 40}  # never evict while benchmarking


def key_of(index: int) -> str:
    return f"bench.scale:v1:{hashlib.blake2b(index.to_bytes(8, 'little'), digest_size=16).hexdigest()}"


def payload() -> bytes:
    """One encoded entry of about 1 KB (a compact trial summary), fresh for a week."""
    value = _value(0)
    value["eligibility"] = value["eligibility"][:500]
    now = time.time()
    return Serializer().dumps(Entry(value, now, now + POLICY.fresh_ttl, now + POLICY.stale_ttl))


async def build_file(path: Path, count: int, data: bytes) -> float:
    """Create ``path`` with ``count`` live rows; returns the seconds it took."""
    started = time.perf_counter()
    await (await SqliteBackend.open(path, **LIMITS)).aclose()  # the backend's own schema
    expires, now = time.time() + POLICY.stale_ttl, time.time()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -262144")
        for start in range(0, count, BATCH):
            rows = ((key_of(i), data, expires, len(data) + 47, now) for i in range(start, min(count, start + BATCH)))
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO entries (key, data, expires_at, size, last_access) VALUES (?, ?, ?, ?, ?)", rows
            )
            conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    return time.perf_counter() - started


def random_keys(count: int, sample: int) -> Iterator[str]:
    rng = random.Random(11)
    indexes = [rng.randrange(count) for _ in range(sample)]
    keys = [key_of(i) for i in indexes]
    while True:
        yield from keys


async def _never() -> Any:
    raise AssertionError("benchmark hits must never load")


async def sqlite_hits(
    small: Path, large: Path, sizes: tuple[int, int], *, rounds: int, samples: int
) -> list[list[float]]:
    """Samples for [small get_many, large get_many, small via engine, large via engine]."""
    backends = [await SqliteBackend.open(path, **LIMITS) for path in (small, large)]
    memories = [MemoryBackend(max_entries=100, max_bytes=1 << 24) for _ in backends]
    engines = [TieredCache(memory, sqlite=backend, tier_timeout=5.0) for memory, backend in zip(memories, backends)]
    try:
        fns = []
        for backend, size in zip(backends, sizes):
            keys = random_keys(size, 20_000)
            fns.append(lambda b=backend, k=keys: b.get_many([next(k)]))
        for engine, memory, size in zip(engines, memories, sizes):
            keys = random_keys(size, 20_000)

            async def through(e: TieredCache = engine, m: MemoryBackend = memory, k: Iterator[str] = keys) -> Any:
                m.clear_now()
                return await e.get_or_fetch(next(k), _never, POLICY)

            fns.append(through)
        for fn in fns:  # warm the connections and SQLite's page cache alike
            for _ in range(500):
                await fn()
        return await interleaved(fns, rounds=rounds, samples=samples)
    finally:
        for engine in engines:
            await engine.aclose()


async def memory_bytes_per_entry(count: int) -> tuple[float, float, list[tuple[str, float]]]:
    """(payload bytes per entry, tier bytes beyond it per entry, top allocation sites per entry)."""
    values = [_value(i) for i in range(count)]
    serializer = Serializer()
    engine = TieredCache(MemoryBackend(max_entries=count * 2, max_bytes=1 << 40))
    gc.collect()
    tracemalloc.start()
    try:
        mark = tracemalloc.get_traced_memory()[0]
        held_values, held_bytes = [], []
        for value in values:  # the payload alone: decoded value + encoded bytes, nothing else
            entry, data = serializer.pack(Entry(value, 0.0, 1.0, 2.0))
            held_values.append(entry.value)
            held_bytes.append(data)
        gc.collect()
        lists = sys.getsizeof(held_values) + sys.getsizeof(held_bytes)
        payload_total = tracemalloc.get_traced_memory()[0] - mark - lists
        del held_values, held_bytes, entry, data
        gc.collect()
        base = tracemalloc.take_snapshot()
        mark = tracemalloc.get_traced_memory()[0]
        for index, value in enumerate(values):
            await engine.set(f"trials.record:v1:{index:032x}", value, POLICY)
        gc.collect()
        tier_total = tracemalloc.get_traced_memory()[0] - mark
        sites = tracemalloc.take_snapshot().compare_to(base, "lineno")
    finally:
        tracemalloc.stop()
    await engine.aclose()
    top = [
        (f"{Path(s.traceback[0].filename).name}:{s.traceback[0].lineno}", s.size_diff / count)
        for s in sites[:6]
        if s.size_diff > 0
    ]
    return payload_total / count, (tier_total - payload_total) / count, top


async def main(quick: bool = False) -> None:
    large_count = 100_000 if quick else 1_000_000
    rounds, samples = (15, 100) if quick else (50, 200)  # fine-grained alternation: noise hits both files alike
    data = payload()
    with scratch() as folder:
        small, large = folder / "small.sqlite3", folder / "large.sqlite3"
        await build_file(small, 1_000, data)
        built = await build_file(large, large_count, data)
        size_mb = large.stat().st_size / 1e6
        hits = await sqlite_hits(small, large, (1_000, large_count), rounds=rounds, samples=samples)
    label = f"{large_count:,}"
    rows = [
        Row(
            f"SqliteBackend.get_many([k]), {label} entries",
            hits[1],
            "same, 1,000 entries",
            hits[0],
            note=f"{len(data)} B per entry; the {label}-entry file ({size_mb:,.0f} MB) was built in {built:.1f} s",
        ),
        Row(
            f"TieredCache hit from SQLite, {label} entries",
            hits[3],
            "same, 1,000 entries",
            hits[2],
            note="memory tier emptied before every call",
        ),
    ]
    print_table(rows, title="SQLite tier hit latency vs number of entries")
    per_payload, overhead, top = await memory_bytes_per_entry(2_000 if quick else 20_000)
    print(f"Memory tier, {2_000 if quick else 20_000:,} entries of a ~2 KB trial summary (tracemalloc):")
    print(
        f"  payload (decoded value + encoded bytes) {per_payload:,.0f} B per entry; "
        f"tier cost beyond it {overhead:,.0f} B per entry"
    )
    print(
        "  largest allocation sites while storing (B per entry, payload included): "
        + ", ".join(f"{site} {size:,.0f}" for site, size in top)
        + "\n"
    )
    targets = (
        []
        if quick
        else [
            Target(f"{row.name} within {HIT_TARGET}x of 1,000 entries", f"{row.ratio:.2f}x", row.ratio <= HIT_TARGET)
            for row in rows
        ]
    )
    targets.append(
        Target(
            f"memory-tier bytes per entry beyond its payload < {BYTES_TARGET}",
            f"{overhead:,.0f} B",
            overhead < BYTES_TARGET,
        )
    )
    print_targets(targets)


if __name__ == "__main__":
    asyncio.run(main(quick_flag()))
