"""Run-time tunables: numbers every process of a deployment sees, changed without a restart.

Where they live (chosen by :func:`tunables_for` from the cache's tiers, first match wins):

- Redis: one hash ``<prefix without its trailing ':'>.tunables`` (``trialstock.tunables`` by
  default). Deliberately outside the cache's key prefix, so emptying the cache (which UNLINKs
  every key under the prefix) does not reset the tunables;
- the SQLite tier's file: rows ``tunable.<name>`` of its ``meta`` table (shared by every
  process on the machine; ``clear`` and ``restore`` leave them alone);
- else process memory (a single process; nothing else could see a change anyway).

Known tunables (:data:`KNOWN`): ``refresh_ahead.cost_cutoff`` (seconds, >= 0, ``inf`` turns
refresh-ahead off): keys whose fetch cost is above it are refreshed ahead.

Reads are served from a local copy at most ``max_age`` seconds old (one store round trip per
``max_age``), so a change made from the CLI in another process applies within about
``max_age``. A store that fails or is slower than ``timeout`` is logged and the last values
read (or the defaults) keep being used: reading never raises. Writes raise
:class:`TunableStoreError`; unknown names and bad values raise :class:`TunableError`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

log = logging.getLogger(__name__)

COST_CUTOFF = "refresh_ahead.cost_cutoff"
KNOWN: dict[str, tuple[float, str]] = {
    COST_CUTOFF: (0.5, "seconds; keys whose fetch cost is above it are refreshed ahead (inf: off)"),
}
"""name -> (default, description)."""

_SQLITE_PREFIX = "tunable."


class TunableError(ValueError):
    """An unknown tunable name or an unusable value."""


class TunableStoreError(RuntimeError):
    """The store holding the tunables could not be written (read failures are only logged)."""


class TunableStore(Protocol):
    """Where the values are kept. ``where`` describes it for operators (no credentials)."""

    where: str

    async def read_all(self) -> dict[str, str]: ...

    async def write(self, name: str, value: str) -> None: ...


class MemoryTunableStore:
    """Values in this process only."""

    where = "process memory"

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    async def read_all(self) -> dict[str, str]:
        return dict(self._values)

    async def write(self, name: str, value: str) -> None:
        self._values[name] = value


class RedisTunableStore:
    """A Redis hash. ``client`` is a ``redis.asyncio.Redis`` (e.g. ``RedisBackend.client``)."""

    def __init__(self, client: Any, key: str) -> None:
        self._client = client
        self.key = key
        self.where = f"redis hash {key}"

    async def read_all(self) -> dict[str, str]:
        raw = await self._client.hgetall(self.key)
        return {_text(name): _text(value) for name, value in raw.items()}

    async def write(self, name: str, value: str) -> None:
        await self._client.hset(self.key, name, value)


class SqliteTunableStore:
    """``meta`` rows of the SQLite cache file (a :class:`~cache.backends.sqlite.SqliteBackend`)."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self.where = f"sqlite meta table of {backend.path}"

    async def read_all(self) -> dict[str, str]:
        rows = await self._backend.meta_get_prefixed(_SQLITE_PREFIX)
        return {name[len(_SQLITE_PREFIX):]: value for name, value in rows.items()}

    async def write(self, name: str, value: str) -> None:
        await self._backend.meta_set(_SQLITE_PREFIX + name, value)


def redis_tunables_key(prefix: str) -> str:
    """The hash holding the tunables of a deployment using the Redis key ``prefix``."""
    return f"{prefix.rstrip(':')}.tunables"


class Tunables:
    """Typed access to the tunables in ``store`` with a short local cache (see module doc)."""

    def __init__(self, store: TunableStore, *, clock: Callable[[], float] = time.time, max_age: float = 1.0,
                 timeout: float = 0.5, defaults: Mapping[str, float] | None = None) -> None:
        self.store = store
        self._clock = clock
        self._max_age = max_age
        self._timeout = timeout
        self._defaults = {name: default for name, (default, _) in KNOWN.items()}
        for name, value in (defaults or {}).items():
            self._defaults[_known(name)] = _valid(name, value)
        self._values: dict[str, float] = {}
        self._read_at: float | None = None
        self._failing = False

    @property
    def where(self) -> str:
        return self.store.where

    async def get(self, name: str) -> float:
        """The current value of ``name`` (at most ``max_age`` seconds old). Never raises on I/O."""
        _known(name)
        now = self._clock()
        if self._read_at is None or now - self._read_at >= self._max_age:
            await self._reload(now)
        return self._values.get(name, self._defaults[name])

    async def set(self, name: str, value: float) -> None:
        """Store ``value`` for every process. TunableError if invalid, TunableStoreError if not stored."""
        value = _valid(_known(name), value)
        try:
            async with asyncio.timeout(self._timeout):
                await self.store.write(name, repr(float(value)))
        except Exception as exc:  # any store failure becomes one typed error
            raise TunableStoreError(f"could not store tunable {name} in {self.where}: {exc}") from exc
        self._values[name] = value

    async def values(self) -> dict[str, dict[str, Any]]:
        """Every known tunable: ``{name: {value, default, description}}`` (fresh read)."""
        await self._reload(self._clock())
        return {name: {"value": self._values.get(name, self._defaults[name]), "default": self._defaults[name],
                       "description": KNOWN[name][1]} for name in KNOWN}

    async def get_cost_cutoff(self) -> float:
        """Seconds of fetch cost above which hot keys are refreshed ahead."""
        return await self.get(COST_CUTOFF)

    async def set_cost_cutoff(self, seconds: float) -> None:
        await self.set(COST_CUTOFF, seconds)

    async def _reload(self, now: float) -> None:
        self._read_at = now
        try:
            async with asyncio.timeout(self._timeout):
                raw = await self.store.read_all()
        except Exception as exc:  # reading degrades to the last known values
            if not self._failing:
                log.warning("cannot read tunables from %s (%s); using the last known values", self.where, exc)
            self._failing = True
            return
        self._failing = False
        values: dict[str, float] = {}
        for name, text in raw.items():
            if name not in KNOWN:
                continue
            try:
                values[name] = _valid(name, float(text))
            except (TunableError, ValueError):
                log.warning("ignoring unusable tunable %s=%r in %s", name, text, self.where)
        self._values = values


def tunables_for(cache: Any, *, clock: Callable[[], float] = time.time, max_age: float = 1.0,
                 defaults: Mapping[str, float] | None = None) -> Tunables:
    """Tunables kept in the cache's Redis tier, else its SQLite file, else process memory."""
    store: TunableStore
    redis, sqlite = cache.redis, cache.sqlite
    if redis is not None:
        store = RedisTunableStore(redis.client, redis_tunables_key(redis.prefix))
    elif sqlite is not None and hasattr(sqlite, "meta_set"):
        store = SqliteTunableStore(sqlite)
    else:
        store = MemoryTunableStore()
    return Tunables(store, clock=clock, max_age=max_age, defaults=defaults)


def _known(name: str) -> str:
    if name not in KNOWN:
        raise TunableError(f"unknown tunable {name!r}; known: {', '.join(sorted(KNOWN))}")
    return name


def _valid(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TunableError(f"tunable {name} must be a number, got {value!r}")
    number = float(value)
    if math.isnan(number) or number < 0:
        raise TunableError(f"tunable {name} must be >= 0 (inf allowed), got {value!r}")
    return number


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw
