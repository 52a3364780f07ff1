"""What a backend may offer beyond :class:`~cache.backends.base.Backend`, as runtime-checkable protocols.

The engine and the coordination layer ask ``isinstance(backend, Capability)`` instead of probing
attribute names, so a capability is one named, typed contract and a backend that lacks it (a
test double, a future tier) is simply left out of what needs it:

- :class:`CreationIndex`: entries by creation time (memory, SQLite): invalidation by age;
- :class:`UseIndex`: entries by last use (memory, SQLite): invalidation by low use;
- :class:`HeadReader`: the first bytes of values without the rest (Redis): age read from entry
  headers where the tier keeps no creation time (:mod:`cache.engine.age_scan`);
- :class:`Countable`: a cheap count of live entries (SQLite), for operators;
- :class:`Describable`: where the data lives (a file path, a key prefix), for operators;
- :class:`MetaStore`: small named string rows shared with the other processes (SQLite meta
  table): run-time tunables, published statistics, the invalidation generation;
- :class:`SharedRedis`: a tier on a Redis server whose client others may share (hashes,
  pub/sub, leases);
- :class:`QueuedWrites`: writes are queued and committed in the background (SQLite): how many
  wait, how many were dropped because the queue was full, and a way to wait for them.

``isinstance`` checks only that the members exist (not their signatures); it costs a few
microseconds, so none of these is asked on a read or write path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # redis is imported only by processes configured to use it
    from cache.backends.redis_client import RedisClient

__all__ = [
    "Countable",
    "CreationIndex",
    "Describable",
    "HeadReader",
    "MetaStore",
    "QueuedWrites",
    "SharedRedis",
    "UseIndex",
    "describe",
]


@runtime_checkable
class CreationIndex(Protocol):
    async def created_before(self, cutoff: float, pattern: str = "*") -> list[str]:
        """Keys matching the glob ``pattern`` whose entry was created before ``cutoff`` (epoch s)."""
        ...


@runtime_checkable
class UseIndex(Protocol):
    async def unused_since(self, cutoff: float, pattern: str = "*") -> list[str]:
        """Keys matching the glob ``pattern`` neither read nor written since ``cutoff`` (epoch s)."""
        ...


@runtime_checkable
class HeadReader(Protocol):
    async def heads(self, keys: Sequence[str], size: int) -> dict[str, bytes]:
        """The first ``size`` bytes of each existing key's value; absent keys left out."""
        ...


@runtime_checkable
class Countable(Protocol):
    async def count(self) -> int:
        """How many live entries the tier holds."""
        ...


@runtime_checkable
class Describable(Protocol):
    @property
    def where(self) -> str:
        """Where the tier keeps its data (file path, key prefix); never a URL with credentials."""
        ...


@runtime_checkable
class MetaStore(Protocol):
    """Named string rows every process sharing the store sees; the store's own rows are refused
    with ValueError."""

    async def meta_get_prefixed(self, prefix: str) -> dict[str, str]: ...

    async def meta_set(self, name: str, value: str) -> None: ...

    async def meta_increment(self, name: str) -> int:
        """Add one to the integer row ``name`` atomically (created as 1); the new value."""
        ...

    async def meta_delete(self, names: Sequence[str]) -> int: ...


@runtime_checkable
class SharedRedis(Protocol):
    prefix: str
    """The key prefix of this deployment (``trialstock:``)."""

    @property
    def client(self) -> RedisClient:
        """The redis-py client (owned and closed by the backend)."""
        ...


@runtime_checkable
class QueuedWrites(Protocol):
    @property
    def queued_writes(self) -> int:
        """Writes queued and not yet stored."""
        ...

    @property
    def dropped_writes(self) -> int:
        """Writes dropped because the queue was full, since the backend was opened."""
        ...

    async def flush(self) -> None:
        """Wait until every write queued before the call is stored (BackendError if some were lost)."""
        ...


def describe(backend: object) -> str:
    """``backend.where`` when it is :class:`Describable`, else ``""``."""
    return backend.where if isinstance(backend, Describable) else ""
