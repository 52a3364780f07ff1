"""Institutional flows and margin balances through the service: whole-market days cached per
(exchange, date) and shared by every stock, lifetimes, weekends, cuts, market lookup, errors.

The clock is Friday 2026-09-04 14:00 Taipei unless a test moves it. Day tables other than
2026-09-03 are the synthesised ones of tests/support/replay_routes/stocks_flows.py (the recorded
rows on every weekday from 2026-08-03 to 2026-09-04, no data after).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.support.clock import ManualClock
from tests.support.stocks import Harness, taipei
from tools.errors import InvalidInput
from tools.stocks.errors import UnknownSymbol

T86, INSTI = "/rwd/zh/fund/T86", "/www/zh-tw/insti/dailyTrade"
MARGIN_TWSE, MARGIN_TPEX = "/rwd/zh/marginTrading/MI_MARGN", "/www/zh-tw/margin/balance"
MON, THU, FRI = date(2026, 8, 31), date(2026, 9, 3), date(2026, 9, 4)
YOUDA = {"foreign": 55_437_100, "trust": -1_129_000, "dealers": 1_131_816, "total": 55_439_916}


def dates_asked(harness: Harness, path: str) -> list[str]:
    host = "twse" if path.startswith("/rwd") else "tpex"
    return [request.url.params["date"] for request in harness.transport.to(host) if request.url.path == path]


def nets(day: Any) -> dict[str, int]:
    return {key: getattr(day, key) for key in YOUDA}


async def test_a_week_of_flows_then_another_stock_from_the_same_days(harness: Harness) -> None:
    flows = await harness.service.flows.flows("2409", MON, FRI)
    assert flows.market == "TWSE" and flows.name == "友達" and (flows.start, flows.end) == (MON, FRI)
    assert [day.date for day in flows.days] == [date(2026, 8, 31), *(date(2026, 9, d) for d in (1, 2, 3, 4))]
    assert all(nets(day) == YOUDA for day in flows.days)
    assert nets(flows.totals) == {key: 5 * value for key, value in YOUDA.items()}
    assert flows.days[0].foreign_dealers is None and not flows.cache.hit
    assert sorted(dates_asked(harness, T86)) == ["20260831", "20260901", "20260902", "20260903", "20260904"]
    other = await harness.service.flows.flows("2845", MON, FRI)
    assert len(dates_asked(harness, T86)) == 5  # one request per day, whatever the stock
    assert other.cache.hit and other.totals.foreign == 5 * 29_742_652


async def test_weekends_are_never_asked_and_unpublished_days_are_empty(harness: Harness, clock: ManualClock) -> None:
    clock.set(taipei(2026, 9, 9, 18, 0))
    flows = await harness.service.flows.flows("2409", FRI, date(2026, 9, 9), market="twse")
    assert sorted(dates_asked(harness, T86)) == ["20260904", "20260907", "20260908", "20260909"]
    assert [day.date for day in flows.days] == [FRI]
    assert flows.no_data_days == [date(2026, 9, 7), date(2026, 9, 8), date(2026, 9, 9)]


async def test_a_closed_day_is_kept_for_good_and_today_briefly(harness: Harness, clock: ManualClock) -> None:
    closed = await harness.service.flows.flows("2409", THU, THU)
    today = await harness.service.flows.flows("2409", FRI, FRI)
    assert closed.cache.fresh_for_seconds >= 364 * 86_400
    assert today.cache.fresh_for_seconds == 600
    clock.advance(601)
    await harness.service.flows.flows("2409", THU, FRI)
    assert sorted(dates_asked(harness, T86)) == ["20260903", "20260904", "20260904"]  # only today's again


async def test_more_weekdays_than_one_call_fetches_are_cut_with_next(harness: Harness) -> None:
    first = await harness.service.flows.flows("2409", date(2026, 8, 1), FRI, market="twse")
    assert len(first.days) == 20 and first.truncated and first.cuts
    cut = first.cuts[0]
    assert (cut.list, cut.returned, cut.dropped) == ("days", 20, 5)
    assert cut.next == {"start_date": "2026-08-29", "end_date": "2026-09-04"} and first.end == date(2026, 8, 28)
    rest = await harness.service.flows.flows("2409", date(2026, 8, 29), FRI, market="twse")
    assert [day.date for day in rest.days] == [MON, *(date(2026, 9, d) for d in (1, 2, 3, 4))]
    assert rest.truncated is None and len(dates_asked(harness, T86)) == 25  # each weekday once


async def test_a_tpex_code_is_found_in_the_day_tables_and_remembered(harness: Harness) -> None:
    flows = await harness.service.flows.flows("00411A", THU, THU)
    assert flows.market == "TPEx" and flows.name == "主動統一前沿科技"
    assert nets(flows.days[0]) == {"foreign": -689_550, "trust": 0, "dealers": -139_119, "total": -828_669}
    mis_before = len(harness.transport.to("mis"))
    again = await harness.service.flows.flows("00411A", MON, THU)
    assert again.market == "TPEx" and len(harness.transport.to("mis")) == mis_before  # remembered
    assert dates_asked(harness, T86) == ["20260903"]  # TWSE looked at once, for the lookup


async def test_a_code_no_exchange_knows_is_unknown(harness: Harness) -> None:
    with pytest.raises(UnknownSymbol, match="9999"):
        await harness.service.flows.flows("9999", THU, THU)


async def test_a_day_without_a_row_for_the_stock_is_listed(harness: Harness) -> None:
    flows = await harness.service.flows.flows("2330", THU, FRI, market="twse")
    assert flows.days == [] and flows.no_row_days == [THU, FRI] and flows.totals.total == 0


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"symbol": "2409", "start": FRI, "end": THU}, "end_date"),
        ({"symbol": "2409", "start": date(2026, 1, 1), "end": FRI}, "end_date"),
        ({"symbol": "2409", "start": date(2026, 9, 10)}, "start_date"),
        ({"symbol": "AAPL"}, "symbol"),
        ({"symbol": "2409", "market": "yahoo"}, "market"),
        ({"symbol": "2409!"}, "symbol"),
    ],
)
async def test_strict_arguments(harness: Harness, args: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await harness.service.flows.flows(**args)
    assert caught.value.field == field
    assert harness.transport.paths() == []


async def test_margin_of_a_twse_stock_and_the_market_summary(harness: Harness) -> None:
    balance = await harness.service.flows.margin("00400A", THU, market="twse")
    assert (balance.name, balance.date, balance.note) == ("主動國泰動能高息", THU, "X: short sale suspended")
    margin = balance.margin_purchase
    assert margin is not None and (margin.previous, margin.current, margin.limit) == (9_991, 9_787, 475_160)
    assert margin.usage_pct == 2.05 and balance.short_sale is not None and balance.short_sale.current == 0
    assert [(line.item, line.unit) for line in balance.market_summary] == [
        ("margin_purchase", "lots"),
        ("short_sale", "lots"),
        ("margin_purchase_amount", "thousand_twd"),
    ]
    assert balance.market_summary[1].current == 222_843


async def test_margin_default_date_steps_back_to_the_latest_published_day(harness: Harness, clock: ManualClock) -> None:
    clock.set(taipei(2026, 9, 9, 10, 0))  # Wednesday; nothing published after Friday 09-04
    balance = await harness.service.flows.margin("00679B")
    assert balance.market == "TPEx" and balance.date == FRI and balance.margin_purchase is not None
    assert balance.margin_purchase.usage_pct == 0.26
    assert dates_asked(harness, MARGIN_TPEX)[-4:] == ["2026/09/09", "2026/09/08", "2026/09/07", "2026/09/04"]


async def test_margin_on_a_day_without_data_says_so(harness: Harness, clock: ManualClock) -> None:
    clock.set(taipei(2026, 9, 9, 10, 0))
    balance = await harness.service.flows.margin("0050", date(2026, 9, 8), market="twse")
    assert balance.margin_purchase is None and balance.market_summary == []
    assert balance.message is not None and "2026-09-08" in balance.message


@pytest.mark.parametrize(("day", "word"), [(date(2026, 8, 29), "Saturday"), (date(2026, 9, 7), "future")])
async def test_margin_date_is_checked(harness: Harness, day: date, word: str) -> None:
    with pytest.raises(InvalidInput, match=word) as caught:
        await harness.service.flows.margin("0050", day)
    assert caught.value.field == "date" and harness.transport.paths() == []


async def test_progress_counts_each_day_read_in_order(harness: Harness) -> None:
    heard: list[tuple[int, int, str]] = []

    async def report(done: int, total: int, message: str) -> None:
        heard.append((done, total, message))

    await harness.service.flows.flows("2409", MON, FRI, market="twse", on_progress=report)
    assert [(done, total) for done, total, _ in heard] == [(n, 5) for n in range(1, 6)]
    assert sorted(message for _, _, message in heard)[0] == "TWSE 2026-08-31: 25 rows"
    heard.clear()
    await harness.service.flows.flows("2409", THU, FRI, market="twse", on_progress=report)
    assert sorted(message for _, _, message in heard) == ["TWSE 2026-09-03: cached", "TWSE 2026-09-04: cached"]


async def test_margin_without_a_published_day_in_the_lookback_says_which_days(
    harness: Harness, clock: ManualClock
) -> None:
    clock.set(taipei(2026, 12, 7, 10, 0))  # Monday; the replay has nothing after 2026-09-04
    balance = await harness.service.flows.margin("0050", market="twse")
    assert balance.margin_purchase is None and balance.market_summary == []
    assert balance.message == "TWSE published no margin data from 2026-11-27 to 2026-12-07; give a date"
    assert len(dates_asked(harness, MARGIN_TWSE)) == 7  # margin_lookback weekdays, weekends skipped


async def test_taiwan_holidays_are_never_asked(harness: Harness, clock: ManualClock) -> None:
    # Friday 2026-09-25 (Mid-Autumn) and Monday 2026-09-28 (Teachers' Day) are XTAI holidays
    clock.set(taipei(2026, 9, 30, 18, 0))
    flows = await harness.service.flows.flows("2409", date(2026, 9, 24), date(2026, 9, 29), market="twse")
    assert sorted(dates_asked(harness, T86)) == ["20260924", "20260929"]  # two requests, not four
    assert flows.no_data_days == [date(2026, 9, 24), date(2026, 9, 29)]  # sessions the replay has no data for
    balance = await harness.service.flows.margin("0050", market="twse")  # steps back over the holidays
    asked = dates_asked(harness, MARGIN_TWSE)
    assert len(asked) == 7 and "20260928" not in asked and "20260925" not in asked
    assert asked[:3] == ["20260930", "20260929", "20260924"] and balance.margin_purchase is None


async def test_margin_on_a_taiwan_holiday_is_refused_with_the_session_before(
    harness: Harness, clock: ManualClock
) -> None:
    clock.set(taipei(2026, 9, 30, 18, 0))
    with pytest.raises(InvalidInput, match="exchange holiday.*2026-09-24") as caught:
        await harness.service.flows.margin("0050", date(2026, 9, 28))
    assert caught.value.field == "date" and harness.transport.paths() == []
