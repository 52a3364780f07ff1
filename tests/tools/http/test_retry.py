"""Retry behaviour of UpstreamClient over httpx.MockTransport (fake clock and sleep)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.clock import ManualClock
from tests.support.scripted_http import Script, json_response, mock_client
from tools.http.config import HttpPolicy
from tools.http.errors import Blocked, RateLimited, Rejected, TimedOut, Unavailable


async def test_503_then_200_succeeds_after_one_backoff(clock: ManualClock) -> None:
    script = Script(httpx.Response(503, text="busy"), json_response({"studies": []}))
    async with mock_client(script, clock) as client:
        assert await client.get_json("/studies") == {"studies": []}
        assert client.status().total_requests == 2
    assert len(script.requests) == 2
    # backoff_initial 0.2 * 2**0, times a jitter in [0.5, 1]
    assert len(clock.sleeps) == 1 and 0.1 <= clock.sleeps[0] <= 0.2


@pytest.mark.parametrize("status", [429, 502, 503, 504])
async def test_retryable_statuses_are_retried(clock: ManualClock, status: int) -> None:
    script = Script(httpx.Response(status), json_response())
    async with mock_client(script, clock) as client:
        assert await client.get_json("/x") == {"ok": True}
    assert len(script.requests) == 2


async def test_retry_after_seconds_is_waited(clock: ManualClock) -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "2"}), json_response())
    async with mock_client(script, clock) as client:
        await client.get_json("/x")
    assert clock.sleeps == [2.0]


async def test_huge_retry_after_is_capped(clock: ManualClock) -> None:
    script = Script(httpx.Response(503, headers={"Retry-After": "3600"}), json_response())
    async with mock_client(script, clock, policy=HttpPolicy(retry_after_cap=20.0)) as client:
        await client.get_json("/x")
    assert clock.sleeps == [20.0]


async def test_retry_after_http_date_is_measured_against_the_date_header(clock: ManualClock) -> None:
    headers = {"Retry-After": "Wed, 21 Oct 2026 07:28:07 GMT", "Date": "Wed, 21 Oct 2026 07:28:00 GMT"}
    script = Script(httpx.Response(429, headers=headers), json_response())
    async with mock_client(script, clock) as client:
        await client.get_json("/x")
    assert clock.sleeps == [7.0]


async def test_400_is_not_retried_and_its_body_reaches_rejected(clock: ManualClock) -> None:
    body = "Invalid value in parameter `overallStatus`: `RUNNING`"
    script = Script(httpx.Response(400, text=body), default=json_response())
    async with mock_client(script, clock) as client:
        with pytest.raises(Rejected) as caught:
            await client.get_json("/studies", {"filter.overallStatus": "RUNNING"})
    assert len(script.requests) == 1 and clock.sleeps == []
    assert caught.value.status == 400 and caught.value.body == body
    assert body in str(caught.value)


async def test_422_and_other_4xx_are_rejected(clock: ManualClock) -> None:
    script = Script(httpx.Response(422, text="bad field"), httpx.Response(405, text="no"))
    async with mock_client(script, clock) as client:
        with pytest.raises(Rejected, match="bad field"):
            await client.get_text("/a")
        with pytest.raises(Rejected) as caught:
            await client.get_text("/b")
    assert caught.value.status == 405 and len(script.requests) == 2


async def test_403_is_blocked_and_not_retried(clock: ManualClock) -> None:
    script = Script(httpx.Response(403, text="<html>Access Denied</html>"), default=json_response())
    async with mock_client(script, clock) as client:
        with pytest.raises(Blocked) as caught:
            await client.get_json("/studies")
    assert len(script.requests) == 1
    assert "upstream.test" in caught.value.message and "TRIALSTOCK_USER_AGENT" in caught.value.message


async def test_429_after_all_attempts_is_rate_limited_with_retry_after(clock: ManualClock) -> None:
    script = Script(default=httpx.Response(429, headers={"Retry-After": "5"}))
    async with mock_client(script, clock, policy=HttpPolicy(max_attempts=3)) as client:
        with pytest.raises(RateLimited) as caught:
            await client.get_json("/x")
    assert len(script.requests) == 3 and clock.sleeps == [5.0, 5.0]
    assert caught.value.retry_after == 5.0


async def test_5xx_after_all_attempts_is_unavailable(clock: ManualClock) -> None:
    script = Script(default=httpx.Response(502, text="bad gateway"))
    async with mock_client(script, clock, policy=HttpPolicy(max_attempts=2)) as client:
        with pytest.raises(Unavailable, match="502"):
            await client.get_json("/x")
    assert len(script.requests) == 2


async def test_500_is_unavailable_without_retry(clock: ManualClock) -> None:
    script = Script(httpx.Response(500, text="boom"), default=json_response())
    async with mock_client(script, clock) as client:
        with pytest.raises(Unavailable):
            await client.get_json("/x")
    assert len(script.requests) == 1


async def test_connect_errors_are_retried_then_unavailable(clock: ManualClock) -> None:
    script = Script(default=None)
    script.answers = [httpx.ConnectError("refused")] * 3
    async with mock_client(script, clock, policy=HttpPolicy(max_attempts=3)) as client:
        with pytest.raises(Unavailable, match="ConnectError"):
            await client.get_json("/x")
    assert len(script.requests) == 3 and len(clock.sleeps) == 2


async def test_timeout_becomes_timed_out(clock: ManualClock) -> None:
    script = Script(httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow"))
    async with mock_client(script, clock, policy=HttpPolicy(max_attempts=2)) as client:
        with pytest.raises(TimedOut):
            await client.get_json("/x")
    assert len(script.requests) == 2


async def test_timeout_then_success_recovers(clock: ManualClock) -> None:
    script = Script(httpx.ConnectTimeout("slow"), json_response({"v": 1}))
    async with mock_client(script, clock) as client:
        assert await client.get_json("/x") == {"v": 1}


async def test_total_retry_time_caps_the_loop(clock: ManualClock) -> None:
    # Retry-After 20 twice would take 40 s; the budget is 30 s, so the loop stops after one wait.
    script = Script(default=httpx.Response(503, headers={"Retry-After": "20"}))
    policy = HttpPolicy(max_attempts=10, max_retry_time=30.0, retry_after_cap=20.0)
    async with mock_client(script, clock, policy=policy) as client:
        with pytest.raises(Unavailable):
            await client.get_json("/x")
    assert clock.sleeps == [20.0] and len(script.requests) == 2


async def test_backoff_grows_and_respects_its_cap(clock: ManualClock) -> None:
    script = Script(default=httpx.Response(503))
    policy = HttpPolicy(max_attempts=6, max_retry_time=1000, backoff_initial=1.0, backoff_max=3.0)
    async with mock_client(script, clock, policy=policy) as client:
        with pytest.raises(Unavailable):
            await client.get_json("/x")
    assert len(clock.sleeps) == 5
    # step 1, 2, then the cap 3; each times a jitter in [0.5, 1]
    assert 0.5 <= clock.sleeps[0] <= 1.0 and 1.0 <= clock.sleeps[1] <= 2.0
    assert all(1.5 <= wait <= 3.0 for wait in clock.sleeps[2:])
