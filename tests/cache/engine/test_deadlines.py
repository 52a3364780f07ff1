"""Tier timeouts through one shared timer (cache.deadlines): same outcomes as asyncio.timeout."""

from __future__ import annotations

import asyncio

import pytest

from cache.engine.deadlines import Deadlines
from cache.engine.stats import TierCounters
from cache.engine.tier_guard import SKIPPED, TierGuard
from tests.support.clock import ManualClock


class Hanging:
    """Answers ``"ok"`` once ``release`` is set; ``entered`` is set by the first call."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.entered = asyncio.Event()

    async def get(self) -> str:
        self.entered.set()
        await self.release.wait()
        return "ok"


def _guard(backend: object, timeout: float) -> TierGuard:
    return TierGuard(
        "redis", backend, TierCounters(16), clock=ManualClock(), timeout=timeout, recovery=60.0, threshold=1000
    )


async def test_every_call_past_its_deadline_times_out_with_one_timer() -> None:
    backend = Hanging()
    guard = _guard(backend, 0.01)
    outcomes = await asyncio.gather(*(guard.call(backend.get) for _ in range(50)))
    assert outcomes == [SKIPPED] * 50
    assert (guard.counters.timeouts, guard.counters.errors) == (50, 0)
    backend.release.set()
    assert await guard.call(backend.get) == "ok"  # the watch goes on after expiries


async def test_calls_ending_in_time_are_not_cancelled_by_an_older_deadline() -> None:
    backend = Hanging()
    guard = _guard(backend, 5.0)
    backend.release.set()
    assert [await guard.call(backend.get) for _ in range(3)] == ["ok"] * 3
    assert guard.counters.timeouts == 0


async def test_cancelling_the_caller_propagates_and_is_not_a_timeout() -> None:
    backend = Hanging()
    guard = _guard(backend, 30.0)
    task = asyncio.create_task(guard.call(backend.get))
    await backend.entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (guard.counters.timeouts, guard.counters.errors) == (0, 0)


async def test_a_caller_cancelled_from_outside_as_the_deadline_passes_stays_cancelled() -> None:
    deadlines = Deadlines(30.0)
    backend = Hanging()

    async def watched() -> str:
        task = deadlines.enter()
        assert task is not None
        try:
            return await backend.get()
        except asyncio.CancelledError:
            if deadlines.expired(task):
                return "timed out"
            raise
        finally:
            deadlines.leave(task)

    task = asyncio.create_task(watched())
    await backend.entered.wait()
    task.cancel()  # from outside, and in the same loop round the timer finds the deadline passed:
    deadlines._running[task] = 0.0  # forced, as a real timer cannot be made to fire just here
    deadlines._expire()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()


def test_a_guard_keeps_timing_out_across_event_loops() -> None:
    guard = _guard(None, 0.01)

    async def quick() -> str:
        return "ok"

    async def hang() -> None:
        await asyncio.Event().wait()

    async def bounded_hang() -> object:
        return await asyncio.wait_for(guard.call(hang), 10.0)  # fails rather than hangs if unwatched

    assert asyncio.run(guard.call(quick)) == "ok"  # leaves a timer armed on a loop that then closes
    assert asyncio.run(bounded_hang()) is SKIPPED
    assert guard.counters.timeouts == 1
