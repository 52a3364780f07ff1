"""Per-upstream rate limiter: a sliding-window log, served first come first served.

``RateLimiter(3, 5.0)`` guarantees that no half-open window ``[t, t + 5)`` of the injected
clock holds more than 3 grants: the (n+k)-th grant is never earlier than ``per_seconds``
after the k-th. (A token bucket of capacity 3 refilling at 3/5 per second would allow 4 grants
within about 1.7 s, which is what gets TWSE to ban an IP.)

Waiters queue on an ``asyncio.Lock``, which wakes them in arrival order; the waiter at the
head sleeps (injected ``sleep``) until the oldest grant leaves the window. Cancelling a
waiter removes it from the queue and grants nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable


class RateLimiter:
    """At most ``requests`` acquisitions in any ``per_seconds`` window."""

    def __init__(
        self,
        requests: int,
        per_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if requests < 1 or per_seconds <= 0:
            raise ValueError("requests must be >= 1 and per_seconds > 0")
        self.requests = requests
        self.per_seconds = per_seconds
        self._clock = clock
        self._sleep = sleep
        self._grants: deque[float] = deque(maxlen=requests)
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait for a slot (FIFO among waiters) and take it."""
        async with self._lock:
            while (delay := self._delay()) > 0:
                await self._sleep(delay)
            self._grants.append(self._clock())

    def delay(self) -> float:
        """Seconds a new caller would wait if no one were queued (0 when a slot is free)."""
        return self._delay()

    def _delay(self) -> float:
        if len(self._grants) < self.requests:
            return 0.0
        return max(self._grants[0] + self.per_seconds - self._clock(), 0.0)
