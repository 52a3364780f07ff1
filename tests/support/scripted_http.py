"""A scripted ``httpx.MockTransport`` handler, and an UpstreamClient over any handler on a ManualClock.

For HTTP-layer tests that want exact control of every answer (statuses, headers, transport
errors). Tests that want the recorded upstream use :mod:`tests.support.recorded_upstream`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import httpx

from tests.support.clock import ManualClock
from tools.http.client import UpstreamClient
from tools.http.config import HttpPolicy
from tools.http.deadline import Deadline, current_deadline
from tools.http.factory import build_upstream


class Script:
    """A MockTransport handler answering from a list of responses/exceptions, then a default."""

    def __init__(self, *answers: httpx.Response | Exception, default: httpx.Response | None = None) -> None:
        self.answers = list(answers)
        self.default = default
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else self.default
        if answer is None:
            raise AssertionError(f"unexpected request {request.url}")
        if isinstance(answer, Exception):
            raise answer
        return answer


def json_response(body: object = None, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body if body is not None else {"ok": True}, headers=headers)


def mock_client(
    handler: Callable[[httpx.Request], httpx.Response] | Callable[[httpx.Request], Awaitable[httpx.Response]],
    clock: ManualClock,
    *,
    policy: HttpPolicy | None = None,
    rate: tuple[int, float] | None = None,
    base_url: str = "https://upstream.test/api/v2",
    name: str = "ctgov",
    sleep: Callable[[float], Awaitable[None]] | None = None,
    seed: int | None = None,
) -> UpstreamClient:
    """An UpstreamClient through ``handler`` whose waits are ``clock.sleep`` (recorded, no real
    time) unless ``sleep`` is given; ``seed`` makes its backoff jitter reproducible."""
    return build_upstream(
        name,
        base_url,
        policy=policy or HttpPolicy(),
        rate=rate,
        user_agent="trialstock-test/1",
        transport=httpx.MockTransport(handler),  # type: ignore[arg-type]  # httpx awaits an async handler's answer
        clock=clock,
        sleep=sleep or clock.sleep,
        rng=random.Random(seed).random if seed is not None else random.random,
    )


class Flaky:
    """A seeded MockTransport handler: each request fails at ``rate`` (a 503 answer, or ``error``
    raised when given, e.g. a connection reset), else answers ``{"ok": true}``. Counts requests."""

    def __init__(self, rate: float, seed: int, error: Exception | None = None) -> None:
        self.rate = rate
        self.error = error
        self.random = random.Random(seed)
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.random.random() < self.rate:
            if self.error is not None:
                raise self.error
            return httpx.Response(503, text="injected failure")
        return json_response()


class Gate:
    """An async MockTransport handler that holds every request until :meth:`open` (or forever:
    a hung upstream that accepts and never answers), then answers ``answer``. ``arrived`` is set
    by the first request; ``requests`` counts them."""

    def __init__(self, answer: httpx.Response | None = None) -> None:
        self.answer = answer or json_response()
        self.arrived = asyncio.Event()
        self.requests = 0
        self.deadlines: list[Deadline | None] = []
        self._open = asyncio.Event()

    def open(self) -> None:
        self._open.set()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        self.deadlines.append(current_deadline())
        self.arrived.set()
        await self._open.wait()
        return self.answer
