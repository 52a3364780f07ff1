"""The trial tools' agent contract through the whole product: build_server + the replay upstream.

Bounded answers whose cuts really continue, forgiving values with did-you-mean errors, and a
lean catalog for the seven trial tools.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mcp import Client

from server.app import build_server
from tests.support.fixtures import load_json
from tests.support.replay import ReplayServer
from tests.support.trials_e2e import settings_for, size, text_of
from tools.budget import EXPLICIT_BUDGET, RECORD_BUDGET
from tools.clinical_trials.tools import TOOLS
from tools.registry import tool_name

TRIAL_TOOLS = tuple(tool_name(fn) for fn, _ in TOOLS)  # the trial tools, in published order
# Model-visible bytes of the seven trial tools together: name + description + input schema of
# each, compact JSON, as tools/list publishes them (what an agent reads to choose and call a
# tool; output schemas are not counted). Measured 8,962 B (benchmarks.contract_sizes, same
# measure): the four search tools carrying the 18 shared filters and sort are about 2/3 of it.
# Little headroom on purpose: a longer description must be paid for by a shorter one.
CATALOG_BUDGET = 9_000
BARE_FILTERS = ("search_trials_by_mutation", "search_trials_for_mutations", "count_trials")


async def test_trial_answers_are_bounded_and_their_cuts_continue(replay: ReplayServer, tmp_path: Path) -> None:
    results = load_json("ctgov/biomcp_studies_page_nct04280705_with_results.json")["studies"][0]["resultsSection"]
    async with Client(build_server(settings_for(replay, tmp_path))) as client:
        record = await client.call_tool("get_trial", {"nct_id": "4280705"})
        full = await client.call_tool("get_trial", {"nct_id": "nct04280705", "sections": ["results"]})
        assert not full.is_error, full.content
        cut = next(c for c in full.structured_content["cuts"] if c["list"].startswith("resultsSection."))
        rest = await client.call_tool("get_trial", {"nct_id": "NCT04280705", "sections": ["results"], **cut["next"]})
    assert not record.is_error, record.content
    data = record.structured_content
    assert data["trial"]["nct_id"] == "NCT04280705" and size(data) <= RECORD_BUDGET
    assert {c["list"] for c in data["cuts"]} >= {"trial.secondary_outcomes", "trial.locations.shown"}
    assert size(full.structured_content) <= EXPLICIT_BUDGET and full.structured_content["truncated"] is True
    whole: Any = {"resultsSection": results}
    for key in cut["list"].split("."):
        whole = whole[key]
    shown = full.structured_content["sections"]["results"]
    for key in cut["list"].split(".")[1:]:
        shown = shown[key]
    assert shown == whole[: cut["returned"]]
    assert (
        rest.structured_content["part"][: len(whole) - cut["returned"]]
        == whole[cut["returned"] :][: len(rest.structured_content["part"])]
    )
    assert rest.structured_content["path"] == cut["list"] and size(rest.structured_content) <= EXPLICIT_BUDGET


async def test_forgiving_values_and_clear_refusals(replay: ReplayServer, tmp_path: Path) -> None:
    async with Client(build_server(settings_for(replay, tmp_path))) as client:
        found = await client.call_tool(
            "search_trials", {"condition": "melanoma", "statuses": "Recruiting", "page_size": 3}
        )
        typo = await client.call_tool("search_trials", {"condition": "melanoma", "statuses": ["RECRUITNG"]})
        phase = await client.call_tool("count_trials", {"condition": "melanoma", "phases": ["phase 5"]})
        bad_id = await client.call_tool("get_trial", {"nct_id": "NCT123"})
        bad_path = await client.call_tool(
            "get_trial", {"nct_id": "NCT04280705", "path": "resultsSection.adverseEvents"}
        )
        bad_token = await client.call_tool("search_trials", {"condition": "melanoma", "page_token": "garbage"})
    assert not found.is_error, found.content
    assert found.structured_content["total_count"] == 480 and found.structured_content["cache"]["hit"] is False
    assert "statuses" in text_of(typo) and "did you mean 'RECRUITING'?" in text_of(typo)
    assert "phases" in text_of(phase) and "unknown phase 'phase 5'" in text_of(phase)
    assert "nct_id" in text_of(bad_id) and "expected 'NCT' and 8 digits" in text_of(bad_id)
    assert "'path'" in text_of(bad_path) and "adverseEventsModule" in text_of(bad_path)
    assert "'page_token'" in text_of(bad_token) and "pass next_page_token" in text_of(bad_token)


async def test_the_trial_catalog_is_lean_and_honest(replay: ReplayServer, tmp_path: Path) -> None:
    async with Client(build_server(settings_for(replay, tmp_path))) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    visible = {
        name: size({"name": name, "description": tools[name].description, "inputSchema": tools[name].input_schema})
        for name in TRIAL_TOOLS
    }
    assert sum(visible.values()) <= CATALOG_BUDGET, visible
    for name in TRIAL_TOOLS:
        schema = json.dumps(tools[name].input_schema)
        assert '"anyOf"' not in schema and '"default": null' not in schema and "$defs" not in schema, name
        if name in BARE_FILTERS:  # the shared filters are described once, in search_trials
            assert "description" not in tools[name].input_schema["properties"]["condition"]
            assert "filters" in (tools[name].description or "") and "search_trials" in (tools[name].description or "")
    assert "description" in tools["search_trials"].input_schema["properties"]["statuses"]
    assert tools["get_trial"].input_schema["required"] == ["nct_id"]
    assert {"path", "offset", "sections"} <= set(tools["get_trial"].input_schema["properties"])
    assert tools["get_trial_results"].input_schema["required"] == ["nct_id"]
    assert set(tools["get_trial_results"].input_schema["properties"]["part"]["enum"]) == {
        "outcomes",
        "serious_events",
        "other_events",
    }
    assert tools["find_trials_for_patient"].input_schema["required"] == ["condition"]
    assert "'open'" in (tools["find_trials_for_patient"].description or "")
