"""get_trial_results end to end: the official MCP client -> build_server -> the replay upstream
on 127.0.0.1 serving the recorded ACTT study; the digest, its cuts, the cache, the errors."""

from __future__ import annotations

from pathlib import Path

from mcp import Client

from server.app import build_server
from tests.support.replay import ReplayServer
from tests.support.trials_e2e import settings_for, size, text_of
from tools.budget import RECORD_BUDGET

ACTT = "NCT04280705"


async def test_the_digest_through_the_mcp_client(replay: ReplayServer, tmp_path: Path) -> None:
    async with Client(build_server(settings_for(replay, tmp_path))) as client:
        first = await client.call_tool("get_trial_results", {"nct_id": "4280705"})
        assert not first.is_error, first.content
        data = first.structured_content
        cut = next(c for c in data["cuts"] if c["list"] == "outcomes")
        rest = await client.call_tool("get_trial_results", {"nct_id": ACTT, **cut["next"]})
        none = await client.call_tool("get_trial_results", {"nct_id": "NCT06604689"})
    assert size(data) <= RECORD_BUDGET and data["truncated"] is True and data["cache"]["hit"] is False
    primary = data["outcomes"][0]
    assert primary["title"] == "Time to Recovery" and primary["type"] == "PRIMARY"
    assert primary["analyses"][0]["p_value"] == "<0.001" and primary["analyses"][0]["method"] == "Log Rank"
    groups = {g["id"]: (g["serious_affected"], g["serious_at_risk"]) for g in data["adverse_events"]["groups"]}
    assert groups == {"EG000": (163, 516), "EG001": (131, 532)}
    assert not rest.is_error, rest.content
    page = rest.structured_content
    assert page["part"] == "outcomes" and page["cache"]["hit"] is True and size(page) <= RECORD_BUDGET
    assert page["outcomes"][0]["index"] == data["outcomes"][-1]["index"] + 1
    assert len(replay.log(f"/api/v2/studies/{ACTT}")) == 1
    assert not none.is_error and none.structured_content["has_results"] is False
    assert "no results posted" in none.structured_content["message"]


async def test_refusals_are_structured(replay: ReplayServer, tmp_path: Path) -> None:
    async with Client(build_server(settings_for(replay, tmp_path))) as client:
        bad_id = await client.call_tool("get_trial_results", {"nct_id": "NCT123"})
        missing = await client.call_tool("get_trial_results", {"nct_id": "NCT09999999"})
        bad_part = await client.call_tool("get_trial_results", {"nct_id": ACTT, "part": "adverse"})
        stray = await client.call_tool("get_trial_results", {"nct_id": ACTT, "offset": 2})
    kinds = {}
    for name, result in (("bad_id", bad_id), ("missing", missing), ("bad_part", bad_part), ("stray", stray)):
        assert result.is_error and result.structured_content is not None, name
        kinds[name] = result.structured_content["error"]["kind"]
    assert kinds == {
        "bad_id": "invalid_argument",
        "missing": "not_found",
        "bad_part": "invalid_argument",
        "stray": "invalid_argument",
    }
    assert "expected 'NCT' and 8 digits" in text_of(bad_id) and "no trial NCT09999999" in text_of(missing)
    assert "part" in text_of(bad_part) and "'offset'" in text_of(stray)
