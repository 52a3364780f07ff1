"""Retries budgeted by time and by a per-upstream budget: the targets, measured with a fake clock.

1,000 distinct calls, each under the default 10 s deadline, against an upstream that fails 30 %
of requests (seeded): at least 999 must succeed, with at most 1.6 upstream requests per call.
An upstream that fails every request must not see retries multiply its load.
"""

from __future__ import annotations

import httpx
import pytest

from tests.support.clock import ManualClock
from tests.support.scripted_http import Flaky, mock_client
from tools.http.config import HttpPolicy
from tools.http.deadline import within
from tools.http.errors import UpstreamError

CALLS = 1_000


async def run_calls(handler: Flaky, clock: ManualClock, policy: HttpPolicy, calls: int = CALLS) -> int:
    """Distinct calls one after the other, each under the call deadline; how many succeeded."""
    ok = 0
    async with mock_client(handler, clock, policy=policy, seed=7) as client:
        for number in range(calls):
            with within(policy.call_deadline, clock=clock):
                try:
                    await client.get_json(f"/studies/NCT{number:08d}")
                    ok += 1
                except UpstreamError:
                    pass
            clock.advance(0.05)  # callers arrive 20 a second
    return ok


@pytest.mark.parametrize(
    "fault",
    [None, httpx.ReadError("[Errno 104] Connection reset by peer")],
    ids=["503", "connection-reset"],
)
async def test_a_third_of_requests_failing_costs_no_call(clock: ManualClock, fault: Exception | None) -> None:
    upstream = Flaky(0.3, seed=2026, error=fault)
    succeeded = await run_calls(upstream, clock, HttpPolicy())
    assert succeeded >= 999
    assert upstream.requests <= 1.6 * CALLS


async def test_the_retry_budget_keeps_an_outage_from_multiplying_requests(clock: ManualClock) -> None:
    upstream = Flaky(1.0, seed=1)
    # The breaker would hide the budget; short waits keep 20 calls a second arriving (under load).
    policy = HttpPolicy(breaker_failure_threshold=10_000, backoff_initial=0.01, backoff_max=0.02)
    calls, started = 300, clock()
    assert await run_calls(upstream, clock, policy, calls) == 0
    # Without the budget every call would make 8 attempts (2,400 requests). With it, retries are
    # at most half the calls plus the floor once per 10 s window the run spans.
    windows = (clock() - started) / policy.retry_budget_window + 1
    assert upstream.requests <= 1.5 * calls + policy.retry_budget_floor * windows
    print(f"outage: {calls} calls, {upstream.requests} requests over {clock() - started:.0f} s")
