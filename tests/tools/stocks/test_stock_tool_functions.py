"""The five stock tools called as plain functions with Services (no MCP), over the replay routes.

Clock: Friday 2026-09-04 14:00 Taipei, after the close of the last recorded trading day.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from cache.engine.tiered import TieredCache
from tests.support.clock import ManualClock
from tests.support.services import services_for
from tests.support.stocks import Harness
from tools.freshness import CacheInfo
from tools.services import Services
from tools.stocks.analysis_models import StockAnalysis
from tools.stocks.models import MarketOverview, PriceHistory, QuoteBatch, StockInfo
from tools.stocks.tools import analyze_stock, get_market_overview, get_price_history, get_stock_info, get_stock_quote


@pytest.fixture
async def services(harness: Harness, cache: TieredCache, clock: ManualClock) -> AsyncIterator[Services]:
    async with services_for(stocks=harness.service, cache=cache, clock=clock) as built:
        yield built


async def test_quote_and_its_failures(services: Services) -> None:
    batch = await get_stock_quote(services, ["2330", "NOSUCH"])
    assert isinstance(batch, QuoteBatch)
    assert [quote.symbol for quote in batch.quotes] == ["2330"] and batch.quotes[0].market == "TWSE"
    # Friday after the close: fresh until Monday's open (67 h; holidays are known, so no cap)
    assert batch.quotes[0].cache == CacheInfo(hit=False, age_seconds=0.0, stale=False, fresh_for_seconds=241_200.0)
    assert [error.symbol for error in batch.errors] == ["NOSUCH"]
    assert batch.failures() == [f"NOSUCH: {batch.errors[0].error}"]


async def test_history_info_analysis_and_overview(services: Services, clock: ManualClock) -> None:
    history = await get_price_history(services, "2330", start_date=date(2026, 8, 1), end_date=date(2026, 9, 4))
    assert isinstance(history, PriceHistory) and len(history.bars) == 25 and history.months_requested == 2
    clock.advance(1.25)
    again = await get_price_history(services, "2330", start_date=date(2026, 8, 1), end_date=date(2026, 9, 4))
    # the range reaches the current month: the open month's 600 s, 1.25 s of them gone
    assert again.cache == CacheInfo(hit=True, tier="memory", age_seconds=1.25, stale=False, fresh_for_seconds=598.75)
    info = await get_stock_info(services, "6488")
    assert isinstance(info, StockInfo) and (info.name, info.market) == ("環球晶", "TPEx")
    analysis = await analyze_stock(services, "2330", days=3)
    assert isinstance(analysis, StockAnalysis)
    assert [day.date for day in analysis.signals] == [date(2026, 9, 2), date(2026, 9, 3), date(2026, 9, 4)]
    overview = await get_market_overview(services)
    assert isinstance(overview, MarketOverview) and [index.code for index in overview.indices] == ["t00", "o00"]
    assert not overview.trading_now


async def test_typed_failures_become_tool_errors(services: Services) -> None:
    with pytest.raises(ToolError, match="end_date"):
        await get_price_history(services, "2330", start_date=date(2026, 9, 1), end_date=date(2026, 8, 1))
    with pytest.raises(ToolError, match="NOSUCH"):
        await get_stock_info(services, "NOSUCH")
