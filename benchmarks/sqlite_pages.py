"""Why a point read slows down with the file's size: ``python -m benchmarks.sqlite_pages [--quick]``.

Builds the scale benchmark's two files (1,000 and 1,000,000 entries, ``benchmarks.scale``), prints
the query plan of the tier's point read, then times that read with plain ``sqlite3`` (no
aiosqlite thread hop, which would hide the difference) under four page settings, alternating the
two files in one process: SQLite's defaults (2 MB page cache, no memory map), a 2 GB memory map,
a 64 MB page cache alone, and what the backend sets (``CACHE_KIB`` and ``MMAP_BYTES`` of
:mod:`cache.backends.sqlite_schema`). The ratio 1M/1K is what to read. ``--quick``: 100,000
entries.

Then the same read under other layouts of the same rows (files of their own, built and removed
one after the other, the backend's page settings): the tier's table alone (a key index, then the
row by rowid: two B-tree descents) with 4, 8 and 16 KB pages, and a table keyed by a 64-bit hash of
the key as its rowid, the key checked in the row (one descent; the hash computed per read is
included). What a layout change would buy, measured before anyone migrates files to it.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks._harness import quick_flag, scratch
from benchmarks.scale import build_file, key_of, payload
from cache.backends.sqlite_schema import CACHE_KIB, MMAP_BYTES
from cache.backends.sqlite_sql import marks, select_sql

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


def key_hash(key: str) -> int:
    """A signed 64-bit hash of ``key``: the rowid of the hash layout."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little", signed=True)


HASHED_READ = (
    "SELECT key, data, last_access FROM entries WHERE id = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)"
)


def hashed_read_us(conn: sqlite3.Connection, keys: list[str], now: float) -> float:
    started = time.perf_counter()
    for key in keys:
        conn.execute(HASHED_READ, (key_hash(key), key, now)).fetchall()
    return (time.perf_counter() - started) / len(keys) * 1e6


# label, page size, whether the rowid is the key's hash
LAYOUTS = (
    ("tier's table alone, 4 KB pages", 4096, False),
    ("tier's table alone, 8 KB pages", 8192, False),
    ("tier's table alone, 16 KB pages", 16384, False),
    ("key hash as rowid, 4 KB pages", 4096, True),
)


def build_layout(path: Path, count: int, data: bytes, page_size: int, hashed: bool) -> None:
    """``count`` rows like the scale benchmark's, in a bare table of the given layout."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in (f"page_size = {page_size}", "journal_mode = OFF", "synchronous = OFF", "cache_size = -262144"):
            conn.execute(f"PRAGMA {pragma}")
        key_column = "id INTEGER PRIMARY KEY, key TEXT NOT NULL" if hashed else "key TEXT PRIMARY KEY"
        conn.execute(
            f"CREATE TABLE entries ({key_column}, data BLOB NOT NULL, expires_at REAL, size INTEGER, last_access REAL)"
        )
        expires, now = time.time() + 3600, time.time()
        for start in range(0, count, 10_000):
            keys = (key_of(i) for i in range(start, min(count, start + 10_000)))
            rows = (((key_hash(k),) if hashed else ()) + (k, data, expires, len(data), now) for k in keys)
            conn.execute("BEGIN")
            conn.executemany(f"INSERT INTO entries VALUES ({marks(5 + hashed)})", rows)
            conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")  # as the tier's files: readers take no file lock
    finally:
        conn.close()


def median_pair(
    paths: dict[str, Path],
    keys: dict[str, list[str]],
    now: float,
    read: Callable[..., float] = per_read_us,
    cache: int = -CACHE_KIB,
    mmap: int = MMAP_BYTES,
) -> tuple[float, float]:
    """Median per-read microseconds on each file (small, large) under the page settings
    ``cache`` / ``mmap``, the files alternated 7 times."""
    conns = {name: reader(path, cache, mmap) for name, path in paths.items()}
    try:
        for name, conn in conns.items():  # warm both alike
            read(conn, keys[name][:5000], now)
        runs: dict[str, list[float]] = {name: [] for name in paths}
        for _ in range(7):
            for name, conn in conns.items():
                runs[name].append(read(conn, keys[name], now))
    finally:
        for conn in conns.values():
            conn.close()
    small, large = (sorted(runs[name])[3] for name in paths)
    return small, large


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
        files = {name: folder / f"{name}.sqlite3" for name in sizes}
        for label, cache, mmap in SETTINGS:
            small_us, large_us = median_pair(files, keys, now, cache=cache, mmap=mmap)
            print(f"{label:44s} {small_us:8.1f} {large_us:10.1f}  {large_us / small_us:.2f}x")
        print(f"\n{'other layouts, backend settings (us)':44s} {'1,000':>8s} {large:>10,}  ratio")
        for label, page_size, hashed in LAYOUTS:
            paths = {name: folder / f"{name}-{page_size}-{hashed}.sqlite3" for name in sizes}
            for name, count in sizes.items():
                build_layout(paths[name], count, data, page_size, hashed)
            small_us, large_us = median_pair(paths, keys, now, hashed_read_us if hashed else per_read_us)
            print(f"{label:44s} {small_us:8.1f} {large_us:10.1f}  {large_us / small_us:.2f}x")
            for path in paths.values():
                path.unlink()


if __name__ == "__main__":
    asyncio.run(main(quick_flag()))
