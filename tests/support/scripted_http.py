"""A scripted ``httpx.MockTransport`` handler, and an UpstreamClient over any handler on a ManualClock.

For HTTP-layer tests that want exact control of every answer (statuses, headers, transport
errors). Tests that want the recorded upstream use :mod:`tests.support.recorded_upstream`.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.support.clock import ManualClock
from tools.http.client import UpstreamClient
from tools.http.config import HttpPolicy
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
    handler: Callable[[httpx.Request], httpx.Response],
    clock: ManualClock,
    *,
    policy: HttpPolicy | None = None,
    rate: tuple[int, float] | None = None,
    base_url: str = "https://upstream.test/api/v2",
    name: str = "ctgov",
) -> UpstreamClient:
    """An UpstreamClient through ``handler`` whose waits are ``clock.sleep`` (recorded, no real time)."""
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
