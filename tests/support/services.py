"""Real ``Services`` around the domain service a test exercises, and MCP servers over them.

The domain a test does not exercise is built over an upstream that answers 503 to everything
(no test reaches it); cache and clock default to a memory-only cache and the wall clock.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx
from mcp.server.mcpserver import MCPServer

from cache.engine.tiered import TieredCache
from tests.support.engine import bounded_memory, build_engine
from tools.clinical_trials.client import CtgovClient
from tools.clinical_trials.service import TrialsService
from tools.http.client import UpstreamClient
from tools.http.config import HttpPolicy
from tools.http.factory import build_upstream
from tools.registry import Tool, register_all
from tools.services import Services
from tools.stocks.service import StocksService


@dataclass(frozen=True)
class ToolState:
    """What a test server's lifespan yields: the tools find their Services at ``.services``."""

    services: Services


def _unused(name: str) -> UpstreamClient:
    transport = httpx.MockTransport(lambda request: httpx.Response(503, text="not part of this test"))
    return build_upstream(
        name,
        f"http://{name}.invalid",
        policy=HttpPolicy(max_attempts=1),
        rate=None,
        user_agent="test",
        transport=transport,
    )


@asynccontextmanager
async def services_for(
    *,
    trials: TrialsService | None = None,
    stocks: StocksService | None = None,
    cache: TieredCache | None = None,
    clock: Callable[[], float] = time.time,
    call_deadline: float | None = None,
) -> AsyncIterator[Services]:
    """Services holding ``trials`` and ``stocks`` (whichever is missing is built over a dead
    upstream and closed on exit); tool calls get ``call_deadline`` seconds (default: the policy's)."""
    async with AsyncExitStack() as stack:
        if cache is None:
            cache = build_engine(bounded_memory(clock), clock=clock)
            stack.push_async_callback(cache.aclose)
        upstreams: dict[str, UpstreamClient] = {}
        if trials is None:
            upstreams["ctgov"] = _unused("ctgov")
            trials = TrialsService(CtgovClient(upstreams["ctgov"]), cache, clock=clock)
            stack.push_async_callback(trials.aclose)
        if stocks is None:
            upstreams.update({name: _unused(name) for name in ("twse", "tpex", "mis", "yahoo")})
            stocks = StocksService(
                twse=upstreams["twse"],
                tpex=upstreams["tpex"],
                mis=upstreams["mis"],
                yahoo=upstreams["yahoo"],
                cache=cache,
                clock=clock,
            )
        for client in upstreams.values():
            stack.push_async_callback(client.aclose)
        if "mis" in upstreams:  # the stocks service was built here: it stops before its clients close
            stack.push_async_callback(stocks.aclose)
        deadline = {} if call_deadline is None else {"call_deadline": call_deadline}
        yield Services.started(trials, stocks, cache, upstreams, clock, **deadline)


def server_for(
    name: str,
    tools: Sequence[Tool],
    *,
    trials: TrialsService | None = None,
    stocks: StocksService | None = None,
    cache: TieredCache | None = None,
    clock: Callable[[], float] = time.time,
    call_deadline: float | None = None,
) -> MCPServer:
    """An MCPServer publishing ``tools``, whose lifespan builds :func:`services_for` them."""

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[ToolState]:
        async with services_for(
            trials=trials, stocks=stocks, cache=cache, clock=clock, call_deadline=call_deadline
        ) as built:
            yield ToolState(built)

    server = MCPServer(name, lifespan=lifespan)
    register_all(server, tools)
    return server
