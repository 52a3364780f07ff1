"""The tiers: a small :class:`Backend` protocol and its memory, SQLite and Redis implementations.

A backend stores encoded records and knows nothing of TTL policy, serialization or statistics:
those live once, in :mod:`cache.engine`. ``redis`` and ``redis_lock`` are imported only where
Redis is configured (see :func:`cache.build.build_cache`).
"""

from cache.backends.base import Backend, BackendError, escape_glob
from cache.backends.memory import MemoryBackend
from cache.backends.sqlite import SqliteBackend

__all__ = ["Backend", "BackendError", "MemoryBackend", "SqliteBackend", "escape_glob"]
