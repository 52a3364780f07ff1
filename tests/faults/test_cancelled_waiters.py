"""Cancelled waiters: 100 concurrent callers of one cold key, 10 of them cancelled mid-flight.

The shared fetch is shielded from its callers: cancelling some (the SDK client sends the server
a cancellation for each) neither cancels the fetch nor starts another, so the other 90 get the
value and the upstream sees exactly one request.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from mcp import Client

from server.app import build_app
from tests.support.load import Tally, fault_settings, timed
from tests.support.replay import ReplayServer

pytestmark = pytest.mark.faults

CALLERS = 100
CANCELLED = 10
RECORD = "/api/v2/studies/NCT04280705"
TRIAL = {"nct_id": "NCT04280705"}


async def test_cancelling_some_waiters_leaves_the_fetch_to_the_others(replay: ReplayServer, tmp_path: Path) -> None:
    replay.set_latency(1.5)  # the one fetch stays in flight while callers join and some leave
    tally = Tally()
    async with Client(build_app(fault_settings(replay.url, tmp_path, worker={"in_server": False})).mcp) as client:
        tasks = [asyncio.create_task(timed(client.call_tool("get_trial", TRIAL), 30)) for _ in range(CALLERS)]
        deadline = time.monotonic() + 10
        while replay.count(RECORD) == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)  # bounded wait for the fetch to reach the upstream
        await asyncio.sleep(0.3)  # every caller has joined the flight by now
        for task in tasks[:CANCELLED]:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        after = await client.call_tool("get_trial", TRIAL)  # the value was stored, for callers to come
    for outcome in outcomes[CANCELLED:]:
        assert isinstance(outcome, tuple)
        tally.record(*outcome)
    cancelled = sum(isinstance(outcome, asyncio.CancelledError) for outcome in outcomes[:CANCELLED])
    values = {
        result.structured_content["trial"]["nct_id"]
        for _, result in (o for o in outcomes[CANCELLED:] if isinstance(o, tuple))
        if not isinstance(result, BaseException) and not result.is_error
    }
    figures = tally.figures(cancelled=cancelled, upstream_requests=replay.count(RECORD))
    print("\n" + figures)
    assert cancelled == CANCELLED, figures
    assert tally.calls == CALLERS - CANCELLED and tally.failed == 0 and tally.lost == 0, figures
    assert values == {TRIAL["nct_id"]}, figures
    assert replay.count(RECORD) == 1, figures
    assert after.structured_content["cache"]["hit"] is True, after.structured_content["cache"]
