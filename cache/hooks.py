"""Subscriptions: the one way anything in the cache lets others observe it.

Every observable thing offers ``unsubscribe = thing.subscribe_<what>(callback)`` (the engine's
invalidations and memory hits, the memory tier's evictions, the statistics' sections):
subscribing returns the function that ends that subscription. :class:`Hooks` keeps the
callbacks of one kind for the object that calls them.

Contract: callbacks are called in the order they subscribed; one callable subscribed twice is
called twice and each ``unsubscribe`` ends only its own subscription; ``unsubscribe`` is
idempotent. :attr:`Hooks.current` is a tuple rebuilt on every (un)subscription, so the caller's
hot path iterates it without copying, and a callback that (un)subscribes while being called
changes the next round, not this one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Hooks", "Unsubscribe"]

F = TypeVar("F")
"""The callback type of one kind of hook."""

Unsubscribe = Callable[[], None]
"""Ends the subscription that returned it (idempotent)."""


class Hooks(Generic[F]):
    """The callbacks subscribed to one kind of event, in subscription order."""

    __slots__ = ("_hooks", "current")

    def __init__(self) -> None:
        self._hooks: dict[object, F] = {}  # a token per subscription, so duplicates stay distinct
        self.current: tuple[F, ...] = ()

    def subscribe(self, hook: F) -> Unsubscribe:
        """Add ``hook``; returns the function that removes this subscription again."""
        token = object()
        self._hooks[token] = hook
        self.current = tuple(self._hooks.values())

        def unsubscribe() -> None:
            if token in self._hooks:
                del self._hooks[token]
                self.current = tuple(self._hooks.values())

        return unsubscribe

    def __len__(self) -> int:
        return len(self.current)
