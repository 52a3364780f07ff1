"""The retry loop (tenacity): which outcomes are retried, how long to wait, when to stop.

Retried: ``httpx.TransportError`` (connection failures, resets and timeouts) and responses with
status 429, 502, 503 or 504. Everything else (2xx, other 4xx, 500, 501, our own errors such as
a rate-limit shed) ends the loop at once.

Wait: the response's ``Retry-After`` (delta-seconds or HTTP-date) capped at
``policy.retry_after_cap``, else exponential backoff with "equal jitter": the n-th wait is
``step * U(0.5, 1)`` with ``step = min(backoff_max, backoff_initial * 2**(n-1))``, so waits
grow, never synchronise across callers, and never fall to zero.

Stop (checked in this order; :attr:`StopUpstream.reason` says which ended the loop):

- ``attempts``: ``policy.max_attempts`` attempts were made;
- ``retry time``: the wait would push the loop past ``policy.max_retry_time``;
- ``deadline``: after the wait, less than :data:`MIN_ATTEMPT` seconds of the call's deadline
  would be left (an attempt with less time cannot get an answer from a remote server);
- ``retry budget``: the upstream's :class:`~tools.http.retry_budget.RetryBudget` has no retry
  left (checked last, so only a retry that would really happen takes from it).

``send_with_retry`` returns the final response, retryable or not (the caller maps a non-2xx to
an error), or raises the final exception unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from tenacity import AsyncRetrying, RetryCallState
from tenacity.retry import retry_base
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from tools.http.config import HttpPolicy
from tools.http.deadline import Deadline
from tools.http.retry_after import parse_retry_after
from tools.http.retry_budget import RetryBudget

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
MIN_ATTEMPT = 0.25
"""Seconds of deadline an attempt needs at least; with less left, the loop ends with what it has."""

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class retry_upstream(retry_base):  # noqa: N801 - tenacity's naming style
    """Retry transport errors and 429/502/503/504 responses."""

    def __call__(self, retry_state: RetryCallState) -> bool:
        outcome = retry_state.outcome
        if outcome is None:
            return False
        if outcome.failed:
            return isinstance(outcome.exception(), httpx.TransportError)
        return outcome.result().status_code in RETRY_STATUSES


class wait_retry_after(wait_base):  # noqa: N801
    """Honour ``Retry-After`` (capped); otherwise defer to ``fallback``."""

    def __init__(self, cap: float, fallback: wait_base, now: Clock = time.time) -> None:
        self.cap = cap
        self.fallback = fallback
        self.now = now

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        if outcome is not None and not outcome.failed:
            seconds = parse_retry_after(outcome.result().headers, self.now)
            if seconds is not None:
                return min(seconds, self.cap)
        return self.fallback(retry_state)


class wait_equal_jitter(wait_base):  # noqa: N801
    """``min(maximum, initial * 2**(n-1)) * U(0.5, 1)`` before the n-th retry."""

    def __init__(self, initial: float, maximum: float, rng: Callable[[], float] = random.random) -> None:
        self.initial = initial
        self.maximum = maximum
        self.rng = rng

    def __call__(self, retry_state: RetryCallState) -> float:
        step = min(self.maximum, self.initial * 2.0 ** (retry_state.attempt_number - 1))
        return step * (0.5 + 0.5 * self.rng())


class StopUpstream(stop_base):
    """The stop rules of the module doc, for one call; ``reason`` is set when it stops."""

    def __init__(
        self, policy: HttpPolicy, deadline: Deadline, budget: RetryBudget | None, clock: Clock, started_at: float
    ) -> None:
        self.policy = policy
        self.deadline = deadline
        self.budget = budget
        self.clock = clock
        self.started_at = started_at
        self.reason: str | None = None

    def __call__(self, retry_state: RetryCallState) -> bool:
        self.reason = self._reason(retry_state.attempt_number, retry_state.upcoming_sleep)
        return self.reason is not None

    def _reason(self, attempts: int, wait: float) -> str | None:
        if attempts >= self.policy.max_attempts:
            return "attempts"
        if self.clock() - self.started_at + wait > self.policy.max_retry_time:
            return "retry time"
        if self.deadline.remaining() < wait + MIN_ATTEMPT:
            return "deadline"
        if self.budget is not None and not self.budget.withdraw():
            return "retry budget"
        return None


@dataclass
class RetryOutcome:
    """How a loop ended: its attempts and, when it stopped on a retryable outcome, why."""

    attempts: int = 0
    stopped_by: str | None = None


async def send_with_retry(
    attempt: Callable[[], Awaitable[httpx.Response]],
    policy: HttpPolicy,
    deadline: Deadline,
    *,
    budget: RetryBudget | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
    now: Clock = time.time,
    rng: Callable[[], float] = random.random,
    outcome: RetryOutcome | None = None,
) -> httpx.Response:
    """Run ``attempt`` under the retry policy within ``deadline``; return the last response or
    raise the last error. ``outcome`` (when given) is filled in, whatever the result."""
    stop = StopUpstream(policy, deadline, budget, clock, clock())
    outcome = outcome if outcome is not None else RetryOutcome()
    # The first attempt runs without tenacity (~90 us of set-up per call): most calls end there.
    # Any other exception propagates unchanged, as from the loop; a retryable outcome becomes the
    # loop's first attempt, so waits, stops and the attempt count are those of the loop alone.
    outcome.attempts += 1
    first: httpx.Response | httpx.TransportError | None
    try:
        first = await attempt()
    except httpx.TransportError as exc:
        first = exc
    else:
        if first.status_code not in RETRY_STATUSES:
            return first

    async def counted() -> httpx.Response:
        nonlocal first
        if first is not None:
            made, first = first, None
            if isinstance(made, httpx.TransportError):
                raise made
            return made
        outcome.attempts += 1
        return await attempt()

    retrying = AsyncRetrying(
        retry=retry_upstream(),
        wait=wait_retry_after(
            policy.retry_after_cap, wait_equal_jitter(policy.backoff_initial, policy.backoff_max, rng), now
        ),
        stop=stop,
        sleep=sleep,
        before_sleep=_log_retry,
        retry_error_callback=_final_outcome,
    )
    try:
        # tenacity types the result as a type variable its signature never binds (Any): name it here.
        response: httpx.Response = await retrying(counted)
    finally:
        outcome.stopped_by = stop.reason
    return response


def _final_outcome(retry_state: RetryCallState) -> httpx.Response:
    assert retry_state.outcome is not None
    response: httpx.Response = retry_state.outcome.result()  # raises the last exception, if that is what it was
    return response


def _log_retry(retry_state: RetryCallState) -> None:
    outcome = retry_state.outcome
    assert outcome is not None
    what = repr(outcome.exception()) if outcome.failed else f"HTTP {outcome.result().status_code}"
    log.info(
        "retrying after %s (attempt %d, waiting %.2f s)", what, retry_state.attempt_number, retry_state.upcoming_sleep
    )
