"""Registration rules shared by every tool module, and the one freshness model."""

from __future__ import annotations

import pytest
from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel

from cache.policy import CacheMeta
from tools.clinical_trials.tools import TOOLS as TRIAL_TOOLS
from tools.freshness import CacheInfo, cache_infos
from tools.registry import READ_ONLY, ToolContext, register_all
from tools.stocks.models import Quote, QuoteBatch
from tools.stocks.tools import TOOLS as STOCK_TOOLS


class Answer(BaseModel):
    value: int


async def no_context(value: int) -> Answer:
    return Answer(value=value)


async def context_first(ctx: ToolContext, value: int) -> Answer:
    return Answer(value=value)


def test_every_tool_takes_the_tool_context_first() -> None:
    server = MCPServer("registry-test")
    register_all(server, [*TRIAL_TOOLS, *STOCK_TOOLS, (context_first, READ_ONLY)])
    with pytest.raises(TypeError, match="no_context"):
        register_all(server, [(no_context, READ_ONLY)])


def test_one_rounding_and_one_null_rule() -> None:
    fetched = CacheInfo.from_meta(CacheMeta(hit=False, tier=None, age=0.0, stale=False, fresh_for=600.0))
    assert fetched.model_dump(mode="json") == {
        "hit": False,
        "age_seconds": 0.0,
        "stale": False,
        "fresh_for_seconds": 600.0,
    }
    hit = CacheInfo.from_meta(CacheMeta(hit=True, tier="sqlite", age=12.34567, stale=True))
    assert hit.model_dump(mode="json") == {
        "hit": True,
        "tier": "sqlite",
        "age_seconds": 12.346,
        "stale": True,
        "fresh_for_seconds": 0.0,
    }
    months = [
        CacheMeta(hit=True, tier="memory", age=3.0, stale=False, fresh_for=12.0004),
        CacheMeta(hit=False, tier=None, age=0.0, stale=False, fresh_for=3600.0),
    ]
    combined = CacheInfo(hit=False, tier="mixed", age_seconds=3.0, stale=False, fresh_for_seconds=12.0)
    assert CacheInfo.combine(months) == combined
    assert CacheInfo.combine([]) == CacheInfo(hit=False, age_seconds=0.0, stale=False)


def test_cache_infos_finds_every_item_of_a_batch() -> None:
    fresh = CacheInfo(hit=True, tier="memory", age_seconds=1.0, stale=False)
    quotes = [Quote(symbol=s, market="TWSE", price=1.0, price_source="last_trade", cache=fresh) for s in ("1", "2")]
    assert list(cache_infos(QuoteBatch(quotes=quotes))) == [fresh, fresh]
