"""Rate-limit overload: far more concurrent distinct calls than the upstream's limit allows.

ClinicalTrials.gov is limited to 5 requests per 2 s here, and 60 distinct searches arrive at
once: within a 10 s deadline the limit can serve about 25-30 of them. No caller may wait longer
than its deadline; those the limit cannot serve in time are told so at once (a rate-limit
error within a second), not parked until their deadline runs out.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from server.app import build_app
from tests.support.load import Tally, drive, fault_settings, relaxed_rates
from tests.support.replay import ReplayServer
from tests.support.replay_routes.synthetic import condition

pytestmark = pytest.mark.faults

DEADLINE = 10.0  # the default per-tool-call deadline
GRACE = 1.0
AT_ONCE = 1.0  # "told at once": a turned-away call answers within this many seconds
CALLERS = 60
LIMIT = "5/2"


async def test_the_excess_is_turned_away_at_once(replay: ReplayServer, tmp_path: Path) -> None:
    settings = fault_settings(
        replay.url, tmp_path, upstreams=relaxed_rates(ctgov_rate=LIMIT), worker={"in_server": False}
    )
    tally = Tally()
    async with Client(build_app(settings).mcp) as client:
        calls = [lambda i=i: client.call_tool("search_trials", {"condition": condition(i)}) for i in range(CALLERS)]
        await drive(calls, concurrency=CALLERS, tally=tally, timeout=DEADLINE + GRACE + 2)
    refusals = tally.refusals()
    slowest_refusal = max((seconds for seconds, _ in refusals), default=0.0)
    figures = tally.figures(
        served=tally.answered,
        slowest_refusal=f"{slowest_refusal:.3f}s",
        upstream_requests=replay.count("/api/v2/studies"),
    )
    print("\n" + figures)
    assert tally.lost == 0, figures  # nobody waited past deadline + grace (the client gave up 3 s after it)
    assert tally.max_latency <= DEADLINE + GRACE, figures
    assert tally.answered >= 10, figures  # the limit's capacity within the deadline is used, not shed wholesale
    assert slowest_refusal <= AT_ONCE, figures
    assert all("rate" in text.lower() for _, text in refusals), f"{figures}; {refusals[:3]}"
