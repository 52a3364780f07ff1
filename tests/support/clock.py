"""Clocks: the engine takes any ``Callable[[], float]`` returning epoch seconds.

:class:`ManualClock` is the one fake clock of the test suite: it only moves when told to, for
deterministic TTL, breaker, rate-limit, retry and refresh tests. It serves both as an epoch
clock (the cache engine, services) and as a monotonic one (the HTTP client, rate limiter,
breaker and scheduler take ``clock=`` defaulting to ``time.monotonic``); pass its :meth:`sleep`
wherever a ``sleep=`` stands in for ``asyncio.sleep``, so waiting moves time instead of taking it.
:class:`HeldSleep` is a sleep that stays in progress until the test releases it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

Clock = Callable[[], float]

system_clock: Clock = time.time


class ManualClock:
    """Returns ``now``; :meth:`advance`, :meth:`set` and :meth:`sleep` move it.

    ``sleeps`` records every :meth:`sleep` call's argument, in order.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = float(start)
        self.sleeps: list[float] = []

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

    async def sleep(self, seconds: float) -> None:
        """An ``asyncio.sleep`` stand-in: records ``seconds`` and advances by them at once."""
        self.sleeps.append(seconds)
        self.advance(seconds)


class OffsetClock:
    """The wall clock moved forward by ``offset`` seconds: time still flows (for servers whose
    background work and HTTP timeouts run on real time) while a test jumps ahead past TTLs."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("an OffsetClock does not go backwards")
        self.offset += seconds


class HeldSleep:
    """A ``sleep=`` stand-in that blocks until :meth:`release`, then moves ``clock`` by the
    seconds asked: a wait in progress a test can look at (or cancel). ``sleeping`` is set by
    the first sleeper; ``asked`` records every call's argument."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.sleeping = asyncio.Event()
        self.asked: list[float] = []
        self._release = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        self.sleeping.set()
        await self._release.wait()
        self.clock.advance(seconds)

    def release(self) -> None:
        self._release.set()
