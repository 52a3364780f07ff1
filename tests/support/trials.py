"""Building the clinical-trials side in tests: an UpstreamClient over the recorded upstream, the
service, an MCPServer with the trial tools, and a synthetic mutation page."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from mcp.server.mcpserver import MCPServer

from cache import TieredCache
from tests.support.clock import ManualClock
from tests.support.recorded_upstream import RecordedUpstream
from tests.support.services import server_for
from tools.clinical_trials.client import CtgovClient
from tools.clinical_trials.config import TrialsConfig
from tools.clinical_trials.service import TrialsService
from tools.clinical_trials.tools import TOOLS
from tools.http.client import UpstreamClient
from tools.http.config import HttpPolicy
from tools.http.factory import build_upstream

BASE_URL = "https://clinicaltrials.gov/api/v2"


def build_client(upstream: RecordedUpstream, clock: ManualClock, policy: HttpPolicy | None = None) -> UpstreamClient:
    """The ctgov client through ``upstream``; one attempt unless ``policy`` says otherwise; its
    waits (retries, Retry-After) move ``clock`` instead of taking time."""
    return build_upstream(
        "ctgov",
        BASE_URL,
        policy=policy or HttpPolicy(max_attempts=1),
        rate=None,
        user_agent="trialstock-test/1",
        transport=upstream.transport(),
        clock=clock,
        sleep=clock.sleep,
    )


def build_service(
    http: UpstreamClient, cache: TieredCache, clock: ManualClock, config: TrialsConfig | None = None
) -> TrialsService:
    return TrialsService(CtgovClient(http), cache, config or TrialsConfig(), clock)


_PHRASE = re.compile(r'AREA\[EligibilityCriteria\]\("([^"]+)"')


def synthetic_mutation_page(query_term: str) -> dict[str, Any]:
    """A one-study /studies page for a mutation phrase search, in the recorded shape, whose
    eligibility text names the mutation (the first phrase of its OR group) under inclusion
    criteria (eligibility included, as a live page asked for EligibilityCriteria carries it)."""
    found = _PHRASE.search(query_term)
    mutation = found.group(1) if found else "unknown"
    number = int(hashlib.sha256(mutation.encode()).hexdigest()[:7], 16) % 10**8
    return {
        "studies": [
            {
                "protocolSection": {
                    "identificationModule": {
                        "nctId": f"NCT{number:08d}",
                        "briefTitle": f"Targeted therapy for {mutation}",
                    },
                    "statusModule": {"overallStatus": "RECRUITING", "startDateStruct": {"date": "2026-01-05"}},
                    "conditionsModule": {"conditions": ["Non-small Cell Lung Cancer"]},
                    "designModule": {
                        "studyType": "INTERVENTIONAL",
                        "phases": ["PHASE2"],
                        "enrollmentInfo": {"count": 40},
                    },
                    "eligibilityModule": {
                        "eligibilityCriteria": f"Inclusion Criteria:\n\n* Documented {mutation} mutation\n\n"
                        "Exclusion Criteria:\n\n* Pregnancy",
                        "minimumAge": "18 Years",
                    },
                }
            }
        ],
        "totalCount": 1,
    }


def mcp_server(service: TrialsService) -> MCPServer:
    """An MCPServer with the clinical-trial tools over Services holding ``service``."""
    return server_for("trials-test", TOOLS, trials=service)
