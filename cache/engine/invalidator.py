"""Invalidation: what to drop (an event) and dropping it from every tier.

An :class:`InvalidationEvent` names a kind and its values: keys, tags, a glob pattern, a
namespace, everything, or by time (:func:`age_event`): ``older_than`` (entries created before a
cutoff) and ``unused`` (entries neither read nor written since a cutoff), optionally within one
namespace. Time events carry the absolute cutoff (epoch seconds), so every process that applies
one drops the same generation of entries.

:class:`Invalidator` applies one to the memory tier and to each lower tier (through its
:class:`~cache.engine.tier_guard.TierGuard`, bypassing an open breaker but still bounded by the
timeout) and then calls the ``hooks`` (the place a pub/sub layer publishes the event to other
processes). A tier that fails is reported as ``None`` in the counts, never raised. A tier that
cannot apply a time event at all is left out of the counts: by age, a backend must be a
:class:`~cache.backends.capabilities.CreationIndex` or a
:class:`~cache.backends.capabilities.HeadReader` (Redis: creation times read from entry
headers, see :mod:`cache.engine.age_scan`); by low use, a
:class:`~cache.backends.capabilities.UseIndex` (memory and SQLite; Redis keeps no usable
last-read time, so it is skipped).
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from cache.backends.base import Backend
from cache.backends.capabilities import CreationIndex, HeadReader, UseIndex
from cache.backends.glob import parse_glob
from cache.backends.memory import MemoryBackend
from cache.engine.age_scan import created_before_by_heads
from cache.engine.tier_guard import SKIPPED, Skipped, TierGuard
from cache.hooks import Hooks
from cache.keys import namespace_pattern
from cache.serialization import Serializer

log = logging.getLogger(__name__)

Kind = Literal["keys", "tags", "pattern", "namespace", "clear", "older_than", "unused"]
KINDS: tuple[str, ...] = ("keys", "tags", "pattern", "namespace", "clear", "older_than", "unused")
AGE_KINDS: tuple[str, ...] = ("older_than", "unused")


@dataclass(frozen=True, slots=True)
class InvalidationEvent:
    """``kind`` and its ``value``: keys, tags, one glob pattern, one namespace, () for clear, or
    ``(cutoff[, namespace])`` for the time kinds (build those with :func:`age_event`).

    ValueError for an unknown kind or a malformed value. Keys and tags need at least one value,
    and no selector may be empty or blank: only ``clear`` empties a tier, so nothing that reached
    here from a blank flag or field can widen into a wipe."""

    kind: Kind
    value: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown invalidation kind {self.kind!r}")
        if self.kind in AGE_KINDS:
            age_filter(self)  # ValueError for a malformed cutoff or namespace
        elif self.kind != "clear":
            _check_selectors(self.kind, self.value)
        elif self.value:
            raise ValueError(f"clear takes no value, got {self.value!r}")


def _check_selectors(kind: str, value: tuple[str, ...]) -> None:
    """ValueError unless ``value`` holds the selectors ``kind`` takes, none of them blank."""
    if not value:
        raise ValueError(f"{kind} invalidation needs at least one value (an empty selector is refused)")
    if kind in ("pattern", "namespace") and len(value) != 1:
        raise ValueError(f"{kind} invalidation takes exactly one value, got {len(value)}")
    blank = [item for item in value if not isinstance(item, str) or not item.strip()]
    if blank:
        raise ValueError(f"{kind} invalidation refuses an empty or blank selector: {blank[0]!r}")
    if kind == "pattern":
        parse_glob(value[0])  # a malformed glob is the caller's error, not a tier failure


def age_event(kind: Literal["older_than", "unused"], cutoff: float, namespace: str | None = None) -> InvalidationEvent:
    """An event dropping entries created (``older_than``) or last used (``unused``) before
    ``cutoff`` (epoch seconds), only those of ``namespace`` when given. ValueError otherwise."""
    if kind not in AGE_KINDS:
        raise ValueError(f"{kind!r} is not a time invalidation kind")
    text = repr(float(cutoff))
    return InvalidationEvent(kind, (text,) if namespace is None else (text, namespace))


def age_filter(event: InvalidationEvent) -> tuple[float, str]:
    """``(cutoff, glob pattern over keys)`` of a time event; ValueError when malformed."""
    value = event.value
    if not 1 <= len(value) <= 2:
        raise ValueError(f"{event.kind} takes a cutoff and an optional namespace, got {value!r}")
    try:
        cutoff = float(value[0])
    except ValueError:
        raise ValueError(f"{event.kind} cutoff must be a number, got {value[0]!r}") from None
    if not math.isfinite(cutoff):
        raise ValueError(f"{event.kind} cutoff must be finite, got {value[0]!r}")
    if len(value) == 2 and not value[1].strip():
        raise ValueError(f"{event.kind} invalidation refuses an empty or blank namespace: {value[1]!r}")
    return cutoff, namespace_pattern(value[1]) if len(value) == 2 else "*"


InvalidationHook = Callable[[InvalidationEvent], Awaitable[object] | None]
"""A hook may be a plain function or return an awaitable (which is awaited)."""


class Invalidator:
    """Applies events to the tiers, then calls its :attr:`hooks`. ``serializer`` reads entry
    headers for age scans of tiers without creation times."""

    def __init__(
        self, memory: MemoryBackend, guards: Sequence[TierGuard[Backend]], serializer: Serializer | None = None
    ) -> None:
        self._memory = memory
        self._guards = list(guards)
        self.hooks: Hooks[InvalidationHook] = Hooks()
        self._serializer = serializer or Serializer()

    async def apply(
        self, event: InvalidationEvent, *, tiers: Collection[str] | None = None, notify: bool = True
    ) -> dict[str, int | None]:
        """Drop what ``event`` names from ``tiers`` (default all); counts removed per tier."""
        counts: dict[str, int | None] = {}
        if tiers is None or "memory" in tiers:
            counts["memory"] = self._apply_memory(event)
        for guard in self._guards:
            if (tiers is None or guard.name in tiers) and _can_apply(guard.backend, event):
                counts[guard.name] = await self._apply_lower(guard, event)
        if notify:
            await self.notify(event)
        return counts

    async def notify(self, event: InvalidationEvent) -> None:
        """Call every hook with ``event``; a failing hook is logged and skipped."""
        for hook in self.hooks.current:
            try:
                outcome = hook(event)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:  # a hook must never break invalidation
                log.exception("cache invalidation hook %r failed", hook)

    def _apply_memory(self, event: InvalidationEvent) -> int:
        memory = self._memory
        if event.kind == "keys":
            return memory.delete_now(event.value)
        if event.kind == "tags":
            return memory.delete_now(memory.tagged_now(event.value))
        if event.kind == "clear":
            return memory.clear_now()
        if event.kind in AGE_KINDS:
            cutoff, pattern = age_filter(event)
            find = memory.created_before_now if event.kind == "older_than" else memory.unused_since_now
            return memory.delete_now(find(cutoff, pattern))
        return memory.delete_now(memory.match_now(_pattern(event)))

    async def _apply_lower(self, guard: TierGuard[Backend], event: InvalidationEvent) -> int | None:
        backend = guard.backend
        if event.kind == "clear":
            cleared = await guard.call(backend.clear, force=True)
            return None if cleared is SKIPPED else int(cleared)
        keys: list[str] | Skipped
        if event.kind == "keys":
            keys = list(event.value)
        elif event.kind == "tags":
            keys = await guard.call(backend.tagged, list(event.value), force=True)
        elif event.kind in AGE_KINDS:
            keys = await self._aged_keys(guard, event)
        else:
            keys = await guard.call(backend.match, _pattern(event), force=True)
        if keys is SKIPPED:
            return None
        if not keys:
            return 0
        removed = await guard.call(backend.delete_many, keys, force=True)
        return None if removed is SKIPPED else int(removed)

    async def _aged_keys(self, guard: TierGuard[Backend], event: InvalidationEvent) -> list[str] | Skipped:
        """Keys a time event drops from a tier :func:`_can_apply` accepted for it."""
        cutoff, pattern = age_filter(event)
        backend = guard.backend
        if event.kind == "unused":
            assert isinstance(backend, UseIndex)
            return await guard.call(backend.unused_since, cutoff, pattern, force=True)
        if isinstance(backend, CreationIndex):
            return await guard.call(backend.created_before, cutoff, pattern, force=True)
        assert isinstance(backend, HeadReader)
        return await created_before_by_heads(guard, backend, self._serializer, cutoff, pattern)


def _can_apply(backend: Backend, event: InvalidationEvent) -> bool:
    """Whether ``backend`` can apply ``event`` at all (time events need an index or headers)."""
    if event.kind == "older_than":
        return isinstance(backend, (CreationIndex, HeadReader))
    if event.kind == "unused":
        return isinstance(backend, UseIndex)
    return True


def _pattern(event: InvalidationEvent) -> str:
    if event.kind == "namespace":
        return namespace_pattern(event.value[0])
    return event.value[0]
