"""Rate limiter: at most N grants in any window, FIFO, fake clock; once against the replay server."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.clock import ManualClock
from tests.support.replay import ReplayServer, Reply, Route
from tools.http.config import HttpPolicy
from tools.http.factory import build_upstream
from tools.http.ratelimit import RateLimiter


def assert_window(times: list[float], requests: int, per: float, slack: float = 0.0) -> None:
    """No half-open window of ``per`` seconds holds more than ``requests`` of ``times``."""
    ordered = sorted(times)
    for first, later in zip(ordered, ordered[requests:], strict=False):
        assert later - first >= per - slack, (first, later, ordered)


async def test_three_per_five_seconds_sequentially() -> None:
    clock = ManualClock(0.0)
    limiter = RateLimiter(3, 5.0, clock=clock, sleep=clock.sleep)
    grants = []
    for _ in range(10):
        await limiter.acquire()
        grants.append(clock())
    assert grants[:3] == [0.0, 0.0, 0.0]  # a burst of three is allowed at once
    assert grants[3] == 5.0 and grants[6] == 10.0
    assert_window(grants, 3, 5.0)


async def test_concurrent_waiters_are_served_fifo_within_the_window() -> None:
    clock = ManualClock(0.0)
    limiter = RateLimiter(3, 5.0, clock=clock, sleep=clock.sleep)
    order: list[tuple[int, float]] = []

    async def worker(index: int) -> None:
        await limiter.acquire()
        order.append((index, clock()))

    await asyncio.gather(*(worker(i) for i in range(9)))
    assert [index for index, _ in order] == list(range(9))
    assert_window([at for _, at in order], 3, 5.0)
    assert limiter.delay() == 5.0  # window full again: the next caller would wait


async def test_a_cancelled_waiter_takes_no_slot() -> None:
    clock = ManualClock(0.0)
    sleeping, wake = asyncio.Event(), asyncio.Event()

    async def blocking_sleep(seconds: float) -> None:
        sleeping.set()
        await wake.wait()
        clock.advance(seconds)

    limiter = RateLimiter(1, 5.0, clock=clock, sleep=blocking_sleep)
    await limiter.acquire()
    first = asyncio.create_task(limiter.acquire())
    await sleeping.wait()
    second = asyncio.create_task(limiter.acquire())
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    wake.set()
    await second
    assert clock() == 5.0 and limiter.delay() == 5.0


def test_invalid_rates_are_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0, 5.0)
    with pytest.raises(ValueError):
        RateLimiter(3, 0)


async def test_replay_server_sees_at_most_three_requests_per_window() -> None:
    route = Route("/exchangeReport/STOCK_DAY", Reply.json({"stat": "OK"}))
    with ReplayServer(routes=[route], load_modules=False) as replay:
        client = build_upstream("twse", replay.base_url("twse"), policy=HttpPolicy(), rate=(3, 0.5), user_agent="test")
        async with client:
            for _ in range(7):
                assert await client.get_json("/exchangeReport/STOCK_DAY", {"stockNo": "2330"}) == {"stat": "OK"}
        times = replay.request_times("/exchangeReport/STOCK_DAY")
    assert len(times) == 7
    # Arrival times carry a little scheduling noise on top of the limiter's exact spacing.
    assert_window(times, 3, 0.5, slack=0.05)
