"""End to end: MCP client -> tools -> service -> HTTP layer -> the replay server on 127.0.0.1,
with a memory + SQLite cache that survives a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from mcp import Client

from cache.backends.sqlite import SqliteBackend
from tests.support.clock import ManualClock
from tests.support.engine import bounded_memory, build_engine
from tests.support.fixtures import load_json
from tests.support.replay import ReplayServer
from tests.support.trials import build_service, mcp_server
from tools.clinical_trials.service import TrialsService
from tools.http.config import HttpPolicy
from tools.http.factory import build_upstream

STUDIES = "/api/v2/studies"
RECEIPTS = {
    e["path"].split("/")[-1]: e["receipt"]["request"]
    for e in load_json("ctgov/biomcp_capture_receipts_ctgov.json")["entries"]
}


@asynccontextmanager
async def running(replay: ReplayServer, db: Path, clock: ManualClock) -> AsyncIterator[TrialsService]:
    """One server process worth of objects: HTTP client, memory + SQLite cache, service."""
    http = build_upstream(
        "ctgov", replay.base_url("ctgov"), policy=HttpPolicy(), rate=None, user_agent="trialstock-test/1"
    )
    sqlite = await SqliteBackend.open(db, clock=clock)
    cache = build_engine(bounded_memory(clock), sqlite=sqlite, clock=clock)  # closed below, with the process
    service = build_service(http, cache, clock)
    try:
        yield service
    finally:
        await service.aclose()
        await cache.aclose()
        await http.aclose()


async def call(service: TrialsService, name: str, args: dict[str, Any]) -> dict[str, Any]:
    async with Client(mcp_server(service)) as client:
        result = await client.call_tool(name, args)
    assert not result.is_error, result.content
    return result.structured_content


def sent(replay: ReplayServer, path: str = STUDIES) -> list[dict[str, str]]:
    return [dict(parse_qsl(entry.query, keep_blank_values=True)) for entry in replay.log(path)]


async def test_repeat_search_hits_memory_then_sqlite_after_a_restart(replay: ReplayServer, tmp_path: Path) -> None:
    clock = ManualClock(1_800_000_000.0)
    args = {"condition": "Phelan-McDermid Syndrome", "page_size": 5}
    async with running(replay, tmp_path / "c.db", clock) as service:
        first = await call(service, "search_trials", args)
        clock.advance(30)
        second = await call(service, "search_trials", args)
    assert replay.count(STUDIES) == 1
    assert first["cache"]["hit"] is False and second["cache"] == {
        "hit": True,
        "tier": "memory",
        "age_seconds": 30.0,
        "fresh_for_seconds": 3570.0,
        "stale": False,
    }
    clock.advance(30)
    async with running(replay, tmp_path / "c.db", clock) as restarted:
        third = await call(restarted, "search_trials", args)
        fourth = await call(restarted, "search_trials", args)
    assert replay.count(STUDIES) == 1
    assert third["cache"] == {
        "hit": True,
        "tier": "sqlite",
        "age_seconds": 60.0,
        "stale": False,
        "fresh_for_seconds": 3540.0,
    }
    assert fourth["cache"]["tier"] == "memory"  # promoted
    assert third["trials"] == first["trials"] and third["next_page_token"] == first["next_page_token"]


async def test_paging_reproduces_the_recorded_requests(replay: ReplayServer, tmp_path: Path) -> None:
    async with running(replay, tmp_path / "c.db", ManualClock(1_800_000_000.0)) as service:
        first = await call(service, "search_trials", {"condition": "Phelan-McDermid Syndrome", "page_size": 5})
        second = await call(
            service,
            "search_trials",
            {"condition": "Phelan-McDermid Syndrome", "page_size": 5, "page_token": first["next_page_token"]},
        )
    assert [t["nct_id"] for t in second["trials"]][0] == "NCT05187377" and "total_count" not in second
    for params, receipt in zip(
        sent(replay), ("search_phelan_limit5_20260811.json", "search_phelan_next_20260811.json"), strict=True
    ):
        recorded = dict(parse_qsl(urlsplit(RECEIPTS[receipt]).query))
        assert {k: v for k, v in params.items() if k != "fields"} == {
            k: v for k, v in recorded.items() if k != "fields"
        }
        assert set(recorded["fields"].split(",")) <= set(params["fields"].split(","))


async def test_egfr_l858r_end_to_end(replay: ReplayServer, tmp_path: Path) -> None:
    async with running(replay, tmp_path / "c.db", ManualClock(1_800_000_000.0)) as service:
        data = await call(
            service,
            "search_trials_by_mutation",
            {"mutation": "EGFR L858R", "condition": "non-small cell lung cancer", "page_size": 50},
        )
        record = await call(service, "get_trial", {"nct_id": "NCT06382129"})
    assert [m["trial"]["nct_id"] for m in data["matches"]] == ["NCT06604689"]
    assert data["matches"][0]["found_in"] == ["inclusion"]
    assert [e["nct_id"] for e in data["excluded"]] == ["NCT06382129"] and data["excluded_count"] == 1
    assert replay.count(f"{STUDIES}/NCT06382129") == 2  # eligibility read, then the record (other fields)
    exclusion = record["trial"]["eligibility"]["exclusion"]
    assert any("EGFR L858R" in item for item in exclusion)
    assert not any("EGFR L858R" in item for item in record["trial"]["eligibility"]["inclusion"])


def test_the_study_recorded_with_every_field_is_narrowed_to_the_fields_asked_for(replay: ReplayServer) -> None:
    """As the API does: a record's request gets its protocol section and hasResults (~50 KB of
    the 212 KB study), a piece the replay cannot place gets the whole study, no fields all."""
    url = f"{replay.url}{STUDIES}/NCT04280705"
    whole = httpx.get(url).json()
    record = httpx.get(url, params={"fields": "ProtocolSection,HasResults"}).json()
    results = httpx.get(url, params={"fields": "NCTId,BriefTitle,HasResults,ResultsSection"}).json()
    assert set(whole) > {"protocolSection", "resultsSection", "derivedSection", "hasResults"}
    assert record == {"protocolSection": whole["protocolSection"], "hasResults": whole["hasResults"]}
    identification = whole["protocolSection"]["identificationModule"]
    assert results["protocolSection"] == {
        "identificationModule": {"nctId": identification["nctId"], "briefTitle": identification["briefTitle"]}
    }
    assert results["resultsSection"] == whole["resultsSection"] and set(results) == {
        "protocolSection",
        "hasResults",
        "resultsSection",
    }
    assert httpx.get(url, params={"fields": "InterventionName"}).json() == whole
