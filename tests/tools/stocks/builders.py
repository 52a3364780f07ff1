"""Builders for the stock tests: Taipei times, a memory cache, and upstream clients whose
MockTransport answers from the SAME route table as the replay server (recorded fixtures plus the
synthesised variants documented in ``tests/support/replay_routes/stocks.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qsl

import httpx

from cache.engine.tiered import TieredCache
from tests.support.fixtures import fixtures_dir
from tests.support.replay_routes import Reply, Route, RouteRequest
from tests.support.replay_routes.stocks import routes
from tools.http.client import UpstreamClient
from tools.http.config import HttpPolicy
from tools.http.factory import build_upstream
from tools.stocks.config import StocksConfig
from tools.stocks.service import StocksService
from tools.stocks.sessions import TAIPEI

UPSTREAMS = ("twse", "tpex", "mis", "yahoo")
ONE_ATTEMPT = HttpPolicy(max_attempts=1, breaker_failure_threshold=100)


def taipei(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    """Epoch seconds of a wall-clock time in Asia/Taipei."""
    return datetime(year, month, day, hour, minute, second, tzinfo=TAIPEI).timestamp()


@dataclass
class RouteTransport:
    """A MockTransport handler over replay Routes; logs every request; ``down`` upstreams answer 503."""

    table: list[Route] = field(default_factory=lambda: routes(fixtures_dir()))
    requests: list[httpx.Request] = field(default_factory=list)
    down: set[str] = field(default_factory=set)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host in self.down:
            return httpx.Response(503, text="down for the test")
        path = request.url.path
        query = dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))
        for route in self.table:
            hit = route.matches(request.method, path, query)
            if hit is not False:
                match = hit if not isinstance(hit, bool) else None
                reply: Reply = route.answer(
                    RouteRequest(request.method, path, query, request.url.query.decode(), {}, match)
                )
                return httpx.Response(reply.status, headers=dict(reply.headers), content=reply.body)
        return httpx.Response(404, text=f"no recorded response for {path}")

    def to(self, upstream: str) -> list[httpx.Request]:
        """Requests sent to one upstream (the host is the upstream's name)."""
        return [request for request in self.requests if request.url.host == upstream]

    def channels(self) -> list[list[str]]:
        """The ``ex_ch`` channel lists of the MIS requests, in order."""
        return [request.url.params["ex_ch"].split("|") for request in self.to("mis")]


def clients(transport: RouteTransport, policy: HttpPolicy = ONE_ATTEMPT) -> dict[str, UpstreamClient]:
    """One client per upstream, each at http://<name>/ through ``transport``."""
    mock = httpx.MockTransport(transport)
    return {
        name: build_upstream(name, f"http://{name}", policy=policy, rate=None, user_agent="test", transport=mock)
        for name in UPSTREAMS
    }


@dataclass
class Harness:
    """A service over ``transport`` and ``cache``; ``aclose`` closes its HTTP clients."""

    transport: RouteTransport
    cache: TieredCache
    clock: Callable[[], float]
    config: StocksConfig | None = None
    policy: HttpPolicy = ONE_ATTEMPT

    def __post_init__(self) -> None:
        self.clients = clients(self.transport, self.policy)
        self.service = StocksService(**self.clients, cache=self.cache, config=self.config, clock=self.clock)

    async def aclose(self) -> None:
        for client in self.clients.values():
            await client.aclose()
