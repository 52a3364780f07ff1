"""The stock tools' agent contract through the whole product: ``mcp.Client(build_server(settings))``
against the replay upstream, with the clock at Friday 2026-09-04 14:00 Taipei.

Progress notifications (a month at a time for a history, a symbol at a time for a quote
batch), the catalog's size, freshness on every answer, walking a cut history with its
``next``, and symbols the way the generic argument layer hands them over.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from mcp import Client

from server.app import build_server
from tests.support.clock import ManualClock
from tests.support.load import fault_settings
from tests.support.replay import ReplayServer
from tests.support.stocks import taipei
from tools.budget import EXPLICIT_BUDGET, RECORD_BUDGET

AFTER_CLOSE = taipei(2026, 9, 4, 14, 0)
STOCK_TOOLS = ("get_stock_quote", "get_price_history", "get_stock_info", "analyze_stock", "get_market_overview")
CATALOG_BUDGET = 4_000
"""Model-visible bytes (name, description, input schema) of the five stock tools together."""


def compact(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


class Heard:
    """The progress notifications of one call."""

    def __init__(self) -> None:
        self.notes: list[tuple[float, float | None, str | None]] = []

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.notes.append((progress, total, message))


def server(replay: ReplayServer, tmp_path: Path) -> Any:
    return build_server(fault_settings(replay.url, tmp_path), clock=ManualClock(AFTER_CLOSE))


async def test_a_year_of_taiwan_bars_reports_each_month_in_order(replay: ReplayServer, tmp_path: Path) -> None:
    heard, again = Heard(), Heard()
    async with Client(server(replay, tmp_path)) as client:
        year = await client.call_tool("get_price_history", {"symbol": "2330", "period": "1y"}, progress_callback=heard)
        month = await client.call_tool(
            "get_price_history",
            {"symbol": "2330", "start_date": "2026-08-01", "end_date": "2026-08-31"},
            progress_callback=again,
        )
    assert not year.is_error, year.content
    assert [progress for progress, _, _ in heard.notes] == list(range(1, 14))
    assert {total for _, total, _ in heard.notes} == {13}
    messages = sorted(message or "" for _, _, message in heard.notes)
    assert messages[0] == "2330 2025-09: 22 bars" and messages[-1].startswith("2330 2026-09: ")
    assert [message for _, _, message in again.notes] == ["2330 2026-08: cached"]  # read by the year already
    assert not month.is_error and len(month.structured_content["bars"]) == 21


async def test_a_quote_batch_reports_each_symbol(replay: ReplayServer, tmp_path: Path) -> None:
    heard = Heard()
    symbols = ["2330", "6488", "AAPL", "NOSUCH"]
    async with Client(server(replay, tmp_path)) as client:
        batch = await client.call_tool("get_stock_quote", {"symbols": symbols}, progress_callback=heard)
    assert not batch.is_error, batch.content
    assert [progress for progress, _, _ in heard.notes] == [1, 2, 3, 4]
    assert {total for _, total, _ in heard.notes} == {4}
    assert sorted(message or "" for _, _, message in heard.notes) == [
        "2330: quote",
        "6488: quote",
        "AAPL: quote",
        "NOSUCH: failed",
    ]


async def test_the_five_tools_catalog_is_lean(replay: ReplayServer, tmp_path: Path) -> None:
    async with Client(server(replay, tmp_path)) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    visible = {
        name: compact({"name": name, "description": tools[name].description, "inputSchema": tools[name].input_schema})
        for name in STOCK_TOOLS
    }
    assert sum(visible.values()) <= CATALOG_BUDGET, visible
    described = " ".join(str(tools[name].description) for name in STOCK_TOOLS)
    schemas = json.dumps([tools[name].input_schema for name in STOCK_TOOLS])
    for internal in ("60 s", "30 days", "09:00", "13:30", "cached for", "reused"):  # TTLs and hours change
        assert internal not in described and internal not in schemas, internal
    assert "2330" in described and "AAPL" in described  # what a symbol is: said once, in a description


async def test_every_answer_says_how_fresh_it_is(replay: ReplayServer, tmp_path: Path) -> None:
    calls = [
        ("get_stock_quote", {"symbols": ["2330", "AAPL"]}),
        ("get_price_history", {"symbol": "6488"}),
        ("get_stock_info", {"symbol": "2330"}),
        ("analyze_stock", {"symbol": "2330", "days": 60}),
        ("get_market_overview", {}),
    ]
    async with Client(server(replay, tmp_path)) as client:
        results = {name: await client.call_tool(name, arguments) for name, arguments in calls}
    for name, result in results.items():
        assert not result.is_error, (name, result.content)
        answer = result.structured_content
        assert compact(answer) <= RECORD_BUDGET, name
        for item in [answer, *answer.get("quotes", []), *answer.get("indices", [])]:
            if "quotes" not in item:  # a batch's freshness is per quote
                assert set(item["cache"]) >= {"hit", "age_seconds", "stale", "fresh_for_seconds"}, name
    analysis = results["analyze_stock"].structured_content
    assert analysis["truncated"] is True and analysis["cuts"][0]["list"] == "signals"


async def test_walking_a_long_range_through_the_client(replay: ReplayServer, tmp_path: Path) -> None:
    arguments: dict[str, Any] = {"symbol": "2330", "start_date": "2015-01-01", "end_date": "2026-07-31"}
    dates: list[str] = []
    async with Client(server(replay, tmp_path)) as client:
        while True:
            result = await client.call_tool("get_price_history", arguments)
            assert not result.is_error, result.content
            page = result.structured_content
            assert compact(page) <= EXPLICIT_BUDGET
            dates += [bar["date"] for bar in page["bars"]]
            if not page.get("cuts"):
                break
            assert page["truncated"] is True
            arguments = {**arguments, **page["cuts"][0]["next"]}
    days = (
        date(2015, 1, 1) + timedelta(days=offset) for offset in range((date(2026, 7, 31) - date(2015, 1, 1)).days + 1)
    )
    assert dates == [day.isoformat() for day in days if day.weekday() < 5]  # each bar once, in order


async def test_symbols_as_the_argument_layer_hands_them_over(replay: ReplayServer, tmp_path: Path) -> None:
    async with Client(server(replay, tmp_path)) as client:
        one = await client.call_tool("get_stock_info", {"symbol": "2330"})  # from `symbol: 2330`
        both = await client.call_tool("get_stock_quote", {"symbols": ["2330", "AAPL"]})  # from "2330,AAPL"
        short = await client.call_tool("get_stock_info", {"symbol": "50"})  # from `symbol: 50`, meant 0050
    assert not one.is_error and one.structured_content["name"] == "台積電"
    assert [quote["symbol"] for quote in both.structured_content["quotes"]] == ["2330", "AAPL"]
    assert short.is_error and "'0050'" in " ".join(block.text for block in short.content if block.type == "text")
