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
from server.settings import Settings
from server.tool_runner import ToolRunner
from server.toolset import TOOLS
from tools.clinical_trials import CtgovClient, TrialsConfig, TrialsService
from tools.http.client import UpstreamClient
from tools.http.factory import build_upstream
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
) -> AsyncIterator[AppState]:
    """Build AppState from settings; close every client, task and connection on exit.

    ``tools`` are what warming can run; ``role`` says which background schedules run here (see
    :mod:`server.background`)."""
    async with AsyncExitStack() as stack:
        services = await stack.enter_async_context(build_services(settings, transports=transports, clock=clock))
        runner = ToolRunner(services, tools)
        parts = await stack.enter_async_context(background(settings, services, runner=runner, role=role))
        yield AppState(settings, services, parts)


@asynccontextmanager
async def build_services(
    settings: Settings,
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    clock: Callable[[], float] = time.time,
) -> AsyncIterator[Services]:
    """The cache, one HTTP client per upstream and the domain services; all closed on exit."""
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

    stdio holds the state for the process with :meth:`held_lazily`: it is built after the
    handshake, not before it (nothing the catalog methods answer needs it), in one background
    task that also closes it. Connections entered meanwhile get a :class:`StateHandle`;
    :class:`server.state_gate.StateGate` awaits :meth:`ready` before any request that reads it.
    """

    def __init__(self, factory: Callable[[], AbstractAsyncContextManager[AppState]]) -> None:
        """``factory()`` returns the async context manager that builds the state."""
        self._factory = factory
        self._lock = asyncio.Lock()
        self._users = 0
        self._stack: AsyncExitStack | None = None
        self._state: AppState | None = None
        self._lazy = False
        self._holder: asyncio.Task[None] | None = None
        self._built: asyncio.Future[AppState] | None = None
        self._release = asyncio.Event()

    @property
    def current(self) -> AppState:
        """The state while at least one connection is open (static resources read it here)."""
        if self._state is None:
            raise RuntimeError("the server state is not built: no client is connected")
        return self._state

    @asynccontextmanager
    async def __call__(self, server: object) -> AsyncIterator[AppState]:
        """The SDK's lifespan hook (``server`` is the MCPServer entering it)."""
        if self._lazy:  # the process holds the state; it is built on demand (see the class)
            yield StateHandle(self)  # type: ignore[misc]  # reads through to the AppState
            return
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

    @asynccontextmanager
    async def held_lazily(self) -> AsyncIterator[None]:
        """Hold the state for the life of the process without building it yet; close it on exit
        (a build still running is cancelled)."""
        self._lazy = True
        try:
            yield
        finally:
            holder, self._holder = self._holder, None
            if holder is not None:
                if self._state is None:
                    holder.cancel()
                self._release.set()
                await asyncio.gather(holder, return_exceptions=True)
            self._lazy = False

    def start(self) -> None:
        """Begin building the held state in the background (once; no-op unless held lazily)."""
        if self._lazy and self._holder is None:
            self._built = asyncio.get_running_loop().create_future()
            self._holder = asyncio.create_task(self._hold(self._built), name="trialstock-state")

    def start_later(self, delay: float) -> None:
        """:meth:`start` in ``delay`` seconds: after the answer being sent has left."""
        if self._lazy and self._holder is None:
            asyncio.get_running_loop().call_later(delay, self.start)

    async def ready(self) -> AppState:
        """The state, built first if it is held lazily and not built yet; raises what the build
        raised."""
        if self._state is not None or not self._lazy:
            return self.current
        self.start()
        assert self._built is not None
        return await asyncio.shield(self._built)

    async def _hold(self, built: asyncio.Future[AppState]) -> None:
        try:
            async with self._factory() as state:
                self._state = state
                built.set_result(state)
                await self._release.wait()
        except BaseException as exc:
            if not built.done():
                if isinstance(exc, asyncio.CancelledError):
                    built.cancel()
                else:
                    built.set_exception(exc)
            raise
        finally:
            self._state = None


class StateHandle:
    """A connection's lifespan state while the process holds the state lazily: attributes read
    through to the built :class:`AppState` (``ctx.request_context.lifespan_context.services``
    works as before); before it is built, every attribute is missing."""

    __slots__ = ("_lifespan",)

    def __init__(self, lifespan: SharedLifespan) -> None:
        self._lifespan = lifespan

    def __getattr__(self, name: str) -> object:
        state = self._lifespan._state
        if state is None:
            raise AttributeError(f"{name!r}: the server state is not built yet")
        return getattr(state, name)
