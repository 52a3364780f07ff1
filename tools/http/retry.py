"""The retry loop (tenacity): which outcomes are retried, how long to wait, when to stop.

Retried: ``httpx.TransportError`` (connection failures and timeouts) and responses with
status 429, 502, 503 or 504. Everything else (2xx, other 4xx, 500, 501) ends the loop at once.
Wait: the response's ``Retry-After`` (delta-seconds or HTTP-date) capped at
``policy.retry_after_cap``, else exponential backoff with jitter
(``backoff_initial * 2**(n-1) + U(0, backoff_initial)``, at most ``backoff_max``).
Stop: after ``policy.max_attempts`` attempts, or when the next wait would push the loop past
``policy.max_retry_time`` on the injected clock.

``send_with_retry`` returns the final response, retryable or not (the caller maps a non-2xx to
an error), or raises the final exception unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import httpx
from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt
from tenacity.retry import retry_base
from tenacity.stop import stop_base
from tenacity.wait import wait_base, wait_exponential_jitter

from tools.http.config import HttpPolicy
from tools.http.retry_after import parse_retry_after

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 502, 503, 504})

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


class stop_after_total(stop_base):  # noqa: N801
    """Stop when elapsed time (injected clock) plus the coming wait would exceed ``max_time``."""

    def __init__(self, max_time: float, clock: Clock, started_at: float) -> None:
        self.max_time = max_time
        self.clock = clock
        self.started_at = started_at

    def __call__(self, retry_state: RetryCallState) -> bool:
        elapsed = self.clock() - self.started_at
        return elapsed + retry_state.upcoming_sleep > self.max_time


def backoff(policy: HttpPolicy) -> wait_base:
    """Exponential backoff with jitter from the policy (tenacity 9.2: ``multiplier=``)."""
    return wait_exponential_jitter(
        multiplier=policy.backoff_initial, max=policy.backoff_max, jitter=policy.backoff_initial
    )


def retrying(
    policy: HttpPolicy,
    *,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
    now: Clock = time.time,
) -> AsyncRetrying:
    """A fresh tenacity controller for one request (its total-time budget starts now)."""
    return AsyncRetrying(
        retry=retry_upstream(),
        wait=wait_retry_after(policy.retry_after_cap, backoff(policy), now),
        stop=stop_after_attempt(policy.max_attempts) | stop_after_total(policy.max_retry_time, clock, clock()),
        sleep=sleep,
        before_sleep=_log_retry,
        retry_error_callback=_final_outcome,
    )


async def send_with_retry(
    attempt: Callable[[], Awaitable[httpx.Response]],
    policy: HttpPolicy,
    *,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
    now: Clock = time.time,
) -> httpx.Response:
    """Run ``attempt`` under the retry policy; return the last response or raise the last error."""
    # tenacity types the result as a type variable its signature never binds (Any): name it here.
    response: httpx.Response = await retrying(policy, clock=clock, sleep=sleep, now=now)(attempt)
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
