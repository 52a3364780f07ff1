"""Build a :class:`~cache.engine.tiered.TieredCache` from plain configuration.

:class:`CacheConfig` mirrors the server's cache, SQLite and Redis settings without importing
them (the cache package depends on nothing above it); the server maps its settings onto it.
``sqlite_path=None`` means no SQLite tier, ``redis_url=None`` no Redis tier. A tier that cannot be
opened at start-up is logged and left out: the cache degrades, the server still starts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cache.backends.base import BackendError
from cache.backends.memory import MemoryBackend
from cache.engine.tiered import TieredCache
from cache.serialization import Serializer

if TYPE_CHECKING:  # the optional tiers are imported only when configured
    from cache.backends.redis import RedisBackend
    from cache.backends.redis_lock import RedisLocker
    from cache.backends.sqlite import SqliteBackend

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CacheConfig:
    """Every knob of the engine and its tiers (defaults match server/settings.py)."""

    memory_max_entries: int = 10_000
    memory_max_bytes: int = 64 * 1024 * 1024
    serializer: str = "json"
    compress_threshold: int = 16 * 1024
    tier_timeout: float = 0.25
    sqlite_timeout: float = 1.0
    tier_recovery: float = 5.0
    lock_ttl: float = 30.0
    lock_wait: float = 30.0
    sqlite_path: Path | None = None
    sqlite_max_entries: int = 200_000
    sqlite_max_bytes: int = 512 * 1024 * 1024
    sqlite_busy_timeout_ms: int = 5000
    sqlite_cleanup_batch: int = 500
    redis_url: str | None = None
    redis_socket_timeout: float = 0.25
    redis_connect_timeout: float = 0.25
    redis_max_connections: int = 50
    redis_key_prefix: str = "trialstock:"


async def build_cache(config: CacheConfig, clock: Callable[[], float] = time.time) -> TieredCache:
    """Open the configured tiers and return the engine (which owns and closes them).

    Raises ValueError for an unusable serializer setting. A SQLite file that cannot be opened
    (BackendError or OSError) is logged and skipped.
    """
    serializer = Serializer(config.serializer, compress_threshold=config.compress_threshold)
    memory = MemoryBackend(max_entries=config.memory_max_entries, max_bytes=config.memory_max_bytes, clock=clock)
    sqlite = await _open_sqlite(config.sqlite_path, config, clock) if config.sqlite_path is not None else None
    try:
        redis, locker = _open_redis(config.redis_url, config, clock) if config.redis_url else (None, None)
    except BaseException:
        if sqlite is not None:
            await sqlite.aclose()
        raise
    return TieredCache(
        memory, redis=redis, sqlite=sqlite, serializer=serializer, clock=clock, locker=locker,
        tier_timeout=config.tier_timeout, tier_recovery=config.tier_recovery,
        tier_timeouts={"sqlite": config.sqlite_timeout},
        lock_ttl=config.lock_ttl, lock_wait=config.lock_wait,
    )


async def _open_sqlite(path: Path, config: CacheConfig, clock: Callable[[], float]) -> SqliteBackend | None:
    from cache.backends.sqlite import SqliteBackend  # imported lazily: optional tier

    try:
        return await SqliteBackend.open(
            path, max_entries=config.sqlite_max_entries, max_bytes=config.sqlite_max_bytes,
            busy_timeout_ms=config.sqlite_busy_timeout_ms, cleanup_batch=config.sqlite_cleanup_batch,
            clock=clock,
        )
    except (BackendError, OSError) as exc:
        log.error("SQLite cache tier at %s unavailable, running without it: %s", path, exc)
        return None


def _open_redis(url: str, config: CacheConfig, clock: Callable[[], float]) -> tuple[RedisBackend, RedisLocker]:
    from cache.backends.redis import RedisBackend  # imported lazily: optional tier
    from cache.backends.redis_lock import RedisLocker

    backend = RedisBackend.from_url(
        url, prefix=config.redis_key_prefix, socket_timeout=config.redis_socket_timeout,
        connect_timeout=config.redis_connect_timeout, max_connections=config.redis_max_connections,
        clock=clock,
    )
    return backend, RedisLocker(backend)
