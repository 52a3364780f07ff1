"""Run-time tunables: numbers every process of a deployment sees, changed without a restart.

Where they live: the ``tunables`` scope of :mod:`cache.coordination.shared_store` (Redis hash
``trialstock.tunables``, else the SQLite file's ``meta`` table, else process memory).

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
from typing import Any

from cache.coordination.shared_store import SharedStore, shared_store_for
from cache.engine.tiered import TieredCache

log = logging.getLogger(__name__)

COST_CUTOFF = "refresh_ahead.cost_cutoff"
KNOWN: dict[str, tuple[float, str]] = {
    COST_CUTOFF: (0.5, "seconds; keys whose fetch cost is above it are refreshed ahead (inf: off)"),
}
"""name -> (default, description)."""


class TunableError(ValueError):
    """An unknown tunable name or an unusable value."""


class TunableStoreError(RuntimeError):
    """The store holding the tunables could not be written (read failures are only logged)."""


class Tunables:
    """Typed access to the tunables in ``store`` with a short local cache (see module doc)."""

    def __init__(
        self,
        store: SharedStore,
        *,
        clock: Callable[[], float] = time.time,
        max_age: float = 1.0,
        timeout: float = 0.5,
        defaults: Mapping[str, float] | None = None,
    ) -> None:
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
            raise TunableStoreError(f"could not store tunable {name} in {self.where}: {self._reason(exc)}") from exc
        self._values[name] = value

    async def values(self) -> dict[str, dict[str, Any]]:
        """Every known tunable: ``{name: {value, default, description}}`` (fresh read)."""
        await self._reload(self._clock())
        return {
            name: {
                "value": self._values.get(name, self._defaults[name]),
                "default": self._defaults[name],
                "description": KNOWN[name][1],
            }
            for name in KNOWN
        }

    async def get_cost_cutoff(self) -> float:
        """Seconds of fetch cost above which hot keys are refreshed ahead."""
        return await self.get(COST_CUTOFF)

    async def set_cost_cutoff(self, seconds: float) -> None:
        await self.set(COST_CUTOFF, seconds)

    def _reason(self, exc: Exception) -> str:
        """Why the store failed, in words (a timeout's own text is empty)."""
        if isinstance(exc, TimeoutError):
            return f"no answer within {self._timeout:g} s"
        return str(exc) or type(exc).__name__

    async def _reload(self, now: float) -> None:
        self._read_at = now
        try:
            async with asyncio.timeout(self._timeout):
                raw = await self.store.read_all()
        except Exception as exc:  # reading degrades to the last known values
            if not self._failing:
                log.warning(
                    "cannot read tunables from %s (%s); using the last known values", self.where, self._reason(exc)
                )
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


def tunables_for(
    cache: TieredCache,
    *,
    clock: Callable[[], float] = time.time,
    max_age: float = 1.0,
    defaults: Mapping[str, float] | None = None,
) -> Tunables:
    """Tunables kept in the cache's Redis tier, else its SQLite file, else process memory."""
    return Tunables(shared_store_for(cache, "tunables"), clock=clock, max_age=max_age, defaults=defaults)


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
