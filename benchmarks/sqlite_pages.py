"""Why a point read slows down with the file's size: ``python -m benchmarks.sqlite_pages [--quick]``.

Builds the scale benchmark's two files (1,000 and 1,000,000 entries, ``benchmarks.scale``), prints
the query plan of the tier's point read, then times that read with plain ``sqlite3`` (no
aiosqlite thread hop, which would hide the difference) under four page settings, alternating the
two files in one process: SQLite's defaults (2 MB page cache, no memory map), a 2 GB memory map,
a 64 MB page cache alone, and what the backend sets (``CACHE_KIB`` and ``MMAP_BYTES`` of
:mod:`cache.backends.sqlite_schema`). The ratio 1M/1K is what to read. ``--quick``: 100,000
entries.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from pathlib import Path

from benchmarks._harness import quick_flag, scratch
from benchmarks.scale import build_file, key_of, payload
from cache.backends.sqlite_schema import CACHE_KIB, MMAP_BYTES
from cache.backends.sqlite_sql import select_sql

SETTINGS = (
    ("SQLite defaults (2 MB cache, no mmap)", -2000, 0),
    ("mmap 2 GB", -2000, 1 << 31),
    ("64 MB page cache, no mmap", -65536, 0),
    ("backend's settings", -CACHE_KIB, MMAP_BYTES),
)


def reader(path: Path, cache: int, mmap: int) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    conn.execute(f"PRAGMA cache_size = {cache}")
    conn.execute(f"PRAGMA mmap_size = {mmap}")
    return conn


def per_read_us(conn: sqlite3.Connection, keys: list[str], now: float) -> float:
    sql = select_sql(1)
    started = time.perf_counter()
    for key in keys:
        conn.execute(sql, (key, now)).fetchall()
    return (time.perf_counter() - started) / len(keys) * 1e6


async def main(quick: bool = False) -> None:
    large = 100_000 if quick else 1_000_000
    sizes = {"small": 1_000, "large": large}
    rng = random.Random(3)
    with scratch() as folder:
        data = payload()
        for name, count in sizes.items():
            await build_file(folder / f"{name}.sqlite3", count, data)
        probe = reader(folder / "large.sqlite3", -2000, 0)
        plan = probe.execute("EXPLAIN QUERY PLAN " + select_sql(1), ("k", 0)).fetchall()
        pages = probe.execute("PRAGMA page_count").fetchone()[0]
        probe.close()
        print(f"EXPLAIN QUERY PLAN: {[row[3] for row in plan]}; {large:,}-entry file: {pages:,} pages of 4 KB")
        keys = {name: [key_of(rng.randrange(count)) for _ in range(20_000)] for name, count in sizes.items()}
        now = time.time()
        print(f"{'point read, plain sqlite3 (us, median of 7)':44s} {'1,000':>8s} {large:>10,}  ratio")
        for label, cache, mmap in SETTINGS:
            conns = {name: reader(folder / f"{name}.sqlite3", cache, mmap) for name in sizes}
            for name, conn in conns.items():  # warm both alike
                per_read_us(conn, keys[name][:5000], now)
            runs: dict[str, list[float]] = {name: [] for name in sizes}
            for _ in range(7):
                for name, conn in conns.items():
                    runs[name].append(per_read_us(conn, keys[name], now))
            small_us, large_us = (sorted(runs[name])[3] for name in sizes)
            print(f"{label:44s} {small_us:8.1f} {large_us:10.1f}  {large_us / small_us:.2f}x")
            for conn in conns.values():
                conn.close()


if __name__ == "__main__":
    asyncio.run(main(quick_flag()))
