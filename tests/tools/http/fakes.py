"""Test doubles for the HTTP layer: a fake clock whose sleep advances it, and a scripted transport."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import httpx

from tools.http.client import UpstreamClient
from tools.http.config import HttpPolicy
from tools.http.factory import build_upstream


class FakeClock:
    """``clock()`` reads the fake time; ``await clock.sleep(s)`` records ``s`` and advances it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


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
    handler: Callable[[httpx.Request], httpx.Response],
    clock: FakeClock,
    *,
    policy: HttpPolicy | None = None,
    rate: tuple[int, float] | None = None,
    base_url: str = "https://upstream.test/api/v2",
    name: str = "ctgov",
) -> UpstreamClient:
    return build_upstream(
        name,
        base_url,
        policy=policy or HttpPolicy(),
        rate=rate,
        user_agent="trialstock-test/1",
        transport=httpx.MockTransport(handler),
        clock=clock,
        sleep=clock.sleep,
    )


def statuses(responses: Iterable[httpx.Response]) -> list[int]:
    return [response.status_code for response in responses]
