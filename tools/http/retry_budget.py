"""Retry budget: one per upstream, so retries cannot multiply an outage.

Retries are what turns a struggling upstream into a dead one: with 8 attempts per call, a
full outage would see 8x the call rate. The budget caps the retries of an upstream within any
``window`` seconds at ``floor + ratio x calls begun in it`` (the design of Finagle's
``RetryBudget``). With the defaults (ratio 0.5, floor 20 per 10 s) an upstream failing a third
of its requests, which needs about 0.43 retries per call, keeps every call going, while a dead
one sees at most 1.5x the call rate plus the floor until its breaker opens.

Counts are kept in ``buckets`` slots of ``window / buckets`` seconds on the injected clock, so
memory stays constant whatever the traffic. Not thread-safe (one event loop).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class RetryBudget:
    """``deposit()`` once per call; ``withdraw()`` before each retry (False: no retry)."""

    def __init__(
        self,
        ratio: float,
        floor: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        buckets: int = 10,
    ) -> None:
        if ratio < 0 or floor < 0 or window <= 0 or buckets < 1:
            raise ValueError("ratio and floor must be >= 0, window > 0 and buckets >= 1")
        self.ratio = ratio
        self.floor = floor
        self._width = window / buckets
        self._buckets = buckets
        self._clock = clock
        self._slots: deque[list[int]] = deque()  # [slot number, calls, retries], oldest first
        self.denied = 0

    def deposit(self) -> None:
        """A call begins (its first attempt)."""
        self._slot()[1] += 1

    def withdraw(self) -> bool:
        """Take one retry if the budget allows it; counts a denial otherwise."""
        if self.available() < 1.0:
            self.denied += 1
            return False
        self._slot()[2] += 1
        return True

    def available(self) -> float:
        """Retries the budget allows right now."""
        self._expire()
        calls = sum(slot[1] for slot in self._slots)
        retries = sum(slot[2] for slot in self._slots)
        return self.floor + self.ratio * calls - retries

    def _slot(self) -> list[int]:
        number = int(self._clock() // self._width)
        self._expire(number)
        if not self._slots or self._slots[-1][0] != number:
            self._slots.append([number, 0, 0])
        return self._slots[-1]

    def _expire(self, number: int | None = None) -> None:
        if number is None:
            number = int(self._clock() // self._width)
        while self._slots and self._slots[0][0] <= number - self._buckets:
            self._slots.popleft()
