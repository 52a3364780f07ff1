"""The tiered cache engine: memory -> Redis -> SQLite -> loader, independent of MCP and domains.

This module is the front door: everything a caller needs is imported from here
(``from cache import TieredCache, CachePolicy, make_key``). The subpackages group what lives
behind it, each with a front door of its own:

- :mod:`cache.engine`: read-through, single-flight, tier guards and deadlines, writes, invalidation;
- :mod:`cache.backends`: the backend protocol, its capabilities and the memory, SQLite and Redis tiers;
- :mod:`cache.coordination`: what processes share: events, memory sync, the scheduler lease, tunables;
- :mod:`cache.warming`: warming strategies, usage tracking and refresh-ahead;
- :mod:`cache.observe`: statistics, analytics and Prometheus text.

Configuration: :class:`EngineConfig`, :class:`SqliteConfig`, :class:`RedisConfig`,
:class:`RefreshConfig` and :class:`UsageConfig` (:mod:`cache.config`, the one place their defaults are written);
:func:`build_cache` opens the configured tiers.

Modules not re-exported by a package's ``__init__`` are private to the cache. Whatever can be
observed is observed one way: ``unsubscribe = x.subscribe_<what>(callback)`` (:mod:`cache.hooks`).
``RedisBackend`` and ``RedisLocker`` are loaded on first use, so a process without Redis never
imports redis-py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cache.backends import Backend, BackendError, MemoryBackend, SqliteBackend
from cache.build import build_cache
from cache.config import EngineConfig, RedisConfig, RefreshConfig, SqliteConfig, UsageConfig
from cache.engine import CacheStats, InvalidationEvent, Loader, Locker, TieredCache
from cache.entry import Entry, Record
from cache.hooks import Unsubscribe
from cache.keys import make_key, namespace_of, namespace_pattern, validate_namespace
from cache.policy import (
    CacheMeta,
    CachePolicy,
    CacheResult,
    TierName,
    detached_context,
    override_policy,
    tier_name,
)
from cache.serialization import CorruptEntry, Serializer
from cache.tasks import stop_tasks

if TYPE_CHECKING:
    from cache.backends.redis import RedisBackend
    from cache.backends.redis_lock import RedisLocker

__all__ = [
    "Backend",
    "BackendError",
    "CacheMeta",
    "CachePolicy",
    "CacheResult",
    "CacheStats",
    "CorruptEntry",
    "EngineConfig",
    "Entry",
    "InvalidationEvent",
    "Loader",
    "Locker",
    "MemoryBackend",
    "Record",
    "RedisBackend",
    "RedisConfig",
    "RedisLocker",
    "RefreshConfig",
    "Serializer",
    "SqliteBackend",
    "SqliteConfig",
    "TierName",
    "TieredCache",
    "Unsubscribe",
    "UsageConfig",
    "build_cache",
    "detached_context",
    "make_key",
    "namespace_of",
    "namespace_pattern",
    "override_policy",
    "stop_tasks",
    "tier_name",
    "validate_namespace",
]


def __getattr__(name: str) -> type:
    if name == "RedisBackend":
        from cache.backends.redis import RedisBackend

        return RedisBackend
    if name == "RedisLocker":
        from cache.backends.redis_lock import RedisLocker

        return RedisLocker
    raise AttributeError(f"module 'cache' has no attribute {name!r}")
