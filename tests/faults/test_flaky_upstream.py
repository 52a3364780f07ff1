"""A flaky upstream: 30 % of requests fail (503, or the connection reset without an answer).

1,000 distinct searches (each its own cache key, so each needs the upstream) through the real
MCP client, 50 at a time. Retries must hide the faults from the callers (at least 99.9 % of the
calls succeed) without flooding the upstream (at most 1.6 requests per call: with independent
30 % failures a retried call costs 1/0.7 = 1.43 requests on average).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from server.app import build_app
from tests.support.load import Tally, drive, fault_settings
from tests.support.replay import ReplayServer
from tests.support.replay_routes.synthetic import condition

pytestmark = pytest.mark.faults

CALLS = 1000
CONCURRENCY = 50
FAULT_RATE = 0.3
MIN_SUCCESS = 0.999
MAX_REQUESTS_PER_CALL = 1.6
SEARCHES = "/api/v2/studies"


@pytest.mark.parametrize("fault", ["503", "connection reset"])
async def test_retries_hide_a_flaky_upstream(replay: ReplayServer, tmp_path: Path, fault: str) -> None:
    tally = Tally()
    # The deadline is not under test here (tests/faults/test_hung_upstream.py is): a longer one
    # keeps a busy 2-core machine's queueing (50 calls at once, in one process) from eating the
    # time the retries need. Nor is the retry budget (tests/tools/http/test_retry_budget.py):
    # this fault rate needs ~0.43 retries a call against its 0.5, and on a loaded CI machine the
    # retries of calls begun in one window landed in a slower next one, where the budget denied
    # 3 of ~480. Its floor is raised so only the retries are measured; the request bound below
    # still catches a flood.
    settings = fault_settings(
        replay.url,
        tmp_path,
        worker={"in_server": False},
        http={"call_deadline": 30.0, "retry_budget_floor": 10 * CALLS},
    )
    async with Client(build_app(settings).mcp) as client:
        warm = await client.call_tool("search_trials", {"condition": condition(0, "warm-")})  # pools, imports
        assert not warm.is_error, warm.content
        before = replay.count(SEARCHES)
        if fault == "503":
            replay.set_failure_rate(FAULT_RATE, seed=14)
        else:
            replay.set_reset_rate(FAULT_RATE, seed=14)
        calls = [lambda i=i: client.call_tool("search_trials", {"condition": condition(i)}) for i in range(CALLS)]
        await drive(calls, concurrency=CONCURRENCY, tally=tally, timeout=120)
        status = (await client.call_tool("service_status", {})).structured_content or {}
    denied = next((u.get("retries_denied_total") for u in status.get("upstreams", []) if u["name"] == "ctgov"), None)
    requests = replay.count(SEARCHES) - before
    figures = tally.figures(
        fault=repr(fault), upstream_requests=requests, per_call=f"{requests / CALLS:.2f}", retries_denied=denied
    )
    print("\n" + figures)
    assert tally.lost == 0, figures
    assert tally.answered >= MIN_SUCCESS * CALLS, figures
    assert requests <= MAX_REQUESTS_PER_CALL * CALLS, figures
