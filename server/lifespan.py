"""One lifespan builds the whole object graph into a frozen AppState and closes all of it.

settings -> cache -> HTTP clients (one per upstream) -> domain services -> Services -> the tool
runner -> background work -> AppState. Every I/O edge can be replaced: ``transports`` routes an
upstream's HTTP through e.g. ``httpx.MockTransport`` and ``clock`` drives every TTL and breaker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx

from cache import build_cache
from server.background import Background, Role, background
from server.idle_build import Activity, idle_build
from server.settings import Settings
from server.tool_runner import ToolRunner
from server.toolset import TOOLS
from tools.clinical_trials import CtgovClient, TrialsConfig, TrialsService
from tools.deferred import unbuilt
from tools.http.client import UpstreamClient
from tools.http.factory import build_upstream
from tools.http.tls import TlsContext
from tools.registry import Tool
from tools.services import Services
from tools.stocks import StocksConfig, StocksService

UPSTREAMS = ("ctgov", "twse", "tpex", "mis", "yahoo")


@dataclass(frozen=True)
class AppState:
    """Everything the process runs on, built once: the tools' Services and the background work."""

    settings: Settings
    services: Services
    background: Background


@asynccontextmanager
async def app_state(
    settings: Settings,
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    clock: Callable[[], float] = time.time,
    tools: Sequence[Tool] = TOOLS,
    role: Role = "cli",
    tls: TlsContext | None = None,
    activity: Activity | None = None,
) -> AsyncIterator[AppState]:
    """Build AppState from settings; close every client, task and connection on exit.

    ``tools`` are what warming can run; ``role`` says which background schedules run here (see
    :mod:`server.background`); ``tls`` is a TLS context already loading (else one is loaded here);
    ``activity``, the server's middleware of that name, lets a server build its deferred models
    in idle time (:mod:`server.idle_build`)."""
    async with AsyncExitStack() as stack:
        services = await stack.enter_async_context(
            build_services(settings, transports=transports, clock=clock, tls=tls)
        )
        runner = ToolRunner(services, tools)
        parts = await stack.enter_async_context(background(settings, services, runner=runner, role=role))
        if activity is not None and role == "server":
            await stack.enter_async_context(idle_build(activity, unbuilt))
        yield AppState(settings, services, parts)


@asynccontextmanager
async def build_services(
    settings: Settings,
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    clock: Callable[[], float] = time.time,
    tls: TlsContext | None = None,
) -> AsyncIterator[Services]:
    """The cache, one HTTP client per upstream and the domain services; all closed on exit."""
    transports = transports or {}
    tls = tls or TlsContext()  # one CA bundle load for every upstream client
    async with AsyncExitStack() as stack:
        cache = await build_cache(settings.cache, sqlite=settings.sqlite, redis=settings.redis, clock=clock)
        stack.push_async_callback(cache.aclose)
        # Awaited once the tiers are open: the bundle goes on loading on its thread meanwhile.
        ssl_context = await tls.get()
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
        stack.push_async_callback(trials.aclose)
        stocks = StocksService(
            twse=upstreams["twse"],
            tpex=upstreams["tpex"],
            mis=upstreams["mis"],
            yahoo=upstreams["yahoo"],
            cache=cache,
            config=StocksConfig(ttl=settings.cache.stocks),
            clock=clock,
        )
        stack.push_async_callback(stocks.aclose)
        yield Services.started(trials, stocks, cache, upstreams, clock, call_deadline=settings.http.call_deadline)


class SharedLifespan:
    """Enter the state once however many connections use the server; close it after the last.

    The SDK enters the lifespan once for streamable HTTP but once per connection for stdio, SSE
    and in-process clients; sharing keeps one cache and one set of HTTP pools per process.
    """

    def __init__(self, factory: Callable[[], AbstractAsyncContextManager[AppState]]) -> None:
        """``factory()`` returns the async context manager that builds the state."""
        self._factory = factory
        self._lock = asyncio.Lock()
        self._users = 0
        self._stack: AsyncExitStack | None = None
        self._state: AppState | None = None

    @property
    def current(self) -> AppState:
        """The state while at least one connection is open (static resources read it here)."""
        if self._state is None:
            raise RuntimeError("the server state is not built: no client is connected")
        return self._state

    @asynccontextmanager
    async def __call__(self, server: object) -> AsyncIterator[AppState]:
        """The SDK's lifespan hook (``server`` is the MCPServer entering it)."""
        async with self._lock:
            if self._users == 0:
                stack = AsyncExitStack()
                self._state = await stack.enter_async_context(self._factory())
                self._stack = stack
            self._users += 1
        try:
            yield self.current
        finally:
            async with self._lock:
                self._users -= 1
                if self._users == 0 and self._stack is not None:
                    stack, self._stack, self._state = self._stack, None, None
                    await stack.aclose()
