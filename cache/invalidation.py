"""Invalidation: what to drop (an event) and dropping it from every tier.

An :class:`InvalidationEvent` names a kind and its values: keys, tags, a glob pattern, a
namespace, or everything. :class:`Invalidator` applies one to the memory tier and to each lower
tier (through its :class:`~cache.tier_guard.TierGuard`, bypassing an open breaker but still
bounded by the timeout) and then calls the ``hooks`` (the place a pub/sub layer publishes the
event to other processes). A tier that fails is reported as ``None`` in the counts, never raised.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cache.backends.memory import MemoryBackend
from cache.keys import namespace_pattern
from cache.tier_guard import SKIPPED, TierGuard

log = logging.getLogger(__name__)

Kind = Literal["keys", "tags", "pattern", "namespace", "clear"]
KINDS: tuple[str, ...] = ("keys", "tags", "pattern", "namespace", "clear")


@dataclass(frozen=True, slots=True)
class InvalidationEvent:
    """``kind`` and its ``value``: keys, tags, one glob pattern, one namespace, or () for clear."""

    kind: Kind
    value: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown invalidation kind {self.kind!r}")


InvalidationHook = Callable[[InvalidationEvent], Any]
"""A hook may be a plain function or return an awaitable (which is awaited)."""


class Invalidator:
    """Applies events to the tiers; ``hooks`` is shared with (and mutable through) the engine."""

    def __init__(self, memory: MemoryBackend, guards: Sequence[TierGuard], hooks: list[InvalidationHook]) -> None:
        self._memory = memory
        self._guards = list(guards)
        self.hooks = hooks

    async def apply(self, event: InvalidationEvent, *, tiers: Collection[str] | None = None,
                    notify: bool = True) -> dict[str, int | None]:
        """Drop what ``event`` names from ``tiers`` (default all); counts removed per tier."""
        counts: dict[str, int | None] = {}
        if tiers is None or "memory" in tiers:
            counts["memory"] = self._apply_memory(event)
        for guard in self._guards:
            if tiers is None or guard.name in tiers:
                counts[guard.name] = await self._apply_lower(guard, event)
        if notify:
            await self.notify(event)
        return counts

    async def notify(self, event: InvalidationEvent) -> None:
        """Call every hook with ``event``; a failing hook is logged and skipped."""
        for hook in list(self.hooks):
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
        return memory.delete_now(memory.match_now(_pattern(event)))

    async def _apply_lower(self, guard: TierGuard, event: InvalidationEvent) -> int | None:
        backend = guard.backend
        if event.kind == "clear":
            done = await guard.call(backend.clear, force=True)
            return None if done is SKIPPED else 0
        if event.kind == "keys":
            keys: Any = list(event.value)
        elif event.kind == "tags":
            keys = await guard.call(backend.tagged, list(event.value), force=True)
        else:
            keys = await guard.call(backend.match, _pattern(event), force=True)
        if keys is SKIPPED:
            return None
        if not keys:
            return 0
        removed = await guard.call(backend.delete_many, keys, force=True)
        return None if removed is SKIPPED else int(removed)


def _pattern(event: InvalidationEvent) -> str:
    if event.kind == "namespace":
        return namespace_pattern(event.value[0])
    return event.value[0]
