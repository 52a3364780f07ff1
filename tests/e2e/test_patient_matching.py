"""find_trials_for_patient end to end: the official MCP client -> build_server -> the replay
upstream on 127.0.0.1 (the recorded EGFR search and a synthesised 73-trial cohort paged as the
API pages); the recorded patient query, the cursor walked to the end, refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mcp import Client

from server.app import build_server
from tests.support.replay import ReplayServer
from tests.support.replay_routes import cohorts
from tests.support.trials_e2e import settings_for, size, text_of
from tools.budget import RECORD_BUDGET

HOUSTON = {"latitude": 29.7604, "longitude": -95.3698, "radius": 50}
WOMAN_58 = {"mutations": ["EGFR L858R"], "age": 58, "sex": "female", "near": HOUSTON}


async def test_the_recorded_patient_and_a_cursor_to_the_end(replay: ReplayServer, tmp_path: Path) -> None:
    shown: list[str] = []
    async with Client(build_server(settings_for(replay, tmp_path))) as client:
        first = await client.call_tool(
            "find_trials_for_patient", {"condition": "non-small cell lung cancer", **WOMAN_58}
        )
        args: dict[str, Any] = {"condition": cohorts.COHORT_CONDITION, **WOMAN_58, "page_size": 20}
        while True:
            page = await client.call_tool("find_trials_for_patient", args)
            assert not page.is_error, page.content
            data = page.structured_content
            assert data is not None and size(data) <= RECORD_BUDGET
            shown += [m["nct_id"] for m in data["matches"]] + [e["nct_id"] for e in data.get("excluded", [])]
            if "next_page_token" not in data:
                break
            args["page_token"] = data["next_page_token"]
    assert not first.is_error, first.content
    found = first.structured_content
    assert found is not None and [m["nct_id"] for m in found["matches"]] == ["NCT06604689"]
    assert [e["nct_id"] for e in found["excluded"]] == ["NCT06382129"]
    assert {r["check"]: r["fit"] for r in found["matches"][0]["reasons"]}["mutation"] == "yes"
    assert len(shown) == len(set(shown)) == cohorts.COHORT_SIZE
    assert len(replay.log("/api/v2/studies")) == 3  # the EGFR search, then the cohort's two upstream pages


async def test_refusals_are_structured(replay: ReplayServer, tmp_path: Path) -> None:
    async with Client(build_server(settings_for(replay, tmp_path))) as client:
        misspelt = await client.call_tool("find_trials_for_patient", {"condition": "nsclc", "gender": "female"})
        no_condition = await client.call_tool("find_trials_for_patient", {"age": 58})
        bad_sex = await client.call_tool("find_trials_for_patient", {"condition": "nsclc", "sex": "f"})
        bad_token = await client.call_tool("find_trials_for_patient", {"condition": "nsclc", "page_token": "t1.x"})
    for result in (misspelt, no_condition, bad_sex, bad_token):
        assert result.is_error and result.structured_content is not None
        assert result.structured_content["error"]["kind"] == "invalid_argument"
    assert "gender" in text_of(misspelt) and "condition" in text_of(no_condition)
    assert "sex" in text_of(bad_sex) and "page_token" in text_of(bad_token)
    assert replay.log("/api/v2/studies") == []


async def test_a_cursor_given_with_another_patient_search_is_refused(replay: ReplayServer, tmp_path: Path) -> None:
    args: dict[str, Any] = {"condition": cohorts.COHORT_CONDITION, **WOMAN_58, "page_size": 10}
    async with Client(build_server(settings_for(replay, tmp_path))) as client:
        first = await client.call_tool("find_trials_for_patient", args)
        assert first.structured_content is not None
        token = first.structured_content["next_page_token"]
        other_condition = await client.call_tool(
            "find_trials_for_patient", {**args, "condition": "non-small cell lung cancer", "page_token": token}
        )
        other_age = await client.call_tool("find_trials_for_patient", {**args, "age": 40, "page_token": token})
        same = await client.call_tool("find_trials_for_patient", {**args, "page_size": 20, "page_token": token})
    for refused in (other_condition, other_age):
        assert refused.is_error and refused.structured_content is not None
        assert refused.structured_content["error"]["kind"] == "invalid_argument"
        assert "'page_token'" in text_of(refused)
        assert "other arguments (condition, mutations, age, sex, near or statuses)" in text_of(refused)
    assert not same.is_error, same.content
    assert same.structured_content is not None and same.structured_content["matches"]
    assert len(replay.log("/api/v2/studies")) == 1  # the refusals asked nothing upstream; the rest was cached
