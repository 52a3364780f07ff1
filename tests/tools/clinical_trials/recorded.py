"""Test doubles: the ctgov replay routes behind an ``httpx.MockTransport``, and a service builder."""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

import httpx
from mcp.server.mcpserver import MCPServer

from cache.engine.tiered import TieredCache
from tests.support.clock import ManualClock
from tests.support.fixtures import fixtures_dir
from tests.support.replay_routes import Route, RouteRequest
from tests.support.replay_routes import ctgov as ctgov_routes
from tests.tools.services import server_for
from tools.clinical_trials.client import CtgovClient
from tools.clinical_trials.config import TrialsConfig
from tools.clinical_trials.service import TrialsService
from tools.clinical_trials.tools import TOOLS
from tools.http.client import UpstreamClient
from tools.http.config import HttpPolicy
from tools.http.factory import build_upstream

BASE_URL = "https://clinicaltrials.gov/api/v2"


class RecordedUpstream:
    """A MockTransport handler: scripted responses first, then the recorded routes, else 404.

    Scripts are per path (``/api/v2/studies`` by default), so the service's background
    ``/version`` check never takes a reply meant for a search. ``requests`` logs every
    request; ``paths()``, ``count(path)`` and ``params(i, path)`` read it back.
    """

    def __init__(self, extra_routes: Iterable[Route] = ()) -> None:
        self.routes = [*extra_routes, *ctgov_routes.routes(fixtures_dir())]
        self.requests: list[httpx.Request] = []
        self.scripted: dict[str, deque[httpx.Response]] = {}

    def script(self, *responses: httpx.Response, path: str = "/api/v2/studies") -> None:
        self.scripted.setdefault(path, deque()).extend(responses)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path, raw = request.url.path, request.url.query.decode()
        if self.scripted.get(path):
            return self.scripted[path].popleft()
        query = dict(parse_qsl(raw, keep_blank_values=True))
        for route in self.routes:
            hit = route.matches(request.method, path, query)
            if hit is False:
                continue
            match = hit if not isinstance(hit, bool) else None
            try:
                reply = route.answer(RouteRequest(request.method, path, query, raw, dict(request.headers), match))
            except FileNotFoundError:
                break
            return httpx.Response(reply.status, headers=dict(reply.headers), content=reply.body)
        return httpx.Response(404, text=f"no recorded response for {path}")

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]

    def count(self, path: str) -> int:
        return self.paths().count(path)

    def params(self, index: int = -1, path: str = "/api/v2/studies") -> dict[str, str]:
        """Query parameters of the ``index``-th request to ``path``."""
        chosen = [r for r in self.requests if r.url.path == path][index]
        return dict(parse_qsl(chosen.url.query.decode(), keep_blank_values=True))


def build_client(upstream: RecordedUpstream, clock: ManualClock, policy: HttpPolicy | None = None) -> UpstreamClient:
    async def sleep(seconds: float) -> None:
        clock.advance(seconds)

    return build_upstream("ctgov", BASE_URL, policy=policy or HttpPolicy(max_attempts=1), rate=None,
                          user_agent="trialstock-test/1", transport=httpx.MockTransport(upstream),
                          clock=clock, sleep=sleep)


def build_service(http: UpstreamClient, cache: TieredCache, clock: ManualClock,
                  config: TrialsConfig | None = None) -> TrialsService:
    return TrialsService(CtgovClient(http), cache, config or TrialsConfig(), clock)


_PHRASE = re.compile(r'AREA\[EligibilityCriteria\]\("([^"]+)"\)')


def synthetic_mutation_page(query_term: str) -> dict[str, Any]:
    """A one-study /studies page for a mutation phrase search, in the recorded shape, whose
    eligibility text names the mutation under inclusion criteria (eligibility included, as a
    live page asked for EligibilityCriteria carries it)."""
    found = _PHRASE.search(query_term)
    mutation = found.group(1) if found else "unknown"
    number = int(hashlib.sha256(mutation.encode()).hexdigest()[:7], 16) % 10**8
    return {"studies": [{"protocolSection": {
        "identificationModule": {"nctId": f"NCT{number:08d}", "briefTitle": f"Targeted therapy for {mutation}"},
        "statusModule": {"overallStatus": "RECRUITING", "startDateStruct": {"date": "2026-01-05"}},
        "conditionsModule": {"conditions": ["Non-small Cell Lung Cancer"]},
        "designModule": {"studyType": "INTERVENTIONAL", "phases": ["PHASE2"], "enrollmentInfo": {"count": 40}},
        "eligibilityModule": {"eligibilityCriteria": f"Inclusion Criteria:\n\n* Documented {mutation} mutation\n\n"
                                                     "Exclusion Criteria:\n\n* Pregnancy", "minimumAge": "18 Years"},
    }}], "totalCount": 1}


def mcp_server(service: TrialsService) -> MCPServer:
    """An MCPServer with the clinical-trial tools over Services holding ``service``."""
    return server_for("trials-test", TOOLS, trials=service)
