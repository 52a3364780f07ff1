"""Warning storms collapse: a run of the same trouble is one line when it starts and one, with
the count, when it ends (:class:`cache.state_log.StateLog`), not a line per event."""

from __future__ import annotations

import asyncio
import logging

import pytest

from cache.engine.stats import TierCounters
from cache.engine.tier_guard import SKIPPED, TierGuard
from cache.engine.tiered import TieredCache
from cache.policy import CachePolicy
from tests.support.clock import ManualClock
from tests.support.faults import LoaderSpy

GUARD_LOG = "cache.engine.tier_guard"


def _lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == logger]


async def test_1000_timeouts_make_at_most_two_lines(clock: ManualClock, caplog: pytest.LogCaptureFixture) -> None:
    counters = TierCounters(16)
    guard = TierGuard("sqlite", object(), counters, clock=clock, timeout=0.01, recovery=5.0)
    stuck = asyncio.Event()

    async def hangs() -> None:
        await stuck.wait()

    async def answers() -> int:
        return 1

    with caplog.at_level(logging.INFO, logger=GUARD_LOG):
        outcomes = await asyncio.gather(*(guard.call(hangs, force=True) for _ in range(1000)))
        assert outcomes == [SKIPPED] * 1000 and counters.timeouts == 1000
        assert await guard.call(answers) is SKIPPED  # open: skipped (counted, not logged)
        clock.advance(5.0)
        assert await guard.call(answers) == 1  # the probe succeeds: the episode ends

    lines = _lines(caplog, GUARD_LOG)
    assert len(lines) <= 2, lines[:5]
    assert "timeouts" in lines[0] and "skipping the tier for 5.0s" in lines[0]
    assert "recovered" in lines[-1] and "1000 timeouts, 1 skipped calls" in lines[-1]


async def test_a_call_already_running_when_the_tier_failed_does_not_end_the_episode(
    clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    guard = TierGuard("redis", object(), TierCounters(16), clock=clock, timeout=5.0, recovery=5.0)
    release = asyncio.Event()

    async def slow() -> str:
        await release.wait()
        return "late"

    async def fails() -> None:
        raise ConnectionError("down")

    with caplog.at_level(logging.INFO, logger=GUARD_LOG):
        early = asyncio.create_task(guard.call(slow))
        await asyncio.sleep(0)
        for _ in range(3):
            await guard.call(fails, force=True)
        release.set()
        assert await early == "late"  # closes the guard, but proves little: no line
        await guard.call(fails, force=True)
    assert len(_lines(caplog, GUARD_LOG)) == 1


async def test_stale_serves_under_a_failing_loader_make_two_lines(
    cache: TieredCache, clock: ManualClock, policy: CachePolicy, caplog: pytest.LogCaptureFixture
) -> None:
    keys = [f"ns:{i}" for i in range(100)]
    for key in keys:
        await cache.get_or_fetch(key, LoaderSpy(key), policy)
    clock.advance(policy.fresh_ttl + 1)
    failing = LoaderSpy(error=RuntimeError("upstream down"))

    with caplog.at_level(logging.WARNING, logger="cache.engine.loading"):
        for key in keys:  # each stale hit starts a background refresh that fails
            assert (await cache.get_or_fetch(key, failing, policy)).meta.stale
            await cache.wait_idle()
        await cache.refresh(keys[0], LoaderSpy("back"), policy)

    assert failing.calls == 100
    lines = _lines(caplog, "cache.engine.loading")
    assert len(lines) == 2, lines[:5]
    assert "ns:0" in lines[0] and "100 stale values served after loader failures" in lines[1]
