"""get_trial with ``sites`` end to end: the official MCP client -> build_server -> the replay
upstream on 127.0.0.1 serving a synthesised study with 600 sites; every page within budget, one
upstream read, the cuts walked to the end; bad arguments refused by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mcp import Client

from server.app import build_server
from tests.support.replay import ReplayServer
from tests.support.replay_routes import cohorts
from tests.support.trials_e2e import settings_for, size
from tools.budget import RECORD_BUDGET


async def test_six_hundred_sites_through_the_mcp_client(replay: ReplayServer, tmp_path: Path) -> None:
    seen: list[str] = []
    args: dict[str, Any] = {"nct_id": cohorts.MANY_SITES, "sites": {"near": {"latitude": 29.76, "longitude": -95.37}}}
    async with Client(build_server(settings_for(replay, tmp_path))) as client:
        while True:
            result = await client.call_tool("get_trial", args)
            assert not result.is_error, result.content
            data = result.structured_content
            assert data is not None and size(data) <= RECORD_BUDGET
            assert data["sites"]["offset"] == len(seen)
            seen += [site["facility"] for site in data["sites"]["sites"]]
            if "cuts" not in data:
                break
            args = {"nct_id": cohorts.MANY_SITES, **data["cuts"][0]["next"]}
        bad = await client.call_tool("get_trial", {"nct_id": cohorts.MANY_SITES, "sites": {"zipcode": "77030"}})
    assert len(seen) == len(set(seen)) == cohorts.MANY_SITES_COUNT
    assert seen[0].startswith("Baylor College of Medicine")
    assert len(replay.log(f"/api/v2/studies/{cohorts.MANY_SITES}")) == 1
    assert bad.is_error and bad.structured_content is not None
    assert bad.structured_content["error"]["kind"] == "invalid_argument"
