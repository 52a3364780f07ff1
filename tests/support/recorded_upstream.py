"""The recorded upstream in process: an ``httpx.MockTransport`` handler over the replay routes.

The same route table (``tests.support.replay_routes``) and the same dispatch as the replay
server, without a socket: for service and tool tests that want recorded answers, every
request logged, a reply scripted now and then, or an upstream taken down::

    upstream = ctgov_upstream()                      # or stocks_upstream()
    client = build_upstream(..., transport=upstream.transport())
    upstream.script(httpx.Response(503), path="/api/v2/version")
    upstream.down.add("mis")                         # http://mis/... answers 503 from now on
    upstream.held.add("mis")                         # http://mis/... waits until upstream.release()
    assert upstream.count("/api/v2/studies") == 1

Each request, in order: held until :meth:`RecordedUpstream.release` if its host is ``held``
(async clients only) -> logged -> 503 if its host is ``down`` -> the next scripted response
queued for its path (then for any path) -> the first matching route -> else 404 "no recorded
response for <path>".
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Coroutine, Iterable
from urllib.parse import parse_qsl

import httpx

from tests.support.fixtures import fixtures_dir
from tests.support.replay_routes import Route, RouteRequest, answer
from tests.support.replay_routes import ctgov as ctgov_routes
from tests.support.replay_routes import exrights as exrights_routes
from tests.support.replay_routes import stocks as stocks_routes
from tests.support.replay_routes import stocks_flows as stocks_flows_routes

CTGOV_STUDIES = "/api/v2/studies"


class RecordedUpstream:
    """A MockTransport handler over ``routes``.

    ``default_path`` is where :meth:`script` queues and which requests :meth:`params` reads when
    no ``path`` is given (None: any path / every request). ``requests`` logs every request;
    ``paths()``, ``count(path)``, ``params(i, path)``, ``to(host)`` and ``channels()`` read it back.
    """

    def __init__(self, routes: Iterable[Route], *, default_path: str | None = None) -> None:
        self.routes = list(routes)
        self.default_path = default_path
        self.requests: list[httpx.Request] = []
        self.scripted: dict[str | None, deque[httpx.Response]] = {}
        self.down: set[str] = set()
        self.held: set[str] = set()
        self.holding: list[httpx.Request] = []  # requests held now
        self._arrived = asyncio.Event()
        self._released = asyncio.Event()

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    async def first_held(self) -> httpx.Request:
        """Wait until a request to a ``held`` host is being held; that request."""
        await self._arrived.wait()
        return self.holding[0]

    def release(self) -> None:
        """Let the held requests (and any later one) through."""
        self.held.clear()
        self._released.set()

    def _handle(self, request: httpx.Request) -> httpx.Response | Coroutine[None, None, httpx.Response]:
        if request.url.host in self.held:
            return self._after_release(request)
        return self(request)

    async def _after_release(self, request: httpx.Request) -> httpx.Response:
        self.holding.append(request)
        self._arrived.set()
        await self._released.wait()
        self.holding.remove(request)
        return self(request)

    def script(self, *responses: httpx.Response, path: str | None = None) -> None:
        """Queue ``responses`` for the next requests to ``path`` (default: ``default_path``)."""
        key = path if path is not None else self.default_path
        self.scripted.setdefault(key, deque()).extend(responses)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host in self.down:
            return httpx.Response(503, text="down for the test")
        path, raw = request.url.path, request.url.query.decode()
        for key in (path, None):
            if self.scripted.get(key):
                return self.scripted[key].popleft()
        query = dict(parse_qsl(raw, keep_blank_values=True))
        reply = answer(self.routes, RouteRequest(request.method, path, query, raw, dict(request.headers)))
        if reply is None:
            return httpx.Response(404, text=f"no recorded response for {path}")
        return httpx.Response(reply.status, headers=dict(reply.headers), content=reply.body)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]

    def count(self, path: str) -> int:
        return self.paths().count(path)

    def params(self, index: int = -1, path: str | None = None) -> dict[str, str]:
        """Query parameters of the ``index``-th request to ``path`` (default: ``default_path``)."""
        path = path if path is not None else self.default_path
        chosen = [r for r in self.requests if path is None or r.url.path == path][index]
        return dict(parse_qsl(chosen.url.query.decode(), keep_blank_values=True))

    def to(self, host: str) -> list[httpx.Request]:
        """Requests sent to one host (the stock clients use the upstream's name as the host)."""
        return [request for request in self.requests if request.url.host == host]

    def channels(self) -> list[list[str]]:
        """The ``ex_ch`` channel lists of the MIS requests, in order."""
        return [request.url.params["ex_ch"].split("|") for request in self.to("mis")]


def ctgov_upstream(extra_routes: Iterable[Route] = ()) -> RecordedUpstream:
    """ClinicalTrials.gov: ``extra_routes`` first, then the recorded ctgov routes. Scripts go to
    ``/api/v2/studies`` unless told otherwise, so the service's background ``/version`` check
    never takes a reply meant for a search."""
    return RecordedUpstream([*extra_routes, *ctgov_routes.routes(fixtures_dir())], default_path=CTGOV_STUDIES)


def stocks_upstream() -> RecordedUpstream:
    """TWSE (with TWT49U), TPEx, MIS and Yahoo: the recorded (and documented synthesised) stock
    routes, the whole-market day tables (flows, margin) included."""
    return RecordedUpstream(
        [
            *exrights_routes.routes(fixtures_dir()),
            *stocks_routes.routes(fixtures_dir()),
            *stocks_flows_routes.routes(fixtures_dir()),
        ]
    )
