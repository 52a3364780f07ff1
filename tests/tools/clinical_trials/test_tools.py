"""The five tools through a real MCP client (in-process) over the recorded upstream."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from mcp import Client

from tests.support.recorded_upstream import RecordedUpstream
from tests.support.trials import mcp_server
from tools.clinical_trials.service import TrialsService

# the published order of tools/list (tools.py and search_tools.py hold them; TOOLS orders them)
TOOLS = (
    "search_trials",
    "get_trial",
    "get_trial_results",
    "search_trials_by_mutation",
    "search_trials_for_mutations",
    "find_trials_for_patient",
    "count_trials",
)


async def call(service: TrialsService, name: str, args: dict[str, Any], **kwargs: Any) -> Any:
    async with Client(mcp_server(service)) as client:
        return await client.call_tool(name, args, **kwargs)


def error_text(result: Any) -> str:
    assert result.is_error
    return " ".join(block.text for block in result.content)


async def test_tools_are_listed_read_only_with_schemas(service: TrialsService) -> None:
    async with Client(mcp_server(service)) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert tuple(tools) == TOOLS
    for tool in tools.values():
        assert tool.annotations is not None
        assert (
            tool.annotations.read_only_hint,
            tool.annotations.idempotent_hint,
            tool.annotations.open_world_hint,
        ) == (True, True, True)
        assert tool.output_schema is not None and tool.description and "ctx" not in tool.input_schema["properties"]
    assert tools["get_trial"].input_schema["required"] == ["nct_id"]


async def test_search_returns_structured_compact_trials_under_8_kb(service: TrialsService) -> None:
    result = await call(service, "search_trials", {"condition": "melanoma", "statuses": ["recruiting"], "page_size": 3})
    assert not result.is_error
    data = result.structured_content
    assert data["total_count"] == 480 and len(data["trials"]) == 3 and data["next_page_token"]
    assert data["cache"] == {"hit": False, "age_seconds": 0.0, "stale": False, "fresh_for_seconds": 3600.0}
    assert data["trials"][0]["url"].startswith("https://clinicaltrials.gov/study/NCT")
    assert len(orjson.dumps(data)) < 8_000


async def test_get_trial_and_count(service: TrialsService) -> None:
    record = await call(service, "get_trial", {"nct_id": "nct04280705"})
    assert not record.is_error and record.structured_content["trial"]["nct_id"] == "NCT04280705"
    assert len(orjson.dumps(record.structured_content)) < 16_000
    counted = await call(service, "count_trials", {"intervention": '"Keytruda"'})
    assert counted.structured_content["total_count"] == 2924


@pytest.mark.parametrize(
    ("name", "args", "field"),
    [
        ("get_trial", {"nct_id": "NCT123"}, "nct_id"),
        ("search_trials", {"condition": "x", "statuses": ["BADSTATUS"]}, "statuses"),
        ("search_trials", {"condition": "x", "page_size": 0}, "page_size"),
        ("search_trials", {"condition": "x", "page_size": 1000}, "page_size"),
        ("search_trials", {}, "criteria"),
        ("count_trials", {"condition": "   "}, "criteria"),
        ("search_trials", {"condition": "x", "phases": ["PHASE5"]}, "phases"),
        ("search_trials_by_mutation", {"mutation": "EGFR [L858R]"}, "mutation"),
        ("search_trials_for_mutations", {"mutations": []}, "mutations"),
        ("get_trial", {"nct_id": "NCT04280705", "sections": ["everything"]}, "sections"),
    ],
)
async def test_invalid_input_is_rejected_before_any_request(
    service: TrialsService, upstream: RecordedUpstream, name: str, args: dict[str, Any], field: str
) -> None:
    text = error_text(await call(service, name, args))
    assert field in text
    assert not any(r.url.path.startswith("/api/v2/studies") for r in upstream.requests)


async def test_upstream_errors_become_actionable_tool_errors(
    service: TrialsService, upstream: RecordedUpstream
) -> None:
    assert "no trial NCT09999999 on ClinicalTrials.gov" in error_text(
        await call(service, "get_trial", {"nct_id": "NCT09999999"})
    )
    upstream.script(httpx.Response(400, text="Invalid value in parameter `overallStatus`: `BADSTATUS`"))
    rejected = error_text(await call(service, "search_trials", {"condition": "x", "statuses": ["RECRUITING"]}))
    assert "'statuses'" in rejected and "Invalid value in parameter `overallStatus`: `BADSTATUS`" in rejected
    upstream.script(httpx.Response(403, text="Forbidden"))
    assert "User-Agent" in error_text(await call(service, "search_trials", {"condition": "y"}))
    upstream.script(httpx.Response(200, text="<!DOCTYPE html><html>Service maintenance</html>"))
    assert "upstream fault" in error_text(await call(service, "search_trials", {"condition": "z"}))
    upstream.script(httpx.Response(503, text="down"))
    assert "retry" in error_text(await call(service, "count_trials", {"condition": "w"}))


async def test_mutation_tools_and_batch_progress(service: TrialsService) -> None:
    single = await call(
        service,
        "search_trials_by_mutation",
        {"mutation": "EGFR L858R", "condition": "non-small cell lung cancer", "page_size": 20},
    )
    data = single.structured_content
    assert [m["trial"]["nct_id"] for m in data["matches"]] == ["NCT06604689"]
    assert data["excluded_count"] == 1 and data["excluded"][0]["nct_id"] == "NCT06382129"
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    batch = await call(
        service,
        "search_trials_for_mutations",
        {"mutations": ["EGFR L858R", "ALK F1174L"], "condition": "non-small cell lung cancer", "page_size": 20},
        progress_callback=progress,
    )
    results = batch.structured_content["results"]
    assert [r["mutation"] for r in results] == ["EGFR L858R", "ALK F1174L"]
    assert results[0]["result"]["cache"]["hit"] is True  # the single search above was cached
    assert "no recorded response" in results[1]["error"]  # nothing recorded for ALK F1174L: its own error only
    assert batch.structured_content["succeeded"] == 1 and batch.structured_content["failed"] == 1
    assert sorted(done for done, _, _ in seen) == [1, 2] and {total for _, total, _ in seen} == {2}
