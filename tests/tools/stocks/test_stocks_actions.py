"""Corporate actions and adjusted closes on get_price_history (clock: Fri 2026-09-04 14:00 Taipei).

Recorded data: TWSE TWT49U 2026-06-01..09-03 (``twse_twt49u_20260601_20260903.json``) and the
AAPL chart 2020-08-31..11-06 with its 4:1 split (08-31) and 0.205 dividend (11-06). The 3443
June 2026 bars around its recorded ex-date are synthesised (tests/support/replay_routes/exrights.py).

HAND CALCULATION (3443 創意, TWT49U row of 2026-06-08: previous close 4,410.00, reference price
4,390.00, 權值+息值 20.000000, 息):
  factor = 4390 / 4410 = 0.995464852...
  06-01 close 4380 -> 4380 * 4390 / 4410 = 19,228,200 / 4410 = 4360 + 600/4410
                    = 4360.136054... -> 4360.1361 (4 dp)
  06-02 close 4400 -> 4400 * 4390 / 4410 = 19,316,000 / 4410 = 4380 + 200/4410
                    = 4380.045351... -> 4380.0454
  (with the answer's 8-decimal factor 0.99546485 instead, 06-02 would be 4380.0453: the
  factor is applied unrounded.)
  06-05 close 4410 -> 4410 * 4390 / 4410 = 4390 (the reference price itself)
  06-08 and later: no event after them in the range -> adj_close = close
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import orjson
import pytest

from cache import CachePolicy, make_key
from tests.support.clock import ManualClock
from tests.support.fixtures import load_json
from tests.support.stocks import Harness, taipei
from tools.errors import InvalidInput
from tools.http.errors import BadPayload
from tools.stocks.config import StocksConfig
from tools.stocks.models import DailyBar, PriceHistory
from tools.stocks.recent import RECENT_NAMESPACE
from tools.stocks.twt49u import TWT49U_PATH, parse_cjk_date, parse_twt49u

AAPL_CHART = "chart-aapl-2020-08-31-to-2020-11-07.json"
CHART_PATH = "/v8/finance/chart/AAPL"


def recorded_aapl() -> dict[str, Any]:
    body: dict[str, Any] = load_json(f"yahoo/{AAPL_CHART}")["response"]["bodyJson"]
    return body


def yahoo_adjclose() -> list[float]:
    return list(recorded_aapl()["chart"]["result"][0]["indicators"]["adjclose"][0]["adjclose"])


def by_day(bars: list[DailyBar]) -> dict[str, DailyBar]:
    return {bar.date.isoformat(): bar for bar in bars}


# -- TWT49U parsing ------------------------------------------------------------------------------


def test_twt49u_rows_by_code_from_the_recording() -> None:
    rows = parse_twt49u(load_json("twse/twse_twt49u_20260601_20260903.json"))
    assert sum(len(entries) for entries in rows.values()) == 25 and len(rows) == 25
    assert rows["2612"] == [["2026-06-01", 57.7, 55.5, 2.2, "dividend"]]
    assert rows["3443"] == [["2026-06-08", 4410.0, 4390.0, 20.0, "dividend"]]  # thousands separators
    assert rows["6909"][0][3] == 1.000142  # the 6-decimal value
    assert rows["00953B"][0][1:3] == [9.58, 9.51]  # a bond ETF: empty financial columns do not matter
    # The exchange's identity (notes: 權值+息值 = 除權息前收盤價 - 除權息參考價) holds on every row
    # up to the price tick the reference price is rounded to (6909: 53.50 - 52.49 = 1.01 vs 1.000142).
    for code, entries in rows.items():
        for _, previous, reference, value, _ in entries:
            assert abs(previous - reference - value) < 0.01, code


def test_twt49u_no_data_and_bad_answers() -> None:
    assert parse_twt49u({"stat": "很抱歉，沒有符合條件的資料!", "total": 0}) == {}
    with pytest.raises(BadPayload, match="stat"):
        parse_twt49u({"stat": "系統忙碌中"})
    with pytest.raises(BadPayload, match="除權息前收盤價"):
        parse_twt49u({"stat": "OK", "fields": ["資料日期", "股票代號"], "data": [["115年06月01日", "2612"]]})
    with pytest.raises(BadPayload):
        parse_twt49u([])
    assert parse_cjk_date("115年06月01日") == date(2026, 6, 1)
    with pytest.raises(ValueError, match="ROC"):
        parse_cjk_date("2026-06-01")


# -- Yahoo: events and adjclose ------------------------------------------------------------------


async def test_aapl_split_and_dividend_events_with_dates_and_amounts(harness: Harness) -> None:
    history = await harness.service.get_history("AAPL", start=date(2020, 8, 31), end=date(2020, 11, 6), events=True)
    assert history.events is not None
    assert [event.model_dump(mode="json") for event in history.events] == [
        {"date": "2020-08-31", "kind": "split", "ratio": "4:1"},
        {"date": "2020-11-06", "kind": "dividend", "amount": 0.205},
    ]
    assert all(bar.adj_close is None for bar in history.bars) and history.adjustment is None


async def test_aapl_adjusted_closes_are_yahoos_adjclose(harness: Harness) -> None:
    history = await harness.service.get_history("AAPL", start=date(2020, 8, 31), end=date(2020, 11, 6), adjusted=True)
    assert [bar.adj_close for bar in history.bars] == yahoo_adjclose()
    assert history.events is not None and len(history.events) == 2
    assert history.adjustment is not None and "Yahoo's adjclose" in history.adjustment
    # Yahoo's close is already split-adjusted: the close before the split (chartPreviousClose,
    # 2020-08-28) is on the scale of the first post-split close, not 4x it; so the split day
    # and the bars after it are not divided by 4 again (adj/close stays near 1).
    previous = recorded_aapl()["chart"]["result"][0]["meta"]["chartPreviousClose"]
    first = history.bars[0]
    assert first.close is not None and first.adj_close is not None
    assert 0.9 < previous / first.close < 1.1
    assert 0.95 < first.adj_close / first.close <= 1


async def test_aapl_computed_adjustment_matches_adjclose_when_yahoo_sends_none(harness: Harness) -> None:
    body = recorded_aapl()
    del body["chart"]["result"][0]["indicators"]["adjclose"]
    harness.transport.script(httpx.Response(200, content=orjson.dumps(body)), path=CHART_PATH)
    history = await harness.service.get_history("AAPL", start=date(2020, 8, 31), end=date(2020, 11, 6), adjusted=True)
    assert history.adjustment is not None and "no adjclose" in history.adjustment
    days = by_day(history.bars)
    # By hand: the dividend's factor is 1 - 0.205 / close of 11-05 (119.02999877929688).
    factor = 1 - 0.205 / 119.02999877929688
    assert days["2020-11-06"].adj_close == round(118.69000244140625, 4)
    assert days["2020-11-05"].adj_close == round(119.02999877929688 * factor, 4)
    assert days["2020-08-31"].adj_close == round(129.0399932861328 * factor, 4)  # the split is not applied again
    # Against Yahoo's adjclose: the same step at the dividend. Yahoo's also holds the dividends
    # paid after 2020 (a constant factor over this range), so compare ratios.
    ratios = [bar.adj_close / adj for bar, adj in zip(history.bars, yahoo_adjclose(), strict=True) if bar.adj_close]
    assert max(ratios) - min(ratios) < 1e-5


async def test_events_outside_the_range_are_left_out(harness: Harness) -> None:
    inside = await harness.service.get_history("AAPL", start=date(2020, 9, 1), end=date(2020, 11, 5), events=True)
    assert inside.events == []  # the split is on 08-31 and the dividend on 11-06
    split_only = await harness.service.get_history("AAPL", start=date(2020, 8, 31), end=date(2020, 9, 30), events=True)
    assert [event.kind for event in split_only.events or []] == ["split"]


# -- Taiwan: TWT49U events and adjusted closes ---------------------------------------------------


async def test_taiwan_adjustment_by_hand(harness: Harness) -> None:
    history = await harness.service.get_history(
        "3443", start=date(2026, 6, 1), end=date(2026, 6, 10), market="twse", adjusted=True
    )
    days = by_day(history.bars)
    assert days["2026-06-01"].adj_close == 4360.1361
    assert days["2026-06-02"].adj_close == 4380.0454
    assert days["2026-06-05"].adj_close == 4390
    assert days["2026-06-08"].ex_dividend and days["2026-06-08"].adj_close == 4400
    assert days["2026-06-10"].adj_close == 4415
    assert history.events is not None
    assert [event.model_dump(mode="json") for event in history.events] == [
        {
            "date": "2026-06-08",
            "kind": "dividend",
            "amount": 20,
            "previous_close": 4410,
            "reference_price": 4390,
            "factor": round(4390 / 4410, 8),
        }
    ]
    assert history.adjustment is not None and "reference_price / previous_close" in history.adjustment


async def test_taiwan_events_only_inside_the_range(harness: Harness) -> None:
    after = await harness.service.get_history(
        "3443", start=date(2026, 6, 9), end=date(2026, 6, 10), market="twse", adjusted=True
    )
    assert after.events == [] and [bar.adj_close for bar in after.bars] == [4420, 4415]
    before = await harness.service.get_history(
        "3443", start=date(2026, 6, 1), end=date(2026, 6, 5), market="twse", adjusted=True
    )
    # The ex-date is after this range's end: not listed and not applied.
    assert before.events == [] and [bar.adj_close for bar in before.bars] == [4380, 4400, 4395, 4405, 4410]


async def test_twt49u_is_one_cached_request_per_year(harness: Harness) -> None:
    for _ in range(2):
        await harness.service.get_history("2330", start=date(2025, 12, 1), end=date(2026, 1, 31), events=True)
    asked = [request.url.params for request in harness.transport.to("twse") if request.url.path == TWT49U_PATH]
    assert sorted((params["startDate"], params["endDate"]) for params in asked) == [
        ("20250101", "20251231"),
        ("20260101", "20260904"),  # the current year: up to today (Taipei)
    ]


def test_year_lifetimes(harness: Harness, clock: ManualClock) -> None:
    desk = harness.service._actions
    config = harness.service.config
    assert desk.year_policy(2025).fresh_ttl == config.closed_actions_fresh >= 10 * 365 * 86_400
    assert desk.year_policy(2026).fresh_ttl == config.ttl.stocks_open_month_fresh
    clock.set(taipei(2027, 1, 1, 0, 5))  # the year 2026 has ended in Taipei
    assert desk.year_policy(2026).fresh_ttl == config.closed_actions_fresh


async def test_tpex_codes_are_refused_naming_the_argument(harness: Harness) -> None:
    with pytest.raises(InvalidInput) as caught:
        await harness.service.get_history("6488", start=date(2026, 8, 1), end=date(2026, 8, 31), events=True)
    assert caught.value.field == "events" and "6488.TWO" in caught.value.message
    with pytest.raises(InvalidInput) as caught:
        await harness.service.get_history("6488", start=date(2026, 8, 1), end=date(2026, 8, 31), adjusted=True)
    assert caught.value.field == "adjusted"
    assert not harness.transport.to("twse") and not harness.transport.to("tpex")  # refused before any read


async def test_without_the_options_the_answer_is_unchanged(harness: Harness) -> None:
    history = await harness.service.get_history("AAPL", start=date(2020, 8, 31), end=date(2020, 11, 6))
    dumped = history.model_dump(mode="json")
    assert "events" not in dumped and "adjustment" not in dumped
    assert all("adj_close" not in bar for bar in dumped["bars"])
    assert not [request for request in harness.transport.requests if request.url.path == TWT49U_PATH]


async def test_a_cut_page_lists_only_its_events_and_pages_adjust_alike(
    harness: Harness, cache: Any, clock: ManualClock
) -> None:
    small = Harness(harness.transport, cache, clock, config=StocksConfig(explicit_budget=2_000))
    try:
        arguments: dict[str, Any] = {"start": date(2026, 6, 1), "end": date(2026, 6, 10), "market": "twse"}
        first: PriceHistory = await small.service.get_history("3443", adjusted=True, **arguments)
        assert first.cuts is not None and first.bars[-1].date < date(2026, 6, 8)
        assert first.events == []  # the ex-date is on a later page
        following = first.cuts[0].next
        assert following is not None
        rest = await small.service.get_history(
            "3443",
            adjusted=True,
            start=date.fromisoformat(str(following["start_date"])),
            **{key: value for key, value in arguments.items() if key != "start"},
        )
    finally:
        await small.aclose()
    whole = await harness.service.get_history("3443", adjusted=True, **arguments)
    assert [bar.adj_close for bar in [*first.bars, *rest.bars]] == [bar.adj_close for bar in whole.bars]
    assert [event.date for event in rest.events or []] == [date(2026, 6, 8)]


async def test_a_year_entry_is_tagged_with_its_codes(harness: Harness, cache: Any) -> None:
    await harness.service.get_history("2330", start=date(2026, 8, 3), end=date(2026, 8, 7), events=True)
    before = harness.transport.count(TWT49U_PATH)
    await cache.invalidate_tags("stock:3443")  # a code of the recorded 2026 rows
    await harness.service.get_history("2330", start=date(2026, 8, 3), end=date(2026, 8, 7), events=True)
    assert harness.transport.count(TWT49U_PATH) == before + 1


async def test_a_recent_yahoo_entry_cached_without_events_is_read_again(harness: Harness, cache: Any) -> None:
    # A range reaching today (no end_date) cached by a build that did not keep events.
    await harness.service.get_history("AAPL", start=date(2020, 8, 31))
    key = make_key(RECENT_NAMESPACE, {"symbol": "AAPL", "source": "yahoo", "market": None, "start": "2020-08-31"})
    found = await cache.get(key)
    assert found is not None and found.value["corporate"] is not None
    old = {name: value for name, value in found.value.items() if name != "corporate"}
    await cache.set(key, old, CachePolicy(RECENT_NAMESPACE, fresh_ttl=3600, stale_ttl=3600))
    charts = harness.transport.count(CHART_PATH)
    history = await harness.service.get_history("AAPL", start=date(2020, 8, 31), events=True)
    assert [event.kind for event in history.events or []] == ["split", "dividend"]
    assert harness.transport.count(CHART_PATH) == charts + 1  # the chart was read again for them
