"""Deadlines: the time by which a call must be answered, carried by the asyncio context.

A tool call runs under one :class:`Deadline` (set once where tools are run, see
:func:`tools.registry.domain_tool`); everything the HTTP layer does for it (rate-limit waits,
the half-open breaker's probe wait, every attempt and every retry wait) fits inside what is left
of it. Work that belongs to no tool call (stale-while-revalidate and refresh-ahead loads, the
data-version check) runs without one: the client then gives each of its calls a deadline of its
own, ``HttpPolicy.background_deadline`` seconds (the cache engine starts background loads in a
context of their own, so a caller's deadline never leaks into them).

The variable follows the asyncio context: a task started inside :func:`within` (a cache
single-flight load) inherits the deadline of the call that started it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Clock = Callable[[], float]


class Deadline:
    """``seconds`` from its creation on ``clock`` (monotonic by default); immutable."""

    __slots__ = ("clock", "expires_at", "seconds")

    def __init__(self, seconds: float, *, clock: Clock = time.monotonic) -> None:
        if seconds <= 0:
            raise ValueError("a deadline must lie in the future")
        self.clock = clock
        self.seconds = seconds
        self.expires_at = clock() + seconds

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(self.expires_at - self.clock(), 0.0)

    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def __repr__(self) -> str:
        return f"Deadline({self.seconds:g} s, {self.remaining():.3f} s left)"


_current: ContextVar[Deadline | None] = ContextVar("trialstock_deadline", default=None)


def current_deadline() -> Deadline | None:
    """The deadline of the call this code runs for; None outside any (background work)."""
    return _current.get()


@contextmanager
def within(seconds: float, *, clock: Clock = time.monotonic) -> Iterator[Deadline]:
    """Run the block under a deadline ``seconds`` from now.

    Nested in a call whose deadline comes sooner, the sooner one stays in force: a deadline can
    be shortened, never extended."""
    outer = _current.get()
    deadline = Deadline(seconds, clock=clock)
    if outer is not None and outer.clock is clock and outer.expires_at <= deadline.expires_at:
        deadline = outer
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)
