"""compare_stocks through the whole product: ``mcp.Client(build_server(settings))`` against the
replay upstream (recorded AAPL chart, 2330 months, SYNTHESISED USDTWD=X), clock Friday
2026-09-04 14:00 Taipei: aligned series, a correlation in [-1, 1], the TWD view, progress and
strict arguments as the agent sees them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from mcp import Client

from tests.support.replay import ReplayServer
from tests.support.replay_routes.stocks import usdtwd_rate
from tests.tools.stocks.test_stocks_contract_e2e import Heard, compact, server
from tools.budget import RECORD_BUDGET

ARGS = {"symbols": ["2330", "AAPL"], "start_date": "2020-09-01", "end_date": "2020-11-06"}


async def test_2330_and_aapl_with_a_twd_view(replay: ReplayServer, tmp_path: Path) -> None:
    heard = Heard()
    async with Client(server(replay, tmp_path)) as client:
        native = await client.call_tool("compare_stocks", ARGS)
        converted = await client.call_tool("compare_stocks", {**ARGS, "currency": "TWD"}, progress_callback=heard)
    assert not native.is_error and not converted.is_error, (native.content, converted.content)
    plain, twd = native.structured_content, converted.structured_content
    assert plain["symbols"] == ["2330", "AAPL"] and plain["days"] == len(plain["series"]) > 40
    assert all(len(row["closes"]) == 2 for row in plain["series"])
    (left, right), (below, diagonal) = plain["correlation"]
    assert left == diagonal == 1 and right == below and -1 <= right <= 1
    assert [stat["currency"] for stat in plain["stats"]] == ["TWD", "USD"]
    assert twd["currency"] == "TWD" and twd["fx"] == [{"pair": "USDTWD=X", "symbols": ["AAPL"]}]
    first_day = plain["series"][0]
    expected = first_day["closes"][1] * usdtwd_rate_of(first_day["date"])
    assert abs(twd["series"][0]["closes"][1] - expected) < 1e-3
    assert -1 <= twd["correlation"][0][1] <= 1
    assert compact(plain) <= RECORD_BUDGET and set(plain["cache"]) >= {"hit", "age_seconds", "stale"}
    # the symbols came from the cache the second time; only the FX pair was fetched (a third step)
    assert [progress for progress, _, _ in heard.notes] == [1, 2, 3] and heard.notes[-1][1] == 3
    assert heard.notes[-1][2] is not None and heard.notes[-1][2].startswith("USDTWD=X: ")


def usdtwd_rate_of(day: str) -> float:
    return usdtwd_rate(date.fromisoformat(day))


async def test_strict_arguments_through_the_client(replay: ReplayServer, tmp_path: Path) -> None:
    async with Client(server(replay, tmp_path)) as client:
        one = await client.call_tool("compare_stocks", {"symbols": ["2330"]})
        twice = await client.call_tool("compare_stocks", {"symbols": ["2330", "AAPL", "2330"]})
        money = await client.call_tool("compare_stocks", {**ARGS, "currency": "XYZ"})
    for result in (one, twice, money):
        assert result.is_error
    assert "symbols" in str(one.content) and "repeats symbols[0]" in str(twice.content)
    assert "currency" in str(money.content)
