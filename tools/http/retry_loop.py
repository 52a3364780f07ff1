"""The retry loop proper (tenacity), entered by :func:`tools.http.retry.send_with_retry` when
its first attempt had a retryable outcome; the rules are in that module's doc."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable

import httpx
from tenacity import AsyncRetrying, RetryCallState
from tenacity.retry import retry_base
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from tools.http.config import HttpPolicy
from tools.http.deadline import Deadline
from tools.http.retry import MIN_ATTEMPT, RETRY_STATUSES, Clock, RetryOutcome, Sleep
from tools.http.retry_after import parse_retry_after
from tools.http.retry_budget import RetryBudget

log = logging.getLogger("tools.http.retry")  # the retry lines keep the logger they always had


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


async def retry_from(
    first: httpx.Response | httpx.TransportError,
    attempt: Callable[[], Awaitable[httpx.Response]],
    policy: HttpPolicy,
    deadline: Deadline,
    *,
    budget: RetryBudget | None,
    clock: Clock,
    sleep: Sleep,
    now: Clock,
    rng: Callable[[], float],
    outcome: RetryOutcome,
    started_at: float,
) -> httpx.Response:
    """The loop from ``first`` (the retryable outcome of the attempt made at ``started_at``, by
    ``clock``): it is the loop's first attempt, counted already in ``outcome``."""
    stop = StopUpstream(policy, deadline, budget, clock, started_at)
    pending: httpx.Response | httpx.TransportError | None = first

    async def counted() -> httpx.Response:
        nonlocal pending
        if pending is not None:
            made, pending = pending, None
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
