"""The tiers: a small :class:`Backend` protocol and its memory, SQLite and Redis implementations.

A backend stores encoded records and knows nothing of TTL policy, serialization or statistics:
those live once, in :mod:`cache.engine`. What a backend offers beyond the protocol (indexes by
age and use, entry headers, counts, shared meta rows, a shareable Redis client, a write queue) is named by the
runtime-checkable protocols of ``capabilities``, which callers test with ``isinstance``.
``redis`` and ``redis_lock`` are imported only where Redis is configured (see
:func:`cache.build.build_cache`).
"""

from cache.backends.base import Backend, BackendError, escape_glob
from cache.backends.capabilities import (
    Countable,
    CreationIndex,
    Describable,
    HeadReader,
    MetaStore,
    QueuedWrites,
    SharedRedis,
    UseIndex,
)
from cache.backends.memory import MemoryBackend
from cache.backends.sqlite import SqliteBackend
from cache.backends.sqlite_backup import BackupRefused

__all__ = [
    "Backend",
    "BackendError",
    "BackupRefused",
    "Countable",
    "CreationIndex",
    "Describable",
    "HeadReader",
    "MemoryBackend",
    "MetaStore",
    "QueuedWrites",
    "SharedRedis",
    "SqliteBackend",
    "UseIndex",
    "escape_glob",
]
