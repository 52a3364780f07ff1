"""The six stock tools through a real MCP client, the service talking HTTP to the replay server.

Replay data: recorded 2330/6488 months, MIS 2330 quote and Yahoo charts; the other months, the
6488 and index MIS entries are synthesised (tests/support/replay_routes/stocks.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

from cache.backends.sqlite import SqliteBackend
from cache.engine.tiered import TieredCache
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory
from tests.support.replay import ReplayServer
from tests.support.services import server_for
from tests.support.stocks import ONE_ATTEMPT, UPSTREAMS, taipei
from tools.http.client import UpstreamClient
from tools.http.factory import build_upstream
from tools.stocks.service import StocksService
from tools.stocks.tools import TOOLS as STOCK_TOOLS

STOCK_DAY = "/rwd/zh/afterTrading/STOCK_DAY"
TOOLS = {
    "get_stock_quote",
    "get_price_history",
    "get_stock_info",
    "analyze_stock",
    "compare_stocks",
    "get_market_overview",
    "get_institutional_flows",
    "get_margin_balance",
}


@asynccontextmanager
async def stocks_server(
    replay: ReplayServer, cache: TieredCache, clock: ManualClock, rates: dict[str, tuple[int, float]] | None = None
) -> AsyncIterator[MCPServer]:
    """An MCPServer over Services holding a stocks service over the replay upstream."""
    clients: dict[str, UpstreamClient] = {
        name: build_upstream(
            name, replay.base_url(name), policy=ONE_ATTEMPT, rate=(rates or {}).get(name), user_agent="test"
        )
        for name in UPSTREAMS
    }
    service = StocksService(**clients, cache=cache, clock=clock)
    server = server_for("stocks-test", STOCK_TOOLS, stocks=service, cache=cache, clock=clock)
    try:
        yield server
    finally:
        await service.aclose()
        for client in clients.values():
            await client.aclose()


async def call(server: MCPServer, name: str, args: dict[str, Any]) -> Any:
    async with Client(server) as client:
        return await client.call_tool(name, args)


def error_text(result: Any) -> str:
    assert result.is_error
    return " ".join(block.text for block in result.content)


def months_asked(replay: ReplayServer) -> list[str]:
    return [entry.query for entry in replay.log(STOCK_DAY)]


async def test_tools_listed_read_only(replay: ReplayServer, clock: ManualClock, cache: TieredCache) -> None:
    async with stocks_server(replay, cache, clock) as server, Client(server) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.annotations is not None and tool.annotations.read_only_hint and tool.annotations.idempotent_hint
        assert tool.output_schema is not None and "ctx" not in tool.input_schema.get("properties", {})
    assert tools["get_stock_quote"].input_schema["properties"]["symbols"]["maxItems"] == 30


async def test_quote_batch_over_http(replay: ReplayServer, clock: ManualClock, cache: TieredCache) -> None:
    async with stocks_server(replay, cache, clock) as server:
        result = await call(server, "get_stock_quote", {"symbols": ["2330", "6488", "AAPL", "9999"]})
    assert not result.is_error
    quotes = {quote["symbol"]: quote for quote in result.structured_content["quotes"]}
    assert quotes["2330"]["price_source"] == "bid_ask_mid" and quotes["2330"]["price"] == 848.5
    assert quotes["6488"]["market"] == "TPEx" and quotes["AAPL"]["currency"] == "USD"
    assert [error["symbol"] for error in result.structured_content["errors"]] == ["9999"]
    assert replay.count("/stock/api/getStockInfo.jsp") == 1  # 3 Taiwan codes x 2 prefixes: one request


async def test_one_year_history_then_restart_serves_closed_months_from_sqlite(
    replay: ReplayServer, tmp_path: Path, make_cache: CacheFactory
) -> None:
    clock = ManualClock(taipei(2026, 9, 4, 14, 0))
    args = {"symbol": "2330", "period": "1y"}
    first_cache = make_cache(sqlite=await SqliteBackend.open(tmp_path / "c.db", clock=clock), clock=clock)
    async with stocks_server(replay, first_cache, clock) as server:
        result = await call(server, "get_price_history", args)
    await first_cache.aclose()
    assert not result.is_error and result.structured_content["months_requested"] == 13
    assert len(months_asked(replay)) == 13  # 2025-09 .. 2026-09, each once

    clock.advance(700)  # "restart" 700 s later: only the open month (600 s fresh) has gone stale
    replay.reset()
    second_cache = make_cache(sqlite=await SqliteBackend.open(tmp_path / "c.db", clock=clock), clock=clock)
    try:
        async with stocks_server(replay, second_cache, clock) as server:
            again = await call(server, "get_price_history", args)
    finally:
        await second_cache.aclose()
    assert not again.is_error and again.structured_content["months_from_cache"] == 13
    assert again.structured_content["bars"] == result.structured_content["bars"]
    closed = [query for query in months_asked(replay) if "date=20260901" not in query]
    assert closed == []  # no request for the 12 closed months
    assert replay.count("/stock/api/getStockInfo.jsp") == 0  # the market was remembered too


async def test_twse_rate_limit_holds_under_a_batch(
    replay: ReplayServer, clock: ManualClock, cache: TieredCache
) -> None:
    # The default is 3 requests per 5 s; a 1 s window keeps the test short. The limiter spaces
    # the client's grants; the server logs arrivals, which trail the grants by the connection
    # latency (more on a loaded 2-core machine), so the check allows 25% of the window for that
    # jitter. Unlimited, all 13 requests would arrive within a few milliseconds.
    window = 1.0
    async with stocks_server(replay, cache, clock, rates={"twse": (3, window)}) as server:
        result = await call(server, "get_price_history", {"symbol": "2330", "period": "1y", "market": "twse"})
    assert not result.is_error
    times = replay.request_times(STOCK_DAY)
    assert len(times) == 13
    busiest = max(sum(1 for t in times if start <= t < start + window * 0.75) for start in times)
    assert busiest <= 3


async def test_info_analysis_overview(replay: ReplayServer, clock: ManualClock, cache: TieredCache) -> None:
    async with stocks_server(replay, cache, clock) as server:
        info = await call(server, "get_stock_info", {"symbol": "6488"})
        analysis = await call(server, "analyze_stock", {"symbol": "2330", "days": 3})
        overview = await call(server, "get_market_overview", {})
    assert info.structured_content["name"] == "環球晶" and info.structured_content["market"] == "TPEx"
    assert [day["date"] for day in analysis.structured_content["signals"]] == ["2026-09-02", "2026-09-03", "2026-09-04"]
    assert analysis.structured_content["moving_averages"]["ma60"] is not None
    assert [index["code"] for index in overview.structured_content["indices"]] == ["t00", "o00"]


async def test_events_and_adjusted_closes_over_the_wire(
    replay: ReplayServer, clock: ManualClock, cache: TieredCache
) -> None:
    taiwan_args = {"symbol": "3443", "market": "twse", "start_date": "2026-06-01", "end_date": "2026-06-10"}
    async with stocks_server(replay, cache, clock) as server:
        taiwan = await call(server, "get_price_history", {**taiwan_args, "adjusted": True})
        yahoo = await call(
            server,
            "get_price_history",
            {"symbol": "AAPL", "start_date": "2020-08-31", "end_date": "2020-11-06", "events": True},
        )
        loose = await call(server, "get_price_history", {**taiwan_args, "events": "true"})
    assert not taiwan.is_error and not yahoo.is_error
    answer = taiwan.structured_content
    assert [event["date"] for event in answer["events"]] == ["2026-06-08"]
    assert answer["bars"][4]["adj_close"] == 4390 and answer["bars"][-1]["adj_close"] == answer["bars"][-1]["close"]
    assert replay.request_times("/rwd/zh/exRight/TWT49U")  # asked through the TWSE client
    assert [event["kind"] for event in yahoo.structured_content["events"]] == ["split", "dividend"]
    assert loose.is_error and "events" in error_text(loose)  # strict: a string is not a boolean


async def test_indicators_over_the_wire_and_their_nulls(
    replay: ReplayServer, clock: ManualClock, cache: TieredCache
) -> None:
    async with stocks_server(replay, cache, clock) as server:
        full = await call(server, "analyze_stock", {"symbol": "2330", "days": 1})
        few = await call(server, "analyze_stock", {"symbol": "2330", "days": 1, "end_date": "2010-01-06"})
    assert not full.is_error and not few.is_error  # the nulls pass the published output schema
    indicators = full.structured_content["indicators"]
    assert indicators["rsi"]["params"] == {"period": 14} and 0 <= indicators["rsi"]["values"]["rsi"] <= 100
    assert indicators["macd"]["values"]["histogram"] is not None
    assert indicators["bollinger"]["params"] == {"period": 20, "width": 2}
    short = few.structured_content["indicators"]
    assert short["macd"] == {
        "params": {"fast": 12, "slow": 26, "signal": 9},
        "values": {"macd": None, "signal": None, "histogram": None},
        "reason": "needs 34 closes, 3 available",
    }


@pytest.mark.parametrize(
    ("tool", "args", "words"),
    [
        ("get_price_history", {"symbol": "2330", "start_date": "2026-09-01", "end_date": "2026-08-01"}, ["end_date"]),
        ("get_price_history", {"symbol": "2330", "start_date": "2009-06-01"}, ["start_date", "2010-01-04"]),
        ("get_stock_quote", {"symbols": [str(n) for n in range(1101, 1132)]}, ["symbols"]),
        ("get_stock_quote", {"symbols": ["2330", ""]}, ["symbols"]),
        ("get_stock_info", {"symbol": "   "}, ["symbol", "empty"]),
        ("get_price_history", {"symbol": "9999", "period": "1mo"}, ["9999", "unknown"]),
        ("get_stock_info", {"symbol": "MDLY"}, ["MDLY", "delisted"]),
    ],
)
async def test_errors_name_the_field(
    replay: ReplayServer, clock: ManualClock, cache: TieredCache, tool: str, args: dict[str, Any], words: list[str]
) -> None:
    async with stocks_server(replay, cache, clock) as server:
        text = error_text(await call(server, tool, args))
    for word in words:
        assert word in text
    assert "Traceback" not in text
