"""One lifespan builds the whole object graph into a frozen AppState and closes all of it.

settings -> cache -> HTTP clients (one per upstream) -> domain services. Every I/O edge can be
replaced: ``transports`` routes an upstream's HTTP through e.g. ``httpx.MockTransport`` and
``clock`` drives every TTL and breaker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import httpx
from mcp.server.mcpserver import MCPServer

from cache import TieredCache, build_cache
from cache.warming import WarmOutcome
from server.background import Background, Role, background
from server.settings import Settings
from server.tool_runner import ToolRunner
from tools.clinical_trials import CtgovClient, TrialsConfig, TrialsService
from tools.http.client import UpstreamClient
from tools.http.factory import build_upstream
from tools.stocks import StocksConfig, StocksService

UPSTREAMS = ("ctgov", "twse", "tpex", "mis", "yahoo")


@dataclass(frozen=True)
class AppState:
    """Everything a tool needs, built once per server process."""

    settings: Settings
    cache: TieredCache
    upstreams: Mapping[str, UpstreamClient]
    trials: TrialsService
    stocks: StocksService
    background: Background
    clock: Callable[[], float]
    started_at: float


@asynccontextmanager
async def app_state(
    settings: Settings,
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    clock: Callable[[], float] = time.time,
    mcp: MCPServer | None = None,
    role: Role = "cli",
) -> AsyncIterator[AppState]:
    """Build AppState from settings; close every client, task and connection on exit.

    ``mcp`` is the server whose tools warming runs; ``role`` says which background schedules
    run here (see :mod:`server.background`)."""
    transports = transports or {}
    ssl_context = httpx.create_ssl_context()  # one CA bundle load for every upstream client
    async with AsyncExitStack() as stack:
        cache = await build_cache(settings.cache, sqlite=settings.sqlite, redis=settings.redis, clock=clock)
        stack.push_async_callback(cache.aclose)
        upstreams: dict[str, UpstreamClient] = {}
        for name in UPSTREAMS:
            client = build_upstream(
                name,
                settings.upstreams.base_url(name),
                policy=settings.http,
                rate=settings.upstreams.rate(name),
                user_agent=settings.upstreams.user_agent,
                transport=transports.get(name),
                verify=ssl_context,
            )
            stack.push_async_callback(client.aclose)
            upstreams[name] = client
        trials_config = TrialsConfig(ttl=settings.cache.trials, **settings.trials.model_dump())
        trials = TrialsService(CtgovClient(upstreams["ctgov"]), cache, trials_config, clock=clock)
        stocks = StocksService(
            twse=upstreams["twse"],
            tpex=upstreams["tpex"],
            mis=upstreams["mis"],
            yahoo=upstreams["yahoo"],
            cache=cache,
            config=StocksConfig(ttl=settings.cache.stocks),
            clock=clock,
        )
        for service in (trials, stocks):
            if hasattr(service, "aclose"):
                stack.push_async_callback(service.aclose)
        holder: list[AppState] = []
        runner = ToolRunner(mcp, lambda: holder[0]) if mcp is not None else _no_tools
        services = SimpleNamespace(trials=trials, stocks=stocks)
        parts = await stack.enter_async_context(
            background(settings, cache, runner=runner, services=services, role=role, clock=clock)
        )
        holder.append(AppState(settings, cache, upstreams, trials, stocks, parts, clock=clock, started_at=clock()))
        yield holder[0]


async def _no_tools(tool: str, arguments: dict[str, object], ttl: object = None) -> WarmOutcome:
    return WarmOutcome.failed("no MCP server in this process to run tools")


class SharedLifespan:
    """Enter the state once however many connections use the server; close it after the last.

    The SDK enters the lifespan once for streamable HTTP but once per connection for stdio, SSE
    and in-process clients; sharing keeps one cache and one set of HTTP pools per process.
    """

    def __init__(self, factory: Callable[[Any], Any]) -> None:
        """``factory(server)`` returns the async context manager that builds the state."""
        self._factory = factory
        self._lock = asyncio.Lock()
        self._users = 0
        self._stack: AsyncExitStack | None = None
        self._state: Any = None

    @property
    def current(self) -> Any:
        """The state while at least one connection is open (static resources read it here)."""
        if self._state is None:
            raise RuntimeError("the server state is not built: no client is connected")
        return self._state

    @asynccontextmanager
    async def __call__(self, server: Any) -> AsyncIterator[Any]:
        async with self._lock:
            if self._users == 0:
                stack = AsyncExitStack()
                self._state = await stack.enter_async_context(self._factory(server))
                self._stack = stack
            self._users += 1
        try:
            yield self._state
        finally:
            async with self._lock:
                self._users -= 1
                if self._users == 0 and self._stack is not None:
                    stack, self._stack, self._state = self._stack, None, None
                    await stack.aclose()
