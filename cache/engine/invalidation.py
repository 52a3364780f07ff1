"""The engine's invalidation entry points: what callers ask for, turned into events and applied.

:class:`Invalidations` builds an :class:`~cache.engine.invalidator.InvalidationEvent` for each
kind and hands it to the :class:`~cache.engine.invalidator.Invalidator`. Every method returns
the number of entries removed per tier (``None`` for a tier that failed; a tier that cannot
apply the kind at all is left out; ``clear`` too counts what each tier held). An empty or blank
selector (no keys, a ``""`` tag, a ``" "`` pattern or namespace) is a ValueError before
anything is touched: only :meth:`Invalidations.clear` empties the tiers, and with ``notify`` calls the invalidation hooks (how other
processes hear of it: the Redis event bus, or :mod:`cache.coordination.memory_sync` without
Redis; see :meth:`Invalidations.subscribe`). ``tiers`` restricts it to some tiers.

Key, tag, pattern, namespace and clear invalidations also move the load :attr:`~Invalidations.epoch`:
a load running at that moment skips storing its value (it may have been read before the
drop). Time-based ones (:meth:`Invalidations.invalidate_older_than`,
:meth:`Invalidations.invalidate_unused`) do not: a value being loaded now is neither old nor unused.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from typing import Literal

from cache.backends.memory import MemoryBackend
from cache.engine.invalidator import AGE_KINDS, InvalidationEvent, InvalidationHook, Invalidator, age_event
from cache.engine.stats import LostEntries
from cache.hooks import Unsubscribe
from cache.keys import validate_namespace

Tiers = Collection[str] | None
"""Tier names an invalidation is restricted to (None: every tier)."""
Counts = dict[str, int | None]
"""Entries removed per tier; None for a tier that failed."""


class Invalidations:
    """Invalidation by key, tag, pattern, namespace, everything, age and disuse."""

    def __init__(
        self, memory: MemoryBackend, clock: Callable[[], float], invalidator: Invalidator, lost: LostEntries
    ) -> None:
        self._memory = memory
        self._clock = clock
        self._invalidator = invalidator
        self._lost = lost
        self.epoch = 0
        """Moves on every invalidation but the time-based ones; a load compares it before storing."""

    def subscribe(self, hook: InvalidationHook) -> Unsubscribe:
        """Call ``hook(event)`` after every invalidation made with ``notify`` (awaited when it
        returns an awaitable; a failing hook is logged and skipped)."""
        return self._invalidator.hooks.subscribe(hook)

    @property
    def hooks(self) -> tuple[InvalidationHook, ...]:
        """The hooks subscribed now, in call order."""
        return self._invalidator.hooks.current

    async def invalidate_keys(self, *keys: str, tiers: Tiers = None, notify: bool = True) -> Counts:
        """Drop ``keys`` from every tier (or ``tiers``); removed count per tier, None if it failed."""
        return await self._invalidate(InvalidationEvent("keys", tuple(keys)), tiers, notify)

    async def invalidate_tags(self, *tags: str, tiers: Tiers = None, notify: bool = True) -> Counts:
        """Drop every entry carrying any of ``tags``."""
        return await self._invalidate(InvalidationEvent("tags", tuple(tags)), tiers, notify)

    async def invalidate_pattern(self, pattern: str, *, tiers: Tiers = None, notify: bool = True) -> Counts:
        """Drop keys matching the glob ``pattern`` (escape literal parts with escape_glob)."""
        return await self._invalidate(InvalidationEvent("pattern", (pattern,)), tiers, notify)

    async def invalidate_namespace(self, namespace: str, *, tiers: Tiers = None, notify: bool = True) -> Counts:
        """Drop every key of ``namespace`` (all versions)."""
        event = InvalidationEvent("namespace", (namespace,))  # ValueError for a blank one
        validate_namespace(namespace)
        return await self._invalidate(event, tiers, notify)

    async def clear(self, *, tiers: Tiers = None, notify: bool = True) -> Counts:
        """Empty every tier; how many entries each removed (None for a tier that failed)."""
        return await self._invalidate(InvalidationEvent("clear"), tiers, notify)

    async def invalidate_older_than(
        self, seconds: float, namespace: str | None = None, *, tiers: Tiers = None, notify: bool = True
    ) -> Counts:
        """Drop entries created more than ``seconds`` ago (only ``namespace``'s when given).

        Memory and SQLite know each entry's creation time (SQLite rows from before schema 2
        count as created at their last access); Redis is scanned and judged by the first bytes
        of each value (:mod:`cache.engine.age_scan`). ValueError for a negative ``seconds`` or a bad
        namespace.
        """
        return await self._invalidate(self._time_event("older_than", seconds, namespace), tiers, notify)

    async def invalidate_unused(
        self, seconds: float, namespace: str | None = None, *, tiers: Tiers = None, notify: bool = True
    ) -> Counts:
        """Drop entries neither read nor written for ``seconds`` (only ``namespace``'s when given).

        SQLite goes by its rows' last access. Memory goes by watermarks in its LRU order (see
        :mod:`cache.backends.memory_watermarks`): never an entry used within ``seconds``, but entries idle
        for less than ``seconds`` plus the watermark spacing may stay, and none go until a
        watermark at least ``seconds`` old exists (this call places one). Redis keeps no usable
        last-read time and is left out of the counts.
        """
        event = self._time_event("unused", seconds, namespace)
        self._memory.watermark(self._clock())  # a reference point for the next call
        return await self._invalidate(event, tiers, notify)

    async def apply_event(self, event: InvalidationEvent, *, tiers: Tiers = ("memory",)) -> None:
        """Apply an event received from another process (memory tier only; hooks not called)."""
        await self._invalidate(event, tiers, notify=False)

    def _time_event(
        self, kind: Literal["older_than", "unused"], seconds: float, namespace: str | None
    ) -> InvalidationEvent:
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
        return age_event(kind, self._clock() - seconds, namespace)

    async def _invalidate(self, event: InvalidationEvent, tiers: Tiers, notify: bool) -> Counts:
        if event.kind not in AGE_KINDS:  # a value loaded now is newer than any time cutoff
            self.epoch += 1
        self._lost.clear()  # deliberate drops are not evictions
        return await self._invalidator.apply(event, tiers=tiers, notify=notify)
