"""Build a :class:`~cache.engine.tiered.TieredCache` from the cache's configuration models.

The memory tier is always there; ``sqlite`` (unless ``None`` or not enabled) adds the SQLite
tier and ``redis`` (unless ``None`` or without a URL) the Redis tier. A tier that cannot be
opened at start-up is logged and left out: the cache degrades, the server still starts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from cache.backends.base import BackendError
from cache.backends.memory import MemoryBackend
from cache.config import EngineConfig, RedisConfig, SqliteConfig
from cache.engine.tiered import TieredCache
from cache.serialization import Serializer

log = logging.getLogger(__name__)


async def build_cache(
    engine: EngineConfig | None = None,
    *,
    sqlite: SqliteConfig | None = None,
    redis: RedisConfig | None = None,
    clock: Callable[[], float] = time.time,
    require_sqlite: bool = False,
) -> TieredCache:
    """Open the configured tiers and return the engine (which owns and closes them).

    Raises ValueError for an unusable serializer setting. A SQLite file that cannot be opened
    (BackendError or OSError) is logged and skipped, unless ``require_sqlite`` (the operator's
    commands): then it is a BackendError naming the path and the reason.
    """
    engine = engine if engine is not None else EngineConfig()
    serializer = Serializer(engine.serializer, compress_threshold=engine.compress_threshold)
    memory = MemoryBackend(max_entries=engine.memory_max_entries, max_bytes=engine.memory_max_bytes, clock=clock)
    sqlite_tier = await _open_sqlite(sqlite, clock, require_sqlite) if sqlite is not None and sqlite.enabled else None
    try:
        redis_tier, locker = _open_redis(redis, clock)
    except BaseException:
        if sqlite_tier is not None:
            await sqlite_tier.aclose()
        raise
    tier_timeouts = {"sqlite": sqlite.timeout} if sqlite is not None else None
    return TieredCache(
        memory,
        redis=redis_tier,
        sqlite=sqlite_tier,
        serializer=serializer,
        clock=clock,
        locker=locker,
        tier_timeout=engine.tier_timeout,
        tier_recovery=engine.tier_breaker_recovery,
        tier_timeouts=tier_timeouts,
        lock_ttl=engine.lock_ttl,
        lock_wait=engine.lock_wait,
    )


async def _open_sqlite(config: SqliteConfig, clock: Callable[[], float], required: bool = False) -> Any:
    from cache.backends.sqlite import SqliteBackend  # imported lazily: optional tier

    try:
        return await SqliteBackend.open(
            config.path,
            max_entries=config.max_entries,
            max_bytes=config.max_bytes,
            busy_timeout_ms=config.busy_timeout_ms,
            cleanup_batch=config.cleanup_batch,
            clock=clock,
            write_queue_max=config.write_queue_max,
            write_batch_max=config.write_batch_max,
        )
    except (BackendError, OSError) as exc:
        if required:
            raise BackendError(str(exc)) from exc
        log.error("SQLite cache tier at %s unavailable, running without it: %s", config.path, exc)
        return None


def _open_redis(config: RedisConfig | None, clock: Callable[[], float]) -> tuple[Any, Any]:
    """The Redis tier and its locker, or (None, None) without a URL."""
    if config is None or not config.enabled:
        return None, None
    from cache.backends.redis import RedisBackend  # imported lazily: optional tier
    from cache.backends.redis_lock import RedisLocker

    backend = RedisBackend.from_url(
        config.url.get_secret_value() if config.url is not None else None,
        mode=config.mode,
        nodes=config.nodes,
        sentinels=config.sentinels,
        service_name=config.service_name,
        prefix=config.key_prefix,
        socket_timeout=config.socket_timeout,
        connect_timeout=config.connect_timeout,
        max_connections=config.max_connections,
        clock=clock,
        tls=config.tls_options(),
    )
    return backend, RedisLocker(backend)
