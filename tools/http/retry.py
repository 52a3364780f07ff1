"""The retry loop: which outcomes are retried, how long to wait, when to stop.

Retried: ``httpx.TransportError`` (connection failures, resets and timeouts) and responses with
status 429, 502, 503 or 504. Everything else (2xx, other 4xx, 500, 501, our own errors such as
a rate-limit shed) ends the loop at once.

Wait: the response's ``Retry-After`` (delta-seconds or HTTP-date) capped at
``policy.retry_after_cap``, else exponential backoff with "equal jitter": the n-th wait is
``step * U(0.5, 1)`` with ``step = min(backoff_max, backoff_initial * 2**(n-1))``, so waits
grow, never synchronise across callers, and never fall to zero.

Stop (checked in this order; :attr:`~tools.http.retry_loop.StopUpstream.reason` says which
ended the loop):

- ``attempts``: ``policy.max_attempts`` attempts were made;
- ``retry time``: the wait would push the loop past ``policy.max_retry_time``;
- ``deadline``: after the wait, less than :data:`MIN_ATTEMPT` seconds of the call's deadline
  would be left (an attempt with less time cannot get an answer from a remote server);
- ``retry budget``: the upstream's :class:`~tools.http.retry_budget.RetryBudget` has no retry
  left (checked last, so only a retry that would really happen takes from it).

``send_with_retry`` returns the final response, retryable or not (the caller maps a non-2xx to
an error), or raises the final exception unchanged.

The first attempt runs here, without tenacity; a retryable outcome enters the loop proper
(:mod:`tools.http.retry_loop`, tenacity) as the loop's first attempt, so waits, stops and the
attempt count are those of the loop alone.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from tools.http.config import HttpPolicy
from tools.http.deadline import Deadline
from tools.http.retry_budget import RetryBudget

RETRY_STATUSES = frozenset({429, 502, 503, 504})
MIN_ATTEMPT = 0.25
"""Seconds of deadline an attempt needs at least; with less left, the loop ends with what it has."""

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


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
    started_at = clock()
    outcome = outcome if outcome is not None else RetryOutcome()
    # The first attempt runs without tenacity (~90 us of set-up per call): most calls end there.
    # Any other exception propagates unchanged, as from the loop.
    outcome.attempts += 1
    first: httpx.Response | httpx.TransportError
    try:
        first = await attempt()
    except httpx.TransportError as exc:
        first = exc
    else:
        if first.status_code not in RETRY_STATUSES:
            return first
    # Imported at the first retryable outcome, not with this module: tenacity (~4 ms of imports)
    # is then off the start-up path, which sends no request.
    from tools.http.retry_loop import retry_from

    return await retry_from(
        first,
        attempt,
        policy,
        deadline,
        budget=budget,
        clock=clock,
        sleep=sleep,
        now=now,
        rng=rng,
        outcome=outcome,
        started_at=started_at,
    )
