"""Per-upstream rate limiter: a sliding-window log, served first come first served, with shedding.

``RateLimiter(3, 5.0)`` guarantees that no half-open window ``[t, t + 5)`` of the injected
clock holds more than 3 grants: the (n+k)-th grant is never earlier than ``per_seconds``
after the k-th. (A token bucket of capacity 3 refilling at 3/5 per second would allow 4 grants
within about 1.7 s, which is what gets TWSE to ban an IP.)

Waiters queue on an ``asyncio.Lock``, which wakes them in arrival order; the waiter at the
head sleeps (injected ``sleep``) until the oldest grant leaves the window. Cancelling a
waiter removes it from the queue at once and grants nothing.

Shedding: a caller is never parked for longer than it can wait. On arrival its wait is known
exactly (FIFO, and the grants already given fix when each queued waiter gets its slot, see
:meth:`RateLimiter.expected_wait`); when it exceeds the caller's ``max_wait`` (what is left of
its deadline), or ``max_queue`` callers are already waiting, :class:`QueueFull` is raised at
once and the caller takes no place in the queue. ``queued`` and ``shed`` are the figures the
upstream's health reports.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable


class QueueFull(Exception):
    """The caller was turned away: ``queued`` waiters were ahead, its slot was ``wait`` s away."""

    def __init__(self, queued: int, wait: float) -> None:
        super().__init__(f"{queued} calls queued, a slot in {wait:.1f} s")
        self.queued = queued
        self.wait = wait


class RateLimiter:
    """At most ``requests`` acquisitions in any ``per_seconds`` window; at most ``max_queue``
    callers waiting (None: no bound)."""

    def __init__(
        self,
        requests: int,
        per_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        *,
        max_queue: int | None = None,
    ) -> None:
        if requests < 1 or per_seconds <= 0 or (max_queue is not None and max_queue < 0):
            raise ValueError("requests must be >= 1, per_seconds > 0 and max_queue >= 0")
        self.requests = requests
        self.per_seconds = per_seconds
        self.max_queue = max_queue
        self._clock = clock
        self._sleep = sleep
        self._grants: deque[float] = deque(maxlen=requests)
        self._lock = asyncio.Lock()
        self.queued = 0
        """Callers waiting for a slot now."""
        self.shed = 0
        """Callers turned away since start."""

    async def acquire(self, max_wait: float | None = None) -> None:
        """Wait for a slot (FIFO among waiters) and take it; raise :class:`QueueFull` at once
        when the slot is more than ``max_wait`` seconds away or the queue is full."""
        ahead = self.queued
        wait = self.expected_wait(ahead)
        if wait > 0 and (
            (self.max_queue is not None and ahead >= self.max_queue) or (max_wait is not None and wait > max_wait)
        ):
            self.shed += 1
            raise QueueFull(ahead, wait)
        self.queued += 1
        try:
            async with self._lock:
                while (delay := self._delay()) > 0:
                    await self._sleep(delay)
                self._grants.append(self._clock())
        finally:
            self.queued -= 1

    def delay(self) -> float:
        """Seconds a new caller would wait if no one were queued (0 when a slot is free)."""
        return self._delay()

    def expected_wait(self, ahead: int | None = None) -> float:
        """Seconds until a caller behind ``ahead`` waiters (default: those queued now) gets its slot.

        The k-th slot from now (k = 0, 1, ...) comes at ``max(now + P * (k // n),
        g[k % n] + P * (k // n + 1))`` where ``g`` is the log of the last ``n`` grants, padded
        in front with "long ago" while it is not full: each slot reuses the one ``n`` earlier."""
        k = self.queued if ahead is None else ahead
        now = self._clock()
        rounds, index = divmod(k, self.requests)
        padding = self.requests - len(self._grants)
        at = now + self.per_seconds * rounds
        if index >= padding:
            at = max(at, self._grants[index - padding] + self.per_seconds * (rounds + 1))
        return max(at - now, 0.0)

    def _delay(self) -> float:
        if len(self._grants) < self.requests:
            return 0.0
        return max(self._grants[0] + self.per_seconds - self._clock(), 0.0)
