"""get_institutional_flows and get_margin_balance end to end: the official MCP client ->
build_server -> the replay upstream on 127.0.0.1 serving the recorded 2026-09-03 day tables
(and the synthesised other days of tests/support/replay_routes/stocks_flows.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mcp import Client

from server.app import build_server
from server.settings import Settings
from tests.support.replay import ReplayServer

T86, INSTI = "/rwd/zh/fund/T86", "/www/zh-tw/insti/dailyTrade"


def settings_for(replay: ReplayServer, tmp_path: Path, twse_rate: str = "1000/1") -> Settings:
    base = replay.base_url()
    return Settings(
        _env_file=None,
        sqlite_path=str(tmp_path / "cache.sqlite3"),
        twse_base_url=base,
        tpex_base_url=base,
        mis_base_url=base,
        yahoo_base_url=base,
        upstreams={"twse_rate": twse_rate, "mis_rate": "1000/1"},
    )


def text_of(result: Any) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


async def test_flows_of_two_stocks_share_the_day_tables(replay: ReplayServer, tmp_path: Path) -> None:
    args = {"start_date": "2026-08-31", "end_date": "2026-09-06"}
    async with Client(build_server(settings_for(replay, tmp_path))) as client:
        first = await client.call_tool("get_institutional_flows", {"symbol": "2409", **args})
        second = await client.call_tool("get_institutional_flows", {"symbol": "2845", **args})
        tpex = await client.call_tool("get_institutional_flows", {"symbol": "00411A", "end_date": "2026-09-03"})
    assert not first.is_error, text_of(first)
    data = first.structured_content
    assert data["market"] == "TWSE" and data["name"] == "友達" and len(data["days"]) == 5
    assert data["totals"] == {"foreign": 277_185_500, "trust": -5_645_000, "dealers": 5_659_080, "total": 277_199_580}
    assert data["cache"]["hit"] is False
    assert second.structured_content["cache"]["hit"] is True
    assert len(replay.log(T86)) == 5  # Mon-Fri once each: no weekend request, none for the 2nd stock
    assert not tpex.is_error, text_of(tpex)
    days = tpex.structured_content["days"]
    assert tpex.structured_content["market"] == "TPEx" and days[-1]["date"] == "2026-09-03"
    assert days[-1]["total"] == -828_669 and len(replay.log(INSTI)) == 5


async def test_margin_balance_and_refusals(replay: ReplayServer, tmp_path: Path) -> None:
    async with Client(build_server(settings_for(replay, tmp_path))) as client:
        margin = await client.call_tool("get_margin_balance", {"symbol": "0050", "date": "2026-09-03"})
        reversed_ = await client.call_tool(
            "get_institutional_flows", {"symbol": "2409", "start_date": "2026-09-04", "end_date": "2026-09-01"}
        )
        too_long = await client.call_tool(
            "get_institutional_flows", {"symbol": "2409", "start_date": "2026-01-01", "end_date": "2026-09-01"}
        )
        yahoo = await client.call_tool("get_margin_balance", {"symbol": "AAPL"})
        tpex = await client.call_tool("get_margin_balance", {"symbol": "00734B", "date": "2026-09-03"})
        no_row = await client.call_tool("get_margin_balance", {"symbol": "2330", "date": "2026-09-03"})
    assert not margin.is_error, text_of(margin)
    data = margin.structured_content
    assert data["market"] == "TWSE" and data["date"] == "2026-09-03" and data["name"] == "元大台灣50"
    side = data["margin_purchase"]
    assert side["previous"] + side["buy"] - side["sell"] - side["repay"] == side["current"]
    assert [line["item"] for line in data["market_summary"]] == [
        "margin_purchase",
        "short_sale",
        "margin_purchase_amount",
    ]
    assert not tpex.is_error, text_of(tpex)
    bond = tpex.structured_content
    assert bond["market"] == "TPEx" and bond["note"] == "X: short sale suspended"
    assert [line["current"] for line in bond["market_summary"]] == [2_276_754, 39_737, 196_161_741]
    assert not no_row.is_error and "margin_purchase" not in no_row.structured_content
    assert no_row.structured_content["message"] == "no margin row for 2330 on 2026-09-03 (not margin-eligible)"
    for result, words in ((reversed_, ["end_date", "before"]), (too_long, ["end_date", "92"]), (yahoo, ["symbol"])):
        assert result.is_error and all(word in text_of(result) for word in words), text_of(result)
        assert "Traceback" not in text_of(result)


async def test_day_requests_keep_to_the_twse_rate_limit(replay: ReplayServer, tmp_path: Path) -> None:
    # The default is 3 requests per 5 s; a 1 s window keeps the test short. Arrivals trail the
    # limiter's grants by the connection latency, so the check allows 25% of the window for it
    # (as the history test does). Unlimited, the 10 requests would arrive within milliseconds.
    window = 1.0
    args = {"symbol": "2409", "start_date": "2026-08-24", "end_date": "2026-09-04", "market": "twse"}
    async with Client(build_server(settings_for(replay, tmp_path, twse_rate="3/1"))) as client:
        result = await client.call_tool("get_institutional_flows", args)
    assert not result.is_error, text_of(result)
    times = replay.request_times(T86)
    assert len(times) == 10
    busiest = max(sum(1 for t in times if start <= t < start + window * 0.75) for start in times)
    assert busiest <= 3
