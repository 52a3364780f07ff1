"""Clocks: the engine takes any ``Callable[[], float]`` returning epoch seconds.

:class:`ManualClock` is a clock that only moves when told to, for deterministic TTL, breaker and
refresh tests (and for any caller that wants to drive time explicitly).
"""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]

system_clock: Clock = time.time


class ManualClock:
    """Returns ``now``; :meth:`advance` and :meth:`set` move it (never backwards by default)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("a ManualClock does not go backwards; use set()")
        self.now += seconds
        return self.now

    def set(self, now: float) -> float:
        self.now = float(now)
        return self.now
