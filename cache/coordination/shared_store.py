"""Small string maps every process of a deployment sees: run-time tunables, published statistics.

A *scope* (``"tunables"``, ``"stats"``) names one map. Where it lives, first match wins
(:func:`shared_store_for`):

- Redis: one hash ``<prefix without its trailing ':'>.<scope>`` (``trialstock.tunables``).
  Deliberately outside the cache's key prefix, so emptying the cache (which UNLINKs every key
  under the prefix) leaves it alone;
- the SQLite tier's file: rows ``<scope>.<name>`` of its ``meta`` table (shared by every process
  on the machine; ``clear`` and ``restore`` leave them alone);
- else process memory (one process: nobody else could see it anyway).

Every store reads all names at once, writes one name, and deletes several names at once
(:meth:`SharedStore.delete` returns how many existed; unknown names are ignored). A store that
cannot be reached raises :class:`~cache.backends.base.BackendError`, as a tier does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Protocol

from cache.backends.base import BackendError
from cache.backends.capabilities import MetaStore, SharedRedis, describe
from cache.engine.tiered import TieredCache

if TYPE_CHECKING:  # redis is imported only by processes configured to use it
    from cache.backends.redis_client import RedisClient


class SharedStore(Protocol):
    where: str

    async def read_all(self) -> dict[str, str]: ...

    async def write(self, name: str, value: str) -> None: ...

    async def delete(self, names: Sequence[str]) -> int: ...


class MemoryStore:
    """Values in this process only."""

    where = "process memory"

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    async def read_all(self) -> dict[str, str]:
        return dict(self._values)

    async def write(self, name: str, value: str) -> None:
        self._values[name] = value

    async def delete(self, names: Sequence[str]) -> int:
        return sum(self._values.pop(name, None) is not None for name in dict.fromkeys(names))


class RedisHashStore:
    """A Redis hash. ``client`` is e.g. ``RedisBackend.client``."""

    def __init__(self, client: RedisClient, key: str) -> None:
        self._client = client
        self.key = key
        self.where = f"redis hash {key}"

    async def read_all(self) -> dict[str, str]:
        async with self._failing_as_backend_error("read"):
            raw = await self._client.hgetall(self.key)
        return {_text(name): _text(value) for name, value in raw.items()}

    async def write(self, name: str, value: str) -> None:
        async with self._failing_as_backend_error("write"):
            await self._client.hset(self.key, name, value)

    async def delete(self, names: Sequence[str]) -> int:
        unique = list(dict.fromkeys(names))
        if not unique:
            return 0
        async with self._failing_as_backend_error("delete"):
            return int(await self._client.hdel(self.key, *unique))

    @asynccontextmanager
    async def _failing_as_backend_error(self, op: str) -> AsyncIterator[None]:
        """redis-py and socket errors become :class:`BackendError`, like the tiers' own."""
        from redis.exceptions import RedisError

        try:
            yield
        except (RedisError, OSError) as exc:
            raise BackendError(f"{op} of {self.where} failed: {type(exc).__name__}: {exc}") from exc


class SqliteMetaStore:
    """``<scope>.*`` rows of the SQLite cache file's ``meta`` table."""

    def __init__(self, backend: MetaStore, scope: str) -> None:
        self._backend = backend
        self._prefix = f"{scope}."
        self.where = f"sqlite meta table of {describe(backend)}"

    async def read_all(self) -> dict[str, str]:
        rows = await self._backend.meta_get_prefixed(self._prefix)
        return {name[len(self._prefix) :]: value for name, value in rows.items()}

    async def write(self, name: str, value: str) -> None:
        await self._backend.meta_set(self._prefix + name, value)

    async def delete(self, names: Sequence[str]) -> int:
        return int(await self._backend.meta_delete([self._prefix + name for name in names]))


def redis_scope_key(prefix: str, scope: str) -> str:
    """The hash holding ``scope`` for a deployment using the Redis key ``prefix``."""
    return f"{prefix.rstrip(':')}.{scope}"


def shared_store_for(cache: TieredCache, scope: str) -> SharedStore:
    """The store for ``scope`` in the cache's Redis tier (a :class:`SharedRedis`), else its
    SQLite file (a :class:`MetaStore`), else memory."""
    redis, sqlite = cache.redis, cache.sqlite
    if isinstance(redis, SharedRedis):
        return RedisHashStore(redis.client, redis_scope_key(redis.prefix, scope))
    if isinstance(sqlite, MetaStore):
        return SqliteMetaStore(sqlite, scope)
    return MemoryStore()


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw
