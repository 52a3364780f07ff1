"""A hung upstream (it accepts and answers two minutes later): every call answers within its deadline.

A tool call has a deadline (``TRIALSTOCK_HTTP__CALL_DEADLINE``, 10 s by default): with a value
in the cache it is answered from the cache, flagged stale; without one it is an error saying the
upstream did not answer in time. Neither waits for the upstream's read timeout and retries.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from server.app import build_app
from tests.support.clock import OffsetClock
from tests.support.load import Tally, error_text, fault_settings, timed
from tests.support.replay import ReplayServer

pytestmark = pytest.mark.faults

DEADLINE = 10.0  # the default per-tool-call deadline
GRACE = 1.0  # what a deadline may overrun by: answering, the in-process transport
HUNG = 120.0  # seconds the upstream holds each request: far above any deadline or read timeout
RECORD = "/api/v2/studies/NCT04280705"
TRIAL = {"nct_id": "NCT04280705"}


async def test_an_uncached_call_errors_within_its_deadline(replay: ReplayServer, tmp_path: Path) -> None:
    replay.set_latency(HUNG)
    tally = Tally()
    async with Client(build_app(fault_settings(replay.url, tmp_path)).mcp) as client:
        seconds, result = await timed(client.call_tool("get_trial", TRIAL), DEADLINE + GRACE + 2)
        tally.record(seconds, result)
    figures = tally.figures(upstream_requests=replay.count(RECORD))
    print("\n" + figures)
    assert tally.lost == 0 and tally.failed == 1, figures  # answered, and answered with an error
    assert seconds <= DEADLINE + GRACE, figures
    assert not isinstance(result, BaseException)
    assert "ctgov" in error_text(result), figures


async def test_a_cached_call_answers_stale_within_its_deadline(replay: ReplayServer, tmp_path: Path) -> None:
    clock = OffsetClock()
    tally = Tally()
    async with Client(build_app(fault_settings(replay.url, tmp_path), clock=clock).mcp) as client:
        warm = await client.call_tool("get_trial", TRIAL)
        assert not warm.is_error, warm.content
        clock.advance(7 * 3600)  # past the record's 6 h freshness, well within its 7 days of staleness
        replay.set_latency(HUNG)
        seconds, result = await timed(client.call_tool("get_trial", TRIAL), DEADLINE + GRACE + 2)
        tally.record(seconds, result)
    figures = tally.figures(upstream_requests=replay.count(RECORD))
    print("\n" + figures)
    assert tally.failed == 0 and tally.lost == 0, figures
    assert seconds <= DEADLINE + GRACE, figures
    assert not isinstance(result, BaseException)
    assert result.structured_content["cache"]["stale"] is True, result.structured_content["cache"]
    assert result.structured_content["trial"]["nct_id"] == TRIAL["nct_id"]
