"""``UpstreamClient``: one resilient HTTP client per upstream.

A call runs under its deadline (the tool call's, see :mod:`tools.http.deadline`, or
``policy.background_deadline`` seconds of its own outside a tool call): circuit breaker (a
half-open probe in flight is waited for) -> retry loop (budgeted, see :mod:`tools.http.retry`)
-> per attempt: rate limiter (a caller whose slot is further away than its deadline allows is
turned away at once) -> HTTP GET bounded by what is left of the deadline -> error mapping ->
body decoding. Every failure leaves as one of ``tools.http.errors``: ``Rejected``
(400/422/other 4xx, body quoted), ``NotFound`` (404), ``Blocked`` (403, never retried),
``RateLimited`` (429 after retries), ``Throttled`` (our rate limit turned the call away),
``Unavailable`` (5xx after retries, connection failures, open breaker), ``TimedOut`` (timeouts
after retries), ``DeadlineExceeded`` (the deadline passed before an answer), ``BadPayload``
(HTML or malformed JSON from ``get_json``, whatever the status or content type). Redirects are
followed.

The client owns the ``httpx.AsyncClient`` it builds, on its first request (see
:meth:`UpstreamClient.__init__`): ``aclose()`` closes it, if it was ever built.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar

import httpx

from tools.http.breaker import CircuitBreaker
from tools.http.config import HttpPolicy
from tools.http.deadline import Deadline, current_deadline
from tools.http.errors import DeadlineExceeded, Throttled, UpstreamError
from tools.http.health import UpstreamHealth
from tools.http.mapping import decode_json, error_for_response, to_upstream_error
from tools.http.ratelimit import QueueFull, RateLimiter
from tools.http.retry import MIN_ATTEMPT, RetryOutcome, send_with_retry
from tools.http.retry_budget import RetryBudget

log = logging.getLogger(__name__)

T = TypeVar("T")

Params = Mapping[str, Any] | None
Headers = Mapping[str, str] | None


class UpstreamClient:
    """Resilient GETs against one upstream; ``name`` tags every error it raises.

    ``base_url`` is the address as configured (reported in :meth:`status`). ``rng`` draws the
    backoff jitter (tests pass a seeded one)."""

    def __init__(
        self,
        name: str,
        http: Callable[[], httpx.AsyncClient],
        *,
        policy: HttpPolicy,
        limiter: RateLimiter | None,
        base_url: str,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        """``http()`` builds the pooled HTTP client, called on the first request: building it
        imports httpcore and h11 and sets up the connection pool (~20 ms for the five upstreams),
        which a process that has not sent a request yet (start-up, the first tools/list) does
        without."""
        self.name = name
        self.base_url = base_url
        self._build_http = http
        self._http: httpx.AsyncClient | None = None
        self._closed = False
        self._policy = policy
        self._probe_policy = policy.model_copy(update={"max_attempts": 1})
        self._limiter = limiter
        self._clock = clock
        self._sleep = sleep
        self._rng = rng
        self._budget = RetryBudget(
            policy.retry_budget_ratio, policy.retry_budget_floor, policy.retry_budget_window, clock=clock
        )
        self._breaker = CircuitBreaker(
            name,
            failure_threshold=policy.breaker_failure_threshold,
            recovery_time=policy.breaker_recovery_time,
            first_recovery=policy.breaker_first_recovery,
            clock=clock,
        )
        self._requests = 0

    async def get_json(self, path: str, params: Params = None, headers: Headers = None) -> Any:
        """GET ``path`` (relative to the base URL) and parse the body as JSON (orjson)."""
        return await self._guarded(path, params, headers, partial(decode_json, self.name))

    async def get_text(self, path: str, params: Params = None, headers: Headers = None) -> str:
        """GET ``path`` and return the decoded body text of a 2xx answer."""
        return await self._guarded(path, params, headers, _text)

    def status(self) -> UpstreamHealth:
        """This upstream's health: its circuit, failures, the requests sent since start, its rate
        limit's queue and the calls turned away, the retries the budget refused."""
        limiter = self._limiter
        return replace(
            self._breaker.status(),
            base_url=self.base_url,
            total_requests=self._requests,
            queued=limiter.queued if limiter is not None else 0,
            shed_total=limiter.shed if limiter is not None else 0,
            retries_denied_total=self._budget.denied,
        )

    async def aclose(self) -> None:
        """Close the pooled HTTP client (nothing to close when no request was ever sent)."""
        self._closed = True
        if self._http is not None:
            await self._http.aclose()

    async def __aenter__(self) -> UpstreamClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _pool(self) -> httpx.AsyncClient:
        """The HTTP client, built on the first call. Nothing here awaits, so concurrent first
        requests (tasks of one event loop) cannot interleave between the check and the
        assignment: one client, one pool."""
        if self._http is None:
            if self._closed:  # as httpx answers a request on a closed client
                raise RuntimeError("Cannot send a request, as the client has been closed.")
            self._http = self._build_http()
        return self._http

    def _deadline(self) -> Deadline:
        """The tool call's deadline, or one of this call's own outside any (background work)."""
        return current_deadline() or Deadline(self._policy.background_deadline, clock=self._clock)

    async def _guarded(self, path: str, params: Params, headers: Headers, read: Callable[[httpx.Response], T]) -> T:
        """The GET and ``read`` of its answer (a bad payload counts for the breaker), under the
        breaker. A half-open breaker's probe makes ONE attempt: retrying it through an outage
        would hold the calls waiting for its outcome for the whole deadline."""
        deadline = self._deadline()

        async def under(policy: HttpPolicy) -> T:
            return read(await self._fetch(path, params, headers, deadline, policy))

        return await self._breaker.call(
            lambda: under(self._policy), deadline.remaining(), probe=lambda: under(self._probe_policy)
        )

    async def _fetch(
        self, path: str, params: Params, headers: Headers, deadline: Deadline, policy: HttpPolicy
    ) -> httpx.Response:
        """The GET retried under ``policy``; returns a 2xx response or raises the mapped UpstreamError."""

        async def attempt() -> httpx.Response:
            if self._limiter is not None:
                await self._acquire(self._limiter, deadline)
            left = deadline.remaining()
            if left <= 0:
                raise DeadlineExceeded(self.name, deadline.seconds, "no time left for a request", local=True)
            self._requests += 1
            async with asyncio.timeout(left):  # a total bound: httpx's timeouts are per read, not per request
                return await self._pool().get(
                    path, params=_clean(params), headers=headers, follow_redirects=True, timeout=self._timeout(left)
                )

        self._budget.deposit()
        outcome = RetryOutcome()
        try:
            response = await send_with_retry(
                attempt,
                policy,
                deadline,
                budget=self._budget,
                clock=self._clock,
                sleep=self._sleep,
                rng=self._rng,
                outcome=outcome,
            )
        except (httpx.HTTPError, TimeoutError) as exc:
            raise self._failure(exc, deadline, outcome) from exc
        error = error_for_response(self.name, response)
        if error is not None:
            log.info("%s GET %s failed: %s", self.name, path, error)
            raise error
        return response

    async def _acquire(self, limiter: RateLimiter, deadline: Deadline) -> None:
        """Wait for a rate-limit slot, or be turned away (``Throttled``) when it comes too late
        to leave an attempt its minimum time."""
        try:
            await limiter.acquire(max(deadline.remaining() - MIN_ATTEMPT, 0.0))
        except QueueFull as full:
            raise Throttled(self.name, full.queued, full.wait) from None

    def _timeout(self, left: float) -> httpx.Timeout:
        """The policy's timeouts, none longer than what is left of the deadline."""
        policy = self._policy
        return httpx.Timeout(
            min(policy.timeout, left),
            connect=min(policy.connect_timeout, left),
            pool=min(policy.pool_timeout, left),
        )

    def _failure(self, exc: BaseException, deadline: Deadline, outcome: RetryOutcome) -> UpstreamError:
        """The error a failed loop ends with: a timeout that used up the deadline says so."""
        timed_out = isinstance(exc, TimeoutError | httpx.TimeoutException)
        if timed_out and (outcome.stopped_by == "deadline" or deadline.remaining() < MIN_ATTEMPT):
            tries = f"{outcome.attempts} attempt{'s' if outcome.attempts != 1 else ''}"
            return DeadlineExceeded(self.name, deadline.seconds, tries, retry_in=deadline.seconds)
        return to_upstream_error(self.name, exc)


def _text(response: httpx.Response) -> str:
    return response.text


def _clean(params: Params) -> dict[str, Any] | None:
    """Drop None values so callers can pass optional parameters straight through."""
    if params is None:
        return None
    return {key: value for key, value in params.items() if value is not None}
