"""Load shedding at the rate limiter: a caller is told at once when its slot is out of reach.

Fake clock throughout; a sleep that blocks until released stands for a wait in progress.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.support.clock import HeldSleep, ManualClock
from tests.support.scripted_http import Script, json_response, mock_client
from tools.errors import to_tool_error
from tools.http.config import HttpPolicy
from tools.http.deadline import within
from tools.http.errors import Throttled
from tools.http.ratelimit import QueueFull, RateLimiter


async def test_a_slot_beyond_the_deadline_is_refused_at_once_with_when_to_retry(clock: ManualClock) -> None:
    script = Script(default=json_response())
    async with mock_client(script, clock, rate=(2, 60.0)) as client:
        with within(10.0, clock=clock):
            await client.get_json("/a")
            await client.get_json("/b")
            with pytest.raises(Throttled) as caught:
                await client.get_json("/c")
        status = client.status()
    assert clock.sleeps == [] and len(script.requests) == 2  # nobody waited, nothing was sent
    assert str(to_tool_error(caught.value)) == "rate-limited upstream ctgov: 0 calls queued, retry in 60 s"
    assert caught.value.retry_after == 60.0 and caught.value.queued == 0
    assert (status.shed_total, status.queued, status.state, status.total_failures) == (1, 0, "closed", 0)


async def test_a_slot_within_the_deadline_is_waited_for(clock: ManualClock) -> None:
    script = Script(default=json_response())
    async with mock_client(script, clock, rate=(1, 5.0)) as client:
        with within(10.0, clock=clock):
            await client.get_json("/a")
            await client.get_json("/b")
        assert client.status().shed_total == 0
    assert clock.sleeps == [5.0]


async def test_the_queue_is_bounded() -> None:
    clock = ManualClock(0.0)
    sleep = HeldSleep(clock)
    limiter = RateLimiter(1, 5.0, clock=clock, sleep=sleep, max_queue=2)
    await limiter.acquire()
    waiters = [asyncio.create_task(limiter.acquire()) for _ in range(2)]
    await sleep.sleeping.wait()
    assert limiter.queued == 2
    with pytest.raises(QueueFull) as caught:
        await limiter.acquire()
    assert (caught.value.queued, caught.value.wait, limiter.shed) == (2, 15.0, 1)
    sleep.release()
    await asyncio.gather(*waiters)
    assert limiter.queued == 0 and clock() == 10.0


async def test_the_client_reports_a_full_queue(clock: ManualClock) -> None:
    sleep = HeldSleep(clock)
    script = Script(default=json_response())
    policy = HttpPolicy(rate_limit_queue=1)
    async with mock_client(script, clock, rate=(1, 1.0), policy=policy, sleep=sleep) as client, asyncio.timeout(10):
        await client.get_json("/first")
        queued = asyncio.create_task(client.get_json("/second"))
        await sleep.sleeping.wait()
        with pytest.raises(Throttled, match=r"^ctgov: rate-limited upstream ctgov: 1 calls queued, retry in 2 s$"):
            await client.get_json("/third")
        assert client.status().queued == 1
        sleep.release()
        assert await queued == {"ok": True}
        status = client.status()
    assert (status.queued, status.shed_total, status.total_requests) == (0, 1, 2)


async def test_the_expected_wait_is_when_the_slot_really_comes() -> None:
    clock = ManualClock(0.0)

    async def sleep(seconds: float) -> None:  # lets the other callers arrive (and queue) first
        await asyncio.sleep(0)
        clock.advance(seconds)

    limiter = RateLimiter(3, 5.0, clock=clock, sleep=sleep)
    promised: list[float] = []
    granted: list[float] = []

    queued: list[int] = []

    async def caller() -> None:
        queued.append(limiter.queued)
        promised.append(clock() + limiter.expected_wait())
        await limiter.acquire()
        granted.append(clock())

    clock.advance(1.0)
    await asyncio.gather(*(caller() for _ in range(10)))
    assert max(queued) == 6  # the last callers arrived behind others
    assert promised == granted == [1.0] * 3 + [6.0] * 3 + [11.0] * 3 + [16.0]


async def test_seventy_concurrent_calls_at_fifty_a_minute_never_wait_past_their_deadline(clock: ManualClock) -> None:
    # The measured case: the default ctgov limit, 70 distinct calls at once. Before, 21 of them
    # waited more than 30 s (up to 60 s) for the next window.
    script = Script(default=json_response())
    async with mock_client(script, clock, rate=(50, 60.0)) as client:

        async def call(number: int) -> object:
            with within(10.0, clock=clock):
                try:
                    return await client.get_json(f"/studies/NCT{number:08d}")
                except Throttled as shed:
                    return shed

        outcomes = await asyncio.gather(*(call(n) for n in range(70)))
        status = client.status()
    answered = [o for o in outcomes if o == {"ok": True}]
    shed = [o for o in outcomes if isinstance(o, Throttled)]
    assert (len(answered), len(shed), clock.sleeps) == (50, 20, [])
    assert all(s.retry_after == 60.0 for s in shed) and status.shed_total == 20
