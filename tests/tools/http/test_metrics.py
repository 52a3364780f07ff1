"""Upstream queue depth and shed counts, as service_status and /metrics publish them."""

from __future__ import annotations

import asyncio

from server.status import UpstreamState
from tests.support.clock import HeldSleep, ManualClock
from tests.support.scripted_http import Script, json_response, mock_client
from tools.http.config import HttpPolicy
from tools.http.deadline import within
from tools.http.errors import Throttled
from tools.http.metrics import render_upstream_metrics


async def test_queue_depth_and_sheds_reach_status_and_metrics(clock: ManualClock) -> None:
    sleep = HeldSleep(clock)
    policy = HttpPolicy(rate_limit_queue=1)
    async with mock_client(Script(default=json_response()), clock, rate=(1, 5.0), policy=policy, sleep=sleep) as client:
        await client.get_json("/a")
        queued = asyncio.create_task(client.get_json("/b"))
        await sleep.sleeping.wait()
        for _ in range(2):
            try:
                with within(1.0, clock=clock):
                    await client.get_json("/c")
            except Throttled:
                pass
        health = client.status()
        state = UpstreamState.of(health)
        text = render_upstream_metrics([health])
        sleep.release()
        await queued
    assert (state.queued, state.shed_total, state.retries_denied_total) == (1, 2, 0)
    assert 'trialstock_upstream_rate_limit_queued{upstream="ctgov"} 1' in text.splitlines()
    assert 'trialstock_upstream_rate_limit_shed_total{upstream="ctgov"} 2' in text.splitlines()
    assert "# TYPE trialstock_upstream_rate_limit_shed_total counter" in text
    assert 'trialstock_upstream_requests_total{upstream="ctgov"} 1' in text.splitlines()
    assert render_upstream_metrics([]) == ""
