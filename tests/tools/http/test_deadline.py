"""Deadlines: every wait, retry and request of a call fits inside what is left of its deadline.

Fake clock and MockTransport, except the hung upstream, which is a real loopback server that
accepts and does not answer for 30 s. Waits on real time are bounded by ``GUARD`` so a
regression fails instead of hanging.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.support.clock import ManualClock
from tests.support.replay import ReplayServer, Reply, Route
from tests.support.scripted_http import Gate, Script, json_response, mock_client
from tools.http.config import HttpPolicy
from tools.http.deadline import Deadline, current_deadline, within
from tools.http.errors import DeadlineExceeded, RateLimited, Unavailable
from tools.http.factory import build_upstream

GUARD = 20.0  # seconds; far above any deadline used here


async def test_a_hung_upstream_answers_within_the_deadline() -> None:
    route = Route("/api/v2/studies", Reply.json({"studies": []}))
    with ReplayServer(routes=[route], load_modules=False, latency=30.0) as replay:
        policy = HttpPolicy(timeout=60.0, connect_timeout=60.0)
        client = build_upstream("ctgov", replay.base_url("ctgov"), policy=policy, rate=None, user_agent="test")
        async with client, asyncio.timeout(GUARD):
            with within(0.5), pytest.raises(DeadlineExceeded) as caught:
                await client.get_json("/studies")
    assert caught.value.upstream == "ctgov" and caught.value.retry_in == 0.5
    assert "no answer within the call's 0.5 s deadline (1 attempt)" in str(caught.value)
    assert client.status().total_failures == 1  # the upstream was asked: it counts for the breaker


async def test_a_transport_that_never_answers_is_cut_at_the_deadline(clock: ManualClock) -> None:
    gate = Gate()  # never opened
    async with mock_client(gate, clock) as client, asyncio.timeout(GUARD):
        with within(0.2), pytest.raises(DeadlineExceeded):
            await client.get_json("/studies")
    assert gate.requests == 1


async def test_each_attempt_gets_at_most_what_is_left_of_the_deadline(clock: ManualClock) -> None:
    timeouts: list[dict[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        clock.advance(1.0)  # the upstream takes a second to fail
        return httpx.Response(503) if len(timeouts) == 1 else json_response()

    policy = HttpPolicy(timeout=15.0, connect_timeout=5.0)
    async with mock_client(handler, clock, policy=policy, seed=1) as client:
        with within(3.0, clock=clock):
            await client.get_json("/x")
    first, second = timeouts
    assert first == {"connect": 3.0, "read": 3.0, "write": 3.0, "pool": 3.0}
    left = 3.0 - 1.0 - clock.sleeps[0]
    assert second["read"] == pytest.approx(left) and second["connect"] == pytest.approx(left)


async def test_retries_stop_when_the_deadline_leaves_no_time_for_another_attempt(clock: ManualClock) -> None:
    script = Script(default=httpx.Response(503, text="busy"))
    policy = HttpPolicy(max_attempts=10, backoff_initial=1.0, backoff_max=1.0)
    async with mock_client(script, clock, policy=policy, seed=2) as client:
        started = clock()
        with within(2.0, clock=clock), pytest.raises(Unavailable, match="503"):
            await client.get_json("/x")
    assert clock() - started <= 2.0 - 0.25  # every wait left an attempt its minimum time
    assert 2 <= len(script.requests) <= 4


async def test_a_retry_after_beyond_the_deadline_is_not_waited(clock: ManualClock) -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "20"}), default=json_response())
    async with mock_client(script, clock) as client:
        with within(10.0, clock=clock), pytest.raises(RateLimited) as caught:
            await client.get_json("/x")
    assert clock.sleeps == [] and len(script.requests) == 1
    assert caught.value.retry_after == 20.0  # the agent is told when to come back


async def test_calls_outside_a_tool_call_get_the_background_deadline(clock: ManualClock) -> None:
    script = Script(default=httpx.Response(503))
    policy = HttpPolicy(background_deadline=3.0, backoff_initial=1.0, backoff_max=1.0, max_attempts=10)
    async with mock_client(script, clock, policy=policy, seed=3) as client:
        assert current_deadline() is None
        started = clock()
        with pytest.raises(Unavailable):
            await client.get_json("/x")
    assert clock() - started <= 3.0 and len(script.requests) < 10


def test_a_nested_deadline_never_extends_the_outer_one(clock: ManualClock) -> None:
    with within(5.0, clock=clock) as outer:
        with within(60.0, clock=clock) as inner:
            assert inner is outer and current_deadline() is outer
        with within(1.0, clock=clock) as shorter:
            assert shorter.remaining() == 1.0
        assert current_deadline() is outer
    assert current_deadline() is None
    with pytest.raises(ValueError):
        Deadline(0)
