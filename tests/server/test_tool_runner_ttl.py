"""ToolRunner with a warming strategy's TTL: the real tool's value is stored under those TTLs."""

from __future__ import annotations

from pathlib import Path

from cache.warming import TtlOverride, WarmOutcome
from server.app import build_app
from server.settings import Settings
from server.tool_runner import ToolRunner
from server.toolset import TOOLS
from tests.support.recorded_upstream import ctgov_upstream


async def test_a_ttl_override_reaches_the_stored_record(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, sqlite_path=str(tmp_path / "cache.sqlite3"))
    app = build_app(settings, transports={"ctgov": ctgov_upstream().transport()}, role="cli")
    async with app.lifespan(app.mcp) as state:
        runner = ToolRunner(state.services, TOOLS)
        warmed = await runner("get_trial", {"nct_id": "NCT02576665"}, ttl=TtlOverride(7200.0, 90_000.0))
        plain = await runner("get_trial", {"nct_id": "NCT06382129"})
        assert (warmed, plain) == (WarmOutcome.warmed(), WarmOutcome.warmed())
        memory = state.services.cache.memory
        lifetimes = {}
        for key in memory.match_now("trials.record:*"):
            entry = state.services.cache.peek(key)
            assert entry is not None
            lifetimes[entry.value["record"]["nct_id"]] = (  # a record and its cuts
                entry.fresh_until - entry.created_at,
                entry.stale_until - entry.created_at,
            )
    assert lifetimes["NCT02576665"] == (7200.0, 90_000.0)
    config = settings.cache
    assert lifetimes["NCT06382129"] == (config.trials_record_fresh, config.trials_record_stale)
