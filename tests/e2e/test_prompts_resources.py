"""Prompts and resource templates through the real MCP client, against the replay upstream:
in memory (``mcp.Client(build_server(settings))``) and over stdio with the console script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from server.app import build_server
from tests.support.console_script import CONSOLE_SCRIPT, server_env, upstream_env
from tests.support.load import fault_settings
from tests.support.replay import ReplayServer

RECORD_PATH = "/api/v2/studies/NCT04280705"


async def test_prompts_are_listed_and_rendered(replay: ReplayServer, tmp_path: Path) -> None:
    async with Client(build_server(fault_settings(replay.url, tmp_path))) as client:
        listed = (await client.list_prompts()).prompts
        match = await client.get_prompt(
            "match_patient_to_trials", {"condition": "lung cancer", "mutation": "EGFR L858R", "location": "Taiwan"}
        )
        summary = await client.get_prompt("summarise_trial", {"nct_id": "NCT06604689"})
        with pytest.raises(MCPError) as bad_id:
            await client.get_prompt("summarise_trial", {"nct_id": "NCT1"})
        with pytest.raises(MCPError) as missing:
            await client.get_prompt("technical_read_of_stock", {})
    assert [p.name for p in listed] == ["match_patient_to_trials", "summarise_trial", "technical_read_of_stock"]
    assert match.messages[0].role == "user"
    assert 'search_trials_by_mutation(mutation="EGFR L858R"' in match.messages[0].content.text  # type: ignore[union-attr]
    assert 'get_trial(nct_id="NCT06604689")' in summary.messages[0].content.text  # type: ignore[union-attr]
    assert (bad_id.value.code, missing.value.code) == (INVALID_PARAMS, INVALID_PARAMS)
    assert "'nct_id'" in bad_id.value.message and "'symbol': required" in missing.value.message


async def test_a_trial_resource_shares_the_tools_cache(replay: ReplayServer, tmp_path: Path) -> None:
    async with Client(build_server(fault_settings(replay.url, tmp_path))) as client:
        templates = (await client.list_resource_templates()).resource_templates
        read = await client.read_resource("trial://NCT04280705")
        fetched = replay.count(RECORD_PATH)
        tool = await client.call_tool("get_trial", {"nct_id": "NCT04280705"})
        again = await client.read_resource("trial://nct04280705")  # the tool's normalisation: same key
    assert {t.uri_template: t.mime_type for t in templates} == {
        "trial://{nct_id}": "application/json",
        "stock://{symbol}/history/{month}": "application/json",
    }
    content = read.contents[0]
    assert content.mime_type == "application/json"
    record = json.loads(content.text)  # type: ignore[union-attr]
    assert content.text.startswith('{"trial":{"nct_id":"NCT04280705",')  # type: ignore[union-attr]
    assert record["trial"]["nct_id"] == "NCT04280705" and record["cache"]["hit"] is False
    assert fetched == 1 and replay.count(RECORD_PATH) == 1  # neither the tool nor the second read went upstream
    assert not tool.is_error and tool.structured_content["cache"]["hit"] is True
    assert tool.structured_content["trial"] == record["trial"]
    assert json.loads(again.contents[0].text)["cache"]["hit"] is True  # type: ignore[union-attr]


async def test_a_stock_month_resource_is_that_months_bars(replay: ReplayServer, tmp_path: Path) -> None:
    async with Client(build_server(fault_settings(replay.url, tmp_path))) as client:
        read = await client.read_resource("stock://2330/history/2026-08")
        tool = await client.call_tool(
            "get_price_history", {"symbol": "2330", "start_date": "2026-08-01", "end_date": "2026-08-31"}
        )
    history = json.loads(read.contents[0].text)  # type: ignore[union-attr]
    assert (history["symbol"], history["start"], history["end"]) == ("2330", "2026-08-01", "2026-08-31")
    assert len(history["bars"]) == 21 and all(bar["date"].startswith("2026-08") for bar in history["bars"])
    assert tool.structured_content["cache"]["hit"] is True and tool.structured_content["bars"] == history["bars"]


@pytest.mark.parametrize(
    "uri, says",
    [
        ("trial://NCT99999999", "no trial NCT99999999"),
        ("trial://NCT123", "nct_id"),
        ("stock://2330/history/2026-13", "month '2026-13' is not a calendar month written yyyy-mm"),
        ("stock://2330/history/2099-01", "month 2099-01 is in the future"),
        ("stock://9999/history/2026-08", "symbol '9999' is unknown"),
    ],
)
async def test_a_bad_resource_is_an_error_naming_what_was_wrong(
    replay: ReplayServer, tmp_path: Path, uri: str, says: str
) -> None:
    async with Client(build_server(fault_settings(replay.url, tmp_path))) as client:
        with pytest.raises(MCPError) as err:
            await client.read_resource(uri)
    assert err.value.code == INVALID_PARAMS
    assert says in err.value.message and "Traceback" not in err.value.message


async def test_a_trial_resource_over_stdio(replay_process: str, tmp_path: Path) -> None:
    env = server_env(tmp_path, **upstream_env(replay_process))
    params = StdioServerParameters(command=CONSOLE_SCRIPT, args=["serve"], env=env)
    async with Client(params, read_timeout_seconds=60) as client:
        read = await client.read_resource("trial://NCT04280705")
        with pytest.raises(MCPError) as err:
            await client.read_resource("trial://NCT99999999")
    record = json.loads(read.contents[0].text)  # type: ignore[union-attr]
    assert record["trial"]["nct_id"] == "NCT04280705" and read.contents[0].mime_type == "application/json"
    assert err.value.code == INVALID_PARAMS and "no trial NCT99999999" in err.value.message


async def test_cache_stats_filters_and_pages_through_the_client(replay: ReplayServer, tmp_path: Path) -> None:
    async with Client(build_server(fault_settings(replay.url, tmp_path))) as client:
        await client.read_resource("trial://NCT04280705")
        await client.read_resource("stock://2330/history/2026-08")
        trials = await client.call_tool("cache_stats", {"namespace": "trials"})
        everything = await client.call_tool("cache_stats", {})
        rest = await client.call_tool("cache_stats", {"offset": 1})
        unknown = await client.call_tool("cache_stats", {"namespace": "nope"})
    names = [entry["name"] for entry in everything.structured_content["namespaces"]]
    assert {entry["name"] for entry in trials.structured_content["namespaces"]} <= {
        n for n in names if n.startswith("trials.")
    }
    assert "trials.record" in names and any(name.startswith("stocks.") for name in names)
    assert [entry["name"] for entry in rest.structured_content["namespaces"]] == names[1:]
    assert "truncated" not in everything.structured_content
    assert unknown.is_error and "no namespace 'nope'" in unknown.content[0].text  # type: ignore[union-attr]
