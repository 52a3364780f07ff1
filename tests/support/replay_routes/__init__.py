"""Route table of the replay upstream (``tests.support.replay``), and its loader.

Writing a route module (one per domain, e.g. ``ctgov.py``, ``stocks.py``): put a module in
this package exposing ``routes(fixtures_dir: Path) -> list[Route]``; the replay server loads
every module here (alphabetical order; names starting with ``_`` are skipped)::

    from tests.support.replay_routes import Reply, Route

    def routes(fixtures_dir: Path) -> list[Route]:
        studies = fixtures_dir / "ctgov"
        return [
            # exact path + predicate on the query (a dict of the last value of each parameter)
            Route("/api/v2/studies",
                  Reply.file(studies / "biomcp_search_phelan_next_20260811.json"),
                  when=lambda q: "pageToken" in q),
            # regex path (fullmatch); a callable responder sees the request and the match
            Route(re.compile(r"/api/v2/studies/(NCT\\d{8})"),
                  lambda req: Reply.file(studies / f"{req.match[1]}.json")),
            # JSON served as text/html, as TWSE MIS does
            Route("/stock/api/getStockInfo.jsp", Reply.file(path, content_type="text/html;charset=UTF-8")),
        ]

Matching: method, then path (a ``str`` is exact, a compiled pattern must ``fullmatch``),
then ``when(query)``; the first matching route in table order wins, so put a route with a
predicate before the catch-all of the same path. Paths are the real upstream paths (ctgov
under ``/api/v2``); they do not collide between upstreams. A responder is a ``Reply`` (sent as
is) or a callable ``(RouteRequest) -> Reply``; a callable may raise ``FileNotFoundError`` to
fall through to the 404 "no recorded response" answer.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

JSON = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status, headers (name -> value) and body bytes."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def json(
        cls, data: Any, status: int = 200, headers: Mapping[str, str] | None = None, content_type: str = JSON
    ) -> Reply:
        """A JSON body (``data`` serialised with orjson; ``bytes``/``str`` are sent as they are)."""
        body = data.encode() if isinstance(data, str) else data if isinstance(data, bytes) else orjson.dumps(data)
        return cls(status, {"content-type": content_type, **(headers or {})}, body)

    @classmethod
    def text(
        cls,
        text: str,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str = "text/plain; charset=utf-8",
    ) -> Reply:
        return cls(status, {"content-type": content_type, **(headers or {})}, text.encode())

    @classmethod
    def file(
        cls, path: Path, status: int = 200, headers: Mapping[str, str] | None = None, content_type: str = JSON
    ) -> Reply:
        """A recorded body, byte for byte (read once, when the route table is built)."""
        return cls(status, {"content-type": content_type, **(headers or {})}, Path(path).read_bytes())


@dataclass(frozen=True)
class RouteRequest:
    """What a responder sees. ``query`` keeps the last value of each parameter."""

    method: str
    path: str
    query: Mapping[str, str]
    raw_query: str
    headers: Mapping[str, str]
    match: re.Match[str] | None = None


Responder = Reply | Callable[[RouteRequest], Reply]


@dataclass(frozen=True)
class Route:
    """``path`` (exact ``str`` or compiled regex, full match), responder, method, query predicate."""

    path: str | re.Pattern[str]
    responder: Responder
    method: str = "GET"
    when: Callable[[Mapping[str, str]], bool] | None = None

    def matches(self, method: str, path: str, query: Mapping[str, str]) -> re.Match[str] | bool:
        """A regex match object or True when this route answers the request, else False."""
        if method.upper() != self.method.upper():
            return False
        if isinstance(self.path, str):
            hit: re.Match[str] | bool = path == self.path
        else:
            hit = self.path.fullmatch(path) or False
        if not hit:
            return False
        return hit if self.when is None or self.when(query) else False

    def answer(self, request: RouteRequest) -> Reply:
        return self.responder if isinstance(self.responder, Reply) else self.responder(request)


def answer(routes: Iterable[Route], request: RouteRequest) -> Reply | None:
    """The reply of the first route in ``routes`` matching ``request`` (its ``match`` filled in);
    None when no route matches or the matching responder raises ``FileNotFoundError``.

    The one dispatch of the route table: the replay server and the in-process
    ``tests.support.recorded_upstream.RecordedUpstream`` both answer through it.
    """
    for route in routes:
        hit = route.matches(request.method, request.path, request.query)
        if hit is False:
            continue
        try:
            return route.answer(replace(request, match=hit if isinstance(hit, re.Match) else None))
        except FileNotFoundError:
            return None
    return None


def load_routes(fixtures_dir: Path, package: str = __name__) -> list[Route]:
    """Import every public module of ``package`` and concatenate their ``routes(fixtures_dir)``."""
    root = importlib.import_module(package)
    table: list[Route] = []
    for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        table.extend(module.routes(fixtures_dir))
    return table
