"""Async circuit breaker with an injectable clock.

States: ``closed`` (calls pass) -> ``open`` after ``failure_threshold`` consecutive failed
calls (calls fail fast with ``Unavailable(retry_in=...)``) -> ``half_open`` once the open
period has passed (exactly one probe call goes through) -> ``closed`` when the probe succeeds,
``open`` again when it fails.

The open period starts at ``first_recovery`` and doubles after every failed probe, up to
``recovery_time``: an outage of a few seconds is over for the callers a few seconds after it
ends (not a whole ``recovery_time`` later), while a long one costs the upstream one probe per
``recovery_time``. A successful probe starts the next outage's periods from the first again.

Calls that arrive while the probe is in flight wait for its outcome, at most ``max_wait``
seconds (what is left of their deadline): when the probe succeeds they proceed, when it fails
they fail fast with the open breaker's error; when it ends saying nothing (cancelled, or
turned away by our own rate limit) the first of them becomes the next probe. A waiter whose
time runs out gets ``Unavailable`` at once.

Only upstream faults count as failures (``Unavailable``, ``TimedOut``, ``RateLimited``,
``BadPayload`` and raw ``httpx.TransportError``), and only when the upstream was asked: a
``local`` error (``Throttled``, a deadline with no time left for a request) says nothing about
it. A 400/404/403 answer means the upstream is up, so ``Rejected``, ``NotFound`` and
``Blocked`` leave the breaker as it is (and count as success for a probe). A cancelled call
changes nothing and frees the probe slot.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

from tools.http.errors import BadPayload, RateLimited, TimedOut, Unavailable, UpstreamError
from tools.http.health import CircuitState, UpstreamHealth

T = TypeVar("T")

_FAILURES: tuple[type[BaseException], ...] = (
    Unavailable,
    TimedOut,
    RateLimited,
    BadPayload,
    httpx.TransportError,
)


def counts_as_failure(exc: BaseException) -> bool:
    """Whether an exception says the upstream is unhealthy."""
    return isinstance(exc, _FAILURES) and not is_local(exc)


def is_local(exc: BaseException) -> bool:
    """Whether the call ended without asking the upstream (see ``UpstreamError.local``)."""
    return isinstance(exc, UpstreamError) and exc.local


class CircuitBreaker:
    """One breaker per upstream; not thread-safe (one event loop)."""

    def __init__(
        self,
        upstream: str,
        *,
        failure_threshold: int,
        recovery_time: float,
        first_recovery: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``recovery_time``: the longest open period; ``first_recovery`` (capped by it, by
        default equal to it): the first open period of an outage (see the module doc)."""
        first = recovery_time if first_recovery is None else min(first_recovery, recovery_time)
        if failure_threshold < 1 or first <= 0:
            raise ValueError("failure_threshold must be >= 1 and recovery times > 0")
        self._upstream = upstream
        self._threshold = failure_threshold
        self._longest = recovery_time
        self._first = first
        self._recovery = first  # the open period in force
        self._clock = clock
        self._opened_at: float | None = None
        self._probing = False
        self._probe_done: asyncio.Event | None = None  # set when the probe in flight ends
        self._consecutive = 0
        self._total = 0
        self._last_error: str | None = None

    @property
    def state(self) -> CircuitState:
        if self._opened_at is None:
            return "closed"
        return "half_open" if self._clock() - self._opened_at >= self._recovery else "open"

    async def call(
        self,
        fn: Callable[[], Awaitable[T]],
        max_wait: float | None = None,
        *,
        probe: Callable[[], Awaitable[T]] | None = None,
    ) -> T:
        """Run ``fn()`` under the breaker; raise ``Unavailable`` at once when it is open.

        While a half-open probe is in flight, wait for its outcome at most ``max_wait`` seconds.
        ``probe``: what to run instead of ``fn`` when this call is the half-open probe (the
        client's makes one attempt, no retries)."""
        probing = self._admit()
        if probing is None:  # a probe is in flight: wait for its outcome, then decide again
            until = None if max_wait is None else asyncio.get_running_loop().time() + max_wait
            while probing is None:
                await self._await_probe(until)
                probing = self._admit()
        try:
            result = await (probe if probing and probe is not None else fn)()
        except BaseException as exc:
            self._settle(probing, exc)
            raise
        self._settle(probing, None)
        return result

    def status(self) -> UpstreamHealth:
        """The circuit's part of the upstream's health (the client adds base URL and requests)."""
        state = self.state
        retry_in = self._retry_in() if state == "open" else None
        return UpstreamHealth(
            self._upstream, state, self._consecutive, self._total, self._last_error, self._opened_at, retry_in
        )

    def _admit(self) -> bool | None:
        """Let the call through (True when it is the half-open probe), None when a probe is in
        flight (wait for it), or raise Unavailable."""
        state = self.state
        if state == "closed":
            return False
        if state == "open":
            wait = self._retry_in()
            raise Unavailable(
                self._upstream,
                f"circuit open after {self._consecutive} consecutive failures, last: {self._last_error}",
                retry_in=wait,
            )
        if self._probing:
            return None
        self._probing = True
        self._probe_done = asyncio.Event()
        return True

    async def _await_probe(self, until: float | None) -> None:
        """Wait for the probe in flight to end, until ``until`` (event-loop time) at most."""
        done = self._probe_done
        assert done is not None
        try:
            async with asyncio.timeout_at(until):
                await done.wait()
        except TimeoutError:
            error = Unavailable(
                self._upstream, "recovering: the probe request did not end within this call's deadline", retry_in=1.0
            )
            error.local = True
            raise error from None

    def _settle(self, probe: bool, exc: BaseException | None) -> None:
        if exc is not None and counts_as_failure(exc):
            self._record_failure(probe, exc)
        elif exc is None or (isinstance(exc, Exception) and not is_local(exc)):
            self._record_success(probe)
        # Cancellation, other BaseExceptions and local errors say nothing about the upstream.
        if probe:  # wake the calls waiting for the probe: they decide again on the new state
            self._probing = False
            if self._probe_done is not None:
                self._probe_done.set()
                self._probe_done = None

    def _record_failure(self, probe: bool, exc: BaseException) -> None:
        self._consecutive += 1
        self._total += 1
        self._last_error = str(exc) or type(exc).__name__
        if probe:
            self._recovery = min(self._recovery * 2, self._longest)
        if probe or self._consecutive >= self._threshold:
            self._opened_at = self._clock()

    def _record_success(self, probe: bool) -> None:
        # A late success of a call admitted before the breaker opened proves little: only
        # the probe closes an open breaker.
        if probe or self._opened_at is None:
            self._opened_at = None
            self._consecutive = 0
            self._recovery = self._first

    def _retry_in(self) -> float:
        assert self._opened_at is not None
        return max(self._recovery - (self._clock() - self._opened_at), 0.0)
