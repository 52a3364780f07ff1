"""Every domain tool call runs under one deadline, set where tools are run.

Over MCP (in-memory client) and called directly with Services (as warming does), a tool's
upstream requests see the call's deadline; the batch tools have a longer one; a hung upstream
fails the call at its deadline with advice, and a stale value is answered at once while its
refresh runs under the background deadline, not the caller's. Real time is bounded by GUARD.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from mcp import Client

from tests.support.clock import ManualClock
from tests.support.engine import bounded_memory, build_engine
from tests.support.scripted_http import Gate
from tests.support.services import server_for, services_for
from tests.support.trials import build_service
from tools.clinical_trials.tools import TOOLS, count_trials, search_trials_for_mutations
from tools.http.config import HttpPolicy
from tools.http.deadline import Deadline, current_deadline
from tools.http.factory import build_upstream
from tools.registry import BATCH_DEADLINE
from tools.services import Services

GUARD = 20.0
VERSION = {"apiVersion": "2.0.3", "dataTimestamp": "2026-08-11T23:00:00"}


class Ctgov:
    """Answers /version, and /studies with a count (or through ``gate`` when one is set);
    records the deadline each /studies request ran under."""

    def __init__(self) -> None:
        self.gate: Gate | None = None
        self.deadlines: list[Deadline | None] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/version"):
            return httpx.Response(200, json=VERSION)
        self.deadlines.append(current_deadline())
        if self.gate is not None:
            return await self.gate(request)
        return httpx.Response(200, json={"studies": [], "totalCount": 7})


@asynccontextmanager
async def ctgov_services(
    upstream: Ctgov, clock: ManualClock, policy: HttpPolicy | None = None, call_deadline: float | None = None
) -> AsyncIterator[Services]:
    http = build_upstream(
        "ctgov",
        "https://clinicaltrials.gov/api/v2",
        policy=policy or HttpPolicy(max_attempts=1),
        rate=None,
        user_agent="test",
        transport=httpx.MockTransport(upstream),  # type: ignore[arg-type]  # an async handler
        clock=clock,
        sleep=clock.sleep,
    )
    cache = build_engine(bounded_memory(clock), clock=clock)
    service = build_service(http, cache, clock)
    try:
        async with services_for(trials=service, cache=cache, clock=clock, call_deadline=call_deadline) as services:
            yield services
    finally:
        await service.aclose()
        await http.aclose()
        await cache.aclose()


async def test_a_tool_called_directly_runs_under_the_call_deadline() -> None:
    upstream = Ctgov()
    async with ctgov_services(upstream, ManualClock(), call_deadline=7.0) as services:
        assert current_deadline() is None
        assert (await count_trials(services, condition="melanoma")).total_count == 7
        await search_trials_for_mutations(services, mutations=["EGFR L858R"])
    assert [d.seconds if d else None for d in upstream.deadlines] == [7.0, BATCH_DEADLINE]


async def test_a_tool_called_over_mcp_runs_under_the_call_deadline() -> None:
    upstream = Ctgov()
    async with ctgov_services(upstream, ManualClock()) as services:
        server = server_for("deadlines", TOOLS, trials=services.trials, cache=services.cache)
        async with Client(server) as client:
            result = await client.call_tool("count_trials", {"condition": "melanoma"})
    assert not result.is_error
    assert [d.seconds if d else None for d in upstream.deadlines] == [10.0]


async def test_a_hung_upstream_fails_the_call_at_its_deadline_with_advice() -> None:
    upstream = Ctgov()
    upstream.gate = Gate()  # accepts, never answers
    policy = HttpPolicy(timeout=60.0)
    async with ctgov_services(upstream, ManualClock(), policy) as services:
        server = server_for("deadlines", TOOLS, trials=services.trials, cache=services.cache, call_deadline=0.3)
        async with Client(server) as client, asyncio.timeout(GUARD):
            result = await client.call_tool("count_trials", {"condition": "melanoma"})
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert text == (
        "Error executing tool count_trials: ctgov: no answer within the call's 0.3 s deadline (1 attempt); retry in 1 s"
    )


async def test_a_stale_answer_comes_at_once_and_its_refresh_has_the_background_deadline() -> None:
    clock = ManualClock()
    upstream = Ctgov()
    policy = HttpPolicy(max_attempts=1, background_deadline=0.2, timeout=60.0)
    async with ctgov_services(upstream, clock, policy) as services:
        assert (await count_trials(services, condition="melanoma")).total_count == 7
        clock.advance(services.trials.config.ttl.trials_search_fresh + 1)  # stale, not expired
        upstream.gate = Gate()  # the upstream hangs from now on
        async with asyncio.timeout(GUARD):
            stale = await count_trials(services, condition="melanoma")
            assert stale.total_count == 7 and stale.cache.stale
            await upstream.gate.arrived.wait()
            await services.cache.wait_idle()  # the refresh ends by its own deadline
        counters = services.cache.stats.snapshot()["totals"]
    assert upstream.deadlines[0] is not None and upstream.deadlines[0].seconds == 10.0
    refresh_deadline = upstream.deadlines[1]
    assert refresh_deadline is None  # the caller's deadline did not follow the refresh
    assert counters["loader_errors"] == 1 and counters["stale_on_error"] == 1
