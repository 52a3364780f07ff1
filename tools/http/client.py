"""``UpstreamClient``: one resilient HTTP client per upstream.

A call runs: circuit breaker -> retry loop -> (rate limiter -> HTTP attempt) per attempt ->
error mapping -> body decoding. Every failure leaves as one of ``tools.http.errors``:
``Rejected`` (400/422/other 4xx, body quoted), ``NotFound`` (404), ``Blocked`` (403, never
retried), ``RateLimited`` (429 after retries), ``Unavailable`` (5xx after retries, connection
failures, open breaker), ``TimedOut`` (timeouts after retries), ``BadPayload`` (HTML or
malformed JSON from ``get_json``, whatever the status or content type). Redirects are followed.

The client owns the ``httpx.AsyncClient`` it is given: ``aclose()`` closes it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

import httpx

from tools.http.breaker import CircuitBreaker
from tools.http.config import HttpPolicy
from tools.http.health import UpstreamHealth
from tools.http.mapping import decode_json, error_for_response, to_upstream_error
from tools.http.ratelimit import RateLimiter
from tools.http.retry import send_with_retry

log = logging.getLogger(__name__)

Params = Mapping[str, Any] | None
Headers = Mapping[str, str] | None


class UpstreamClient:
    """Resilient GETs against one upstream; ``name`` tags every error it raises.

    ``base_url`` is the address as configured (reported in :meth:`status`); it defaults to the
    HTTP client's own."""

    def __init__(
        self,
        name: str,
        http: httpx.AsyncClient,
        *,
        policy: HttpPolicy,
        limiter: RateLimiter | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        base_url: str | None = None,
    ) -> None:
        self.name = name
        self.base_url = base_url if base_url is not None else str(http.base_url)
        self._http = http
        self._policy = policy
        self._limiter = limiter
        self._clock = clock
        self._sleep = sleep
        self._breaker = CircuitBreaker(
            name,
            failure_threshold=policy.breaker_failure_threshold,
            recovery_time=policy.breaker_recovery_time,
            clock=clock,
        )
        self._requests = 0

    async def get_json(self, path: str, params: Params = None, headers: Headers = None) -> Any:
        """GET ``path`` (relative to the base URL) and parse the body as JSON (orjson)."""
        return await self._breaker.call(lambda: self._fetch_json(path, params, headers))

    async def get_text(self, path: str, params: Params = None, headers: Headers = None) -> str:
        """GET ``path`` and return the decoded body text of a 2xx answer."""
        return await self._breaker.call(lambda: self._fetch_text(path, params, headers))

    def status(self) -> UpstreamHealth:
        """This upstream's health: its circuit, failures and the requests sent since start."""
        return replace(self._breaker.status(), base_url=self.base_url, total_requests=self._requests)

    async def aclose(self) -> None:
        """Close the pooled HTTP client."""
        await self._http.aclose()

    async def __aenter__(self) -> UpstreamClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _fetch_json(self, path: str, params: Params, headers: Headers) -> Any:
        return decode_json(self.name, await self._fetch(path, params, headers))

    async def _fetch_text(self, path: str, params: Params, headers: Headers) -> str:
        return (await self._fetch(path, params, headers)).text

    async def _fetch(self, path: str, params: Params, headers: Headers) -> httpx.Response:
        """The retried GET; returns a 2xx response or raises the mapped UpstreamError."""

        async def attempt() -> httpx.Response:
            if self._limiter is not None:
                await self._limiter.acquire()
            self._requests += 1
            return await self._http.get(path, params=_clean(params), headers=headers, follow_redirects=True)

        try:
            response = await send_with_retry(attempt, self._policy, clock=self._clock, sleep=self._sleep)
        except httpx.HTTPError as exc:
            raise to_upstream_error(self.name, exc) from exc
        error = error_for_response(self.name, response)
        if error is not None:
            log.info("%s GET %s failed: %s", self.name, path, error)
            raise error
        return response


def _clean(params: Params) -> dict[str, Any] | None:
    """Drop None values so callers can pass optional parameters straight through."""
    if params is None:
        return None
    return {key: value for key, value in params.items() if value is not None}
