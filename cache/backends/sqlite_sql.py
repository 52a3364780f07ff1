"""The statements the SQLite tier runs most, and how key lists are cut to fit one statement."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache

from cache.backends.sqlite_schema import LIVE

CHUNK = 500  # keys per statement, far below SQLite's bound-variable limit
UPSERT = (
    "INSERT INTO entries (key, data, expires_at, size, last_access, created_at) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(key) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, "
    "size = excluded.size, last_access = excluded.last_access, created_at = excluded.created_at"
)


@lru_cache(maxsize=64)
def select_sql(count: int) -> str:
    """Read ``count`` live entries by key (bind the keys, then the clock's now)."""
    return f"SELECT key, data FROM entries WHERE key IN ({marks(count)}) AND {LIVE}"


@lru_cache(maxsize=64)
def marks(count: int) -> str:
    """``?, ?, ...``: ``count`` placeholders."""
    return ", ".join("?" * count)


def chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    """``items`` in runs of at most :data:`CHUNK`."""
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
