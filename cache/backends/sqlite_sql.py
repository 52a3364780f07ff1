"""The statements the SQLite tier runs most, how key lists are cut to fit one statement, and
one batch of writes (:func:`store_batch`)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache

import aiosqlite

from cache.backends.sqlite_lru import Bounds, flush_access
from cache.backends.sqlite_schema import LIVE
from cache.entry import Record

CHUNK = 500  # keys per statement, far below SQLite's bound-variable limit
UPSERT = (
    "INSERT INTO entries (key, data, expires_at, size, last_access, created_at) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(key) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, "
    "size = excluded.size, last_access = excluded.last_access, created_at = excluded.created_at"
)


@lru_cache(maxsize=64)
def select_sql(count: int) -> str:
    """Read ``count`` live entries by key (bind the keys, then the clock's now): rows of
    ``(key, data, last_access)``."""
    return f"SELECT key, data, last_access FROM entries WHERE key IN ({marks(count)}) AND {LIVE}"


@lru_cache(maxsize=64)
def marks(count: int) -> str:
    """``?, ?, ...``: ``count`` placeholders."""
    return ", ".join("?" * count)


def chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    """``items`` in runs of at most :data:`CHUNK`."""
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


Rows = tuple[list[tuple[str]], list[tuple[object, ...]], list[tuple[str, str]]]
"""Parameters of one batch: keys to delete, :data:`UPSERT` rows, tag links."""


def batch_rows(items: Iterable[tuple[Record, float]]) -> Rows:
    """The statements' parameters for ``(record, written at)`` pairs: a record already expired
    when written deletes its key; an infinite expiry is stored as NULL (never expires); an
    unknown ``created_at`` (0) is stored as the write time. One row per key: the last wins."""
    latest = {record.key: (record, at) for record, at in items}.values()
    dead = [(r.key,) for r, at in latest if r.expires_at <= at]
    rows: list[tuple[object, ...]] = [
        (
            r.key,
            r.data,
            None if math.isinf(r.expires_at) else r.expires_at,
            len(r.key) + len(r.data),
            at,
            r.created_at if r.created_at > 0 else at,
        )
        for r, at in latest
        if r.expires_at > at
    ]
    tags = [(tag, r.key) for r, at in latest if r.expires_at > at for tag in set(r.tags)]
    return dead, rows, tags


async def store_batch(
    conn: aiosqlite.Connection,
    items: Sequence[tuple[Record, float]],
    now: float,
    access: Mapping[str, float],
    bounds: Bounds,
) -> int:
    """Write ``items`` (:func:`batch_rows`) and buffered read times (``access``) inside the
    caller's transaction, then evict over ``bounds`` as of ``now``; how many rows were evicted."""
    dead, rows, tag_rows = batch_rows(items)
    if dead:
        await conn.executemany("DELETE FROM entries WHERE key = ?", dead)
    if rows:
        await conn.executemany(UPSERT, rows)
    if tag_rows:
        await conn.executemany("INSERT OR IGNORE INTO tags (tag, key) VALUES (?, ?)", tag_rows)
    await flush_access(conn, access)  # after the rows: a queued write may have been read already
    return await bounds.evict(conn, now)
