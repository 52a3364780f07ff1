"""Degrade, never fail: every call into a lower tier goes through a :class:`TierGuard`.

A call that raises or takes longer than ``timeout`` seconds is counted (``errors`` or
``timeouts``) and answered with :data:`SKIPPED` instead of an exception. After ``threshold``
consecutive failures the guard opens: calls are skipped at once (counted as ``skips``) until
``recovery`` seconds have passed on the engine's clock; then ONE call is let through as a probe
(the others keep being skipped); its success closes the guard, its failure re-opens it. So a
Redis that is down costs at most one short timeout per ``recovery`` period.

Logging (:class:`~cache.state_log.StateLog`): the first failure of an episode is ONE warning;
later failures and skips are only counted until a call that started after the latest failure
succeeds, which logs ONE line with the counts. A burst of timeouts is two lines, not thousands.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, Generic, Protocol, TypeVar, TypeVarTuple

from cache.backends.capabilities import Countable, QueuedWrites, describe
from cache.engine.deadlines import Deadlines
from cache.engine.stats import TierCounters
from cache.state_log import StateLog

log = logging.getLogger(__name__)

B_co = TypeVar("B_co", covariant=True)
R = TypeVar("R")
Ts = TypeVarTuple("Ts")


class Pingable(Protocol):
    async def ping(self) -> bool: ...


class Skipped(enum.Enum):
    """The type of :data:`SKIPPED` (an enum, so ``result is SKIPPED`` narrows for type checkers)."""

    SKIPPED = "SKIPPED"

    def __repr__(self) -> str:
        return "SKIPPED"

    def __bool__(self) -> bool:
        return False


SKIPPED: Final = Skipped.SKIPPED
"""Returned by :meth:`TierGuard.call` when the tier was skipped, failed or timed out."""


class TierGuard(Generic[B_co]):
    """Timeout + failure counting + breaker around one ``backend`` (any object: a tier, a locker)."""

    def __init__(
        self,
        name: str,
        backend: B_co,
        counters: TierCounters,
        *,
        clock: Callable[[], float],
        timeout: float,
        recovery: float,
        threshold: int = 1,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.name = name
        self.backend = backend
        self.counters = counters
        self._clock = clock
        self._timeout = timeout
        self._deadlines = Deadlines(timeout)  # one timer for all calls, not one per call (4 us each)
        self._recovery = recovery
        self._threshold = threshold
        self._timer = timer
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False
        self._trouble = StateLog(log, f"cache tier {name}", clock=clock)
        self._started = 0  # calls started so far
        self._failed_call = 0  # number of the latest failed call while an episode is open, else 0

    @property
    def state(self) -> str:
        """'closed' (in use), 'open' (skipped) or 'half-open' (recovery time passed: next call probes)."""
        if self._failures < self._threshold:
            return "closed"
        if self._probing or self._clock() - self._opened_at < self._recovery:
            return "open"
        return "half-open"

    async def call(
        self, fn: Callable[[*Ts], Awaitable[R]], *args: *Ts, timed: bool = False, force: bool = False
    ) -> R | Skipped:
        """``await fn(*args)`` within the timeout; SKIPPED on skip, error or timeout.

        ``timed``: record the call's duration in the tier's latency samples.
        ``force``: try even when the guard is open (invalidations), still bounded by the timeout.
        Cancellation of the caller propagates unchanged.
        """
        probe = False
        if not force and self._failures >= self._threshold:
            if self._probing or self._clock() - self._opened_at < self._recovery:
                self.counters.skips += 1
                self._trouble.event("skipped calls")
                return SKIPPED
            self._probing = probe = True
        self._started += 1
        number = self._started
        deadlines = self._deadlines
        task = deadlines.enter()  # None: not watchable here (no task, nested call): asyncio.timeout
        started = self._timer()
        try:
            if task is not None:
                result = await fn(*args)
            else:
                async with asyncio.timeout(self._timeout):
                    result = await fn(*args)
        except asyncio.CancelledError:
            if task is None or not deadlines.expired(task):
                raise
            return self._timed_out(number)
        except TimeoutError:
            return self._timed_out(number)
        except Exception as exc:  # any backend failure degrades to a skip
            self.counters.errors += 1
            self._failed(number, "errors", repr(exc))
            return SKIPPED
        finally:
            if task is not None:
                deadlines.leave(task)
            if probe:
                self._probing = False
        if timed:
            self.counters.latency.add(self._timer() - started)
        if self._failed_call:  # 0 unless an episode of failures is open
            self._succeeded(number)
        return result

    def _succeeded(self, number: int) -> None:
        """Close the guard; end the logged episode when this call started after its latest failure
        (a call that was already running when the tier failed proves little)."""
        self._failures = 0
        if number > self._failed_call:
            self._failed_call = 0
            self._trouble.end("recovered, using it again")

    def _timed_out(self, number: int) -> Skipped:
        self.counters.timeouts += 1
        self._failed(number, "timeouts", f"timed out after {self._timeout:.3f}s")
        return SKIPPED

    def _failed(self, number: int, kind: str, reason: str) -> None:
        self._failures += 1
        self._failed_call = max(self._failed_call, number)
        opened = self._failures >= self._threshold
        if opened:
            self._opened_at = self._clock()
        self._trouble.event(kind, f"{reason}; skipping the tier for {self._recovery:.1f}s" if opened else reason)

    async def info(self) -> dict[str, Any]:
        """Cheap facts for operators: guard ``state``, ``where`` (file path or key prefix, never
        a URL with credentials) when the backend is Describable, ``entries`` when it is
        Countable and answers, ``queued_writes`` and ``dropped_writes`` when it queues writes."""
        backend = self.backend
        info: dict[str, Any] = {"state": self.state, "where": describe(backend)}
        if isinstance(backend, Countable):
            entries = await self.call(backend.count)
            if entries is not SKIPPED:
                info["entries"] = entries
        if isinstance(backend, QueuedWrites):  # after the count, which may have let the queue drain
            info["queued_writes"], info["dropped_writes"] = backend.queued_writes, backend.dropped_writes
        return info

    async def ping(self: TierGuard[Pingable]) -> bool:
        """True when the backend answers ``ping()`` with a truthy value within the timeout."""
        try:
            async with asyncio.timeout(self._timeout):
                return bool(await self.backend.ping())
        except Exception:  # a failing ping is simply False
            return False
