"""The whole product through the real MCP client: build_server + the replay upstream.

In-memory (``mcp.Client(server)``) and over stdio (console script talking to a replay process).
"""

from __future__ import annotations

from pathlib import Path

import httpx
from mcp import Client, StdioServerParameters

from server.app import build_server
from server.settings import Settings
from tests.support.console_script import CONSOLE_SCRIPT, server_env, upstream_env
from tests.support.replay import ReplayServer

FAST = {
    "ctgov_rate": "1000/1",
    "twse_rate": "1000/1",
    "mis_rate": "1000/1",
    "tpex_rate": "1000/1",
    "yahoo_rate": "1000/1",
}


def settings_for(replay: ReplayServer, tmp_path: Path) -> Settings:
    root = replay.base_url()
    return Settings(
        _env_file=None,
        sqlite_path=str(tmp_path / "cache.sqlite3"),
        ctgov_base_url=replay.base_url("ctgov"),
        twse_base_url=root,
        tpex_base_url=root,
        mis_base_url=root,
        yahoo_base_url=root,
        upstreams=FAST,
    )


async def test_search_is_cached_and_survives_a_restart(replay: ReplayServer, tmp_path: Path) -> None:
    settings = settings_for(replay, tmp_path)
    args = {"condition": "melanoma", "statuses": ["RECRUITING"], "page_size": 3}
    async with Client(build_server(settings)) as client:
        first = await client.call_tool("search_trials", args)
        upstream_calls = replay.count("/api/v2/studies")
        second = await client.call_tool("search_trials", args)
    assert not first.is_error and not second.is_error, first.content
    assert first.structured_content["cache"]["hit"] is False
    assert second.structured_content["cache"] == {**second.structured_content["cache"], "hit": True, "tier": "memory"}
    assert replay.count("/api/v2/studies") == upstream_calls  # the second call made no request
    assert first.structured_content["trials"] == second.structured_content["trials"]

    async with Client(build_server(settings)) as client:  # a new process-worth of state: memory is empty
        third = await client.call_tool("search_trials", args)
    assert third.structured_content["cache"]["tier"] == "sqlite"
    assert replay.count("/api/v2/studies") == upstream_calls


async def test_trial_stock_and_status_through_one_server(replay: ReplayServer, tmp_path: Path) -> None:
    async with Client(build_server(settings_for(replay, tmp_path))) as client:
        trial = await client.call_tool("get_trial", {"nct_id": "NCT04280705"})
        quote = await client.call_tool("get_stock_quote", {"symbols": ["2330"]})
        missing = await client.call_tool("get_trial", {"nct_id": "NCT99999999"})
        status = await client.call_tool("service_status", {})
        stats = await client.read_resource("cache://stats")
    assert not trial.is_error, trial.content
    assert trial.structured_content["trial"]["nct_id"] == "NCT04280705"
    assert not quote.is_error, quote.content
    assert quote.structured_content["quotes"][0]["symbol"] == "2330"
    assert missing.is_error and "NCT99999999" in missing.content[0].text
    upstreams = {u["name"]: u for u in status.structured_content["upstreams"]}
    assert upstreams["ctgov"]["total_requests"] >= 2 and upstreams["ctgov"]["circuit"] == "closed"
    assert '"namespaces"' in stats.contents[0].text


async def test_tools_over_stdio_against_a_replay_process(replay_process: str, tmp_path: Path) -> None:
    env = server_env(tmp_path, **upstream_env(replay_process))
    params = StdioServerParameters(command=CONSOLE_SCRIPT, args=["serve"], env=env)
    async with Client(params, read_timeout_seconds=60) as client:
        found = await client.call_tool("search_trials_by_mutation", {"mutation": "EGFR L858R"})
        history = await client.call_tool(
            "get_price_history", {"symbol": "2330", "start_date": "2026-08-01", "end_date": "2026-08-31"}
        )
    assert not found.is_error, found.content
    assert [m["trial"]["nct_id"] for m in found.structured_content["matches"]] == ["NCT06604689"]
    assert "NCT06382129" in [t["nct_id"] for t in found.structured_content["excluded"]]
    assert not history.is_error, history.content
    assert len(history.structured_content["bars"]) == 21
    stats = httpx.get(f"{replay_process}/__replay__/stats").json()
    assert stats  # the requests went to the replay process, nowhere else
