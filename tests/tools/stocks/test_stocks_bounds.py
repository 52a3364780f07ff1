"""Every stock answer is bounded (tools/budget.py): the bar form, history budgets and cuts
whose ``next`` really fetches the rest, analysis and quote cuts, and the worst cases.

Clock: Friday 2026-09-04 14:00 Taipei. The replay routes lay the recorded August rows on every
weekday of a month that has no recording (2010-01 to 2026-07 here), so such a range has exactly
one bar per weekday.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest

from cache.engine.tiered import TieredCache
from tests.support.clock import ManualClock
from tests.support.recorded_upstream import RecordedUpstream
from tests.support.stocks import Harness
from tools.budget import EXPLICIT_BUDGET, RECORD_BUDGET, json_size
from tools.errors import InvalidInput
from tools.freshness import CacheInfo
from tools.stocks.analysis_models import StockAnalysis
from tools.stocks.config import StocksConfig
from tools.stocks.models import DailyBar, PriceHistory, Quote, QuoteBatch, StockInfo, SymbolError
from tools.stocks.paging import bound_quotes, weekdays
from tools.stocks.service import StocksService

FRESH = CacheInfo(hit=False, age_seconds=0.0, stale=False)


@pytest.fixture
async def small(transport: RecordedUpstream, cache: TieredCache, clock: ManualClock) -> AsyncIterator[StocksService]:
    """A service whose budgets are small enough to cut a few months (the real ones: below)."""
    config = StocksConfig(record_budget=2048, explicit_budget=6144, history_max_months=4)
    built = Harness(transport, cache, clock, config)
    yield built.service
    await built.aclose()


def all_weekdays(first: date, last: date) -> list[date]:
    days = (first + timedelta(days=offset) for offset in range((last - first).days + 1))
    return [day for day in days if day.weekday() < 5]


async def walk_history(service: StocksService, symbol: str, **arguments: Any) -> list[PriceHistory]:
    """Call get_history with ``arguments``, then with each answer's cut ``next``, until whole."""
    pages = [await service.get_history(symbol, **arguments)]
    while pages[-1].cuts:
        (cut,) = pages[-1].cuts
        assert cut.list == "bars" and pages[-1].truncated
        names = {"start_date": "start", "end_date": "end", "period": "period"}
        changed = {
            names[key]: (date.fromisoformat(value) if key != "period" else value) for key, value in cut.next.items()
        }
        arguments = {**arguments, **changed}
        pages.append(await service.get_history(symbol, **arguments))
        assert len(pages) < 100
    return pages


def test_a_bar_leaves_out_nulls_and_whole_number_decimals_and_loses_nothing() -> None:
    bar = DailyBar(date=date(2026, 8, 3), open=2390.0, high=2395.5, low=2365.0, close=2370.0, volume=35_209_944)
    assert bar.model_dump(mode="json") == {
        "date": "2026-08-03",
        "open": 2390,
        "high": 2395.5,
        "low": 2365,
        "close": 2370,
        "volume": 35_209_944,
    }
    marked = bar.model_copy(update={"ex_dividend": True, "turnover": 83_673_350_698.0, "change": None})
    assert marked.model_dump(mode="json")["ex_dividend"] is True and "change" not in marked.model_dump(mode="json")
    for one in (bar, marked):  # what the cache stores reads back as the same bar
        assert DailyBar.model_validate(one.model_dump(mode="json")) == one
    gap = DailyBar(date=date(2026, 8, 4))
    assert gap.model_dump(mode="json") == {"date": "2026-08-04"}


async def test_default_month_fits_the_record_budget_and_a_year_comes_back_whole(harness: Harness) -> None:
    month = await harness.service.get_history("2330")
    assert month.truncated is None and month.cuts is None and json_size(month) <= RECORD_BUDGET
    year = await harness.service.get_history("2330", period="1y")
    assert year.truncated is None and year.months_requested == 13
    assert RECORD_BUDGET < json_size(year) <= EXPLICIT_BUDGET  # an explicit ask: the larger budget
    assert year.bars[0].date == date(2025, 9, 4) and year.bars[-1].date == date(2026, 9, 4)


async def test_walking_next_over_sixteen_years_returns_every_bar_once_in_order(harness: Harness) -> None:
    first, last = date(2010, 1, 4), date(2026, 7, 31)
    pages = await walk_history(harness.service, "2330", start=first, end=last)
    assert len(pages) > 8  # 24 months at most per answer
    bars = [bar.date for page in pages for bar in page.bars]
    assert bars == all_weekdays(first, last)
    for page in pages:
        assert json_size(page) <= EXPLICIT_BUDGET and page.months_requested <= 24
        assert page.cache.hit is False
    cut = pages[0].cuts[0] if pages[0].cuts else None
    assert cut is not None and cut.returned == len(pages[0].bars)
    assert cut.returned + cut.dropped == weekdays(first, last)  # every bar in this range is on a weekday


async def test_a_size_cut_inside_the_fetched_months_resumes_on_the_next_day(small: StocksService) -> None:
    pages = await walk_history(small, "2330", start=date(2026, 1, 1), end=date(2026, 7, 31))
    assert [bar.date for page in pages for bar in page.bars] == all_weekdays(date(2026, 1, 1), date(2026, 7, 31))
    assert all(json_size(page) <= 6144 for page in pages)
    first = pages[0].cuts[0] if pages[0].cuts else None
    assert first is not None and first.next == {
        "start_date": (pages[0].bars[-1].date + timedelta(days=1)).isoformat(),
        "end_date": "2026-07-31",
    }


async def test_a_cut_period_continues_as_dates_up_to_the_periods_end(small: StocksService, harness: Harness) -> None:
    pages = await walk_history(small, "2330", period="6mo")
    first = pages[0].cuts[0] if pages[0].cuts else None
    assert first is not None and first.next["period"] is None and first.next["end_date"] == "2026-09-04"
    whole = await harness.service.get_history("2330", period="6mo")  # the real budget holds it all
    assert whole.cuts is None
    assert [bar for page in pages for bar in page.bars] == whole.bars


async def test_no_dates_is_a_record_a_cut_one_resumes_by_start_date(small: StocksService) -> None:
    page = await small.get_history("2330")  # the last month: 2 KB holds about 13 bars
    assert page.truncated and page.cuts is not None and json_size(page) <= 2048
    assert set(page.cuts[0].next) == {"start_date"}
    pages = await walk_history(small, "2330")
    assert [bar.date for p in pages for bar in p.bars][0] == date(2026, 8, 4)
    assert [bar.date for p in pages for bar in p.bars][-1] == date(2026, 9, 4)


async def test_sixty_days_of_signals_are_cut_to_the_newest_and_next_gets_the_older(
    harness: Harness, transport: RecordedUpstream, cache: TieredCache, clock: ManualClock
) -> None:
    report = await harness.service.analyze("2330", days=60)
    assert json_size(report) <= RECORD_BUDGET and report.truncated and report.cuts is not None
    (cut,) = report.cuts
    assert cut.list == "signals" and cut.returned == len(report.signals) and cut.returned + cut.dropped == 60
    assert report.latest_signal == report.signals[-1].signal and report.signals[-1].date == date(2026, 9, 4)
    older = await harness.service.analyze(
        "2330", days=int(str(cut.next["days"])), end=date.fromisoformat(str(cut.next["end_date"]))
    )
    assert older.cuts is None
    roomy = Harness(transport, cache, clock, StocksConfig(record_budget=10 * RECORD_BUDGET))
    try:
        whole = await roomy.service.analyze("2330", days=60)
    finally:
        await roomy.aclose()
    assert whole.cuts is None and len(whole.signals) == 60
    assert [*older.signals, *report.signals] == whole.signals  # every day once, the same verdicts


def worst_quote(index: int) -> Quote:
    """A Yahoo quote with every field set and long texts (long names exist: ETFs, funds)."""
    return Quote(
        symbol=f"{'X' * 28}{index:04d}",
        name="Some Very Long Fund Name Incorporated Depositary Receipts Class A " * 2,
        market="Yahoo",
        exchange="NasdaqGS Global Select Market Very Long Exchange Name",
        currency="USD",
        price=123456.789,
        price_source="regular_market",
        change=-1234.5678,
        change_percent=-12.3456,
        open=123456.789,
        high=123456.789,
        low=123456.789,
        volume=123_456_789_012,
        previous_close=123456.789,
        best_bid=123456.789,
        best_ask=123456.789,
        time="2026-09-04T13:30:00-04:00",
        cache=CacheInfo(hit=True, tier="memory", age_seconds=12345.678, stale=True, fresh_for_seconds=0.0),
    )


def test_thirty_worst_case_quotes_are_cut_to_the_budget_and_next_names_the_rest() -> None:
    symbols = [worst_quote(index).symbol for index in range(30)]
    answers: list[Quote | SymbolError] = [worst_quote(index) for index in range(29)]
    answers.append(SymbolError(symbol=symbols[29], error="yahoo: not found " + "x" * 200))
    quotes, errors, cuts = bound_quotes(symbols, answers, RECORD_BUDGET)
    batch = QuoteBatch(quotes=quotes, errors=errors, truncated=True, cuts=cuts)
    assert json_size(batch) <= RECORD_BUDGET
    returned = len(quotes)
    assert 0 < returned < 29 and not errors
    assert [cut.list for cut in cuts] == ["quotes", "errors"]
    assert cuts[0].dropped == 29 - returned and cuts[1].dropped == 1
    assert cuts[0].next == {"symbols": symbols[returned:]}


async def test_a_cut_quote_batch_continues_with_the_symbols_left_out(
    transport: RecordedUpstream, cache: TieredCache, clock: ManualClock
) -> None:
    built = Harness(transport, cache, clock, StocksConfig(record_budget=2048))
    try:
        symbols = ["2330", "6488", "AAPL", "2317", "NOSUCH", "2454", "0050", "OCDO.L"]
        seen: list[str] = []
        batch = await built.service.get_quotes(symbols)
        while True:
            assert json_size(batch) <= 2048
            seen += [quote.symbol for quote in batch.quotes] + [error.symbol for error in batch.errors]
            if not batch.cuts:
                break
            batch = await built.service.get_quotes(batch.cuts[0].next["symbols"])  # type: ignore[arg-type]
    finally:
        await built.aclose()
    assert sorted(seen) == sorted(symbols) and len(seen) == len(symbols)


async def test_thirty_real_symbols_fit_without_a_cut(harness: Harness) -> None:
    taiwan = ["2330", "6488", "2317", "2454", "0050"]
    yahoo = ["AAPL", "ABBV", "AMZN", "AZT.OL", "BABA", "BTC-USD", "CRON", "EPAC", "EURUSD=X", "GC=F", "GOOG"]
    yahoo += ["OCDO.L", "ORSTED.CO", "QQQ", "SPOT", "WSKT.JK", "AFRAF", "TSLA", "WSU.DE"]
    symbols = [*taiwan, *yahoo, *[f"NOSUCH{index}" for index in range(30 - len(taiwan) - len(yahoo))]]
    batch = await harness.service.get_quotes(symbols)
    assert len(symbols) == 30 and batch.cuts is None
    assert len(batch.quotes) + len(batch.errors) == 30 and json_size(batch) <= RECORD_BUDGET


async def test_info_and_overview_stay_far_below_the_record_budget(harness: Harness) -> None:
    longest = StockInfo(
        symbol="X" * 32,
        name="N" * 200,
        full_name="F" * 400,
        market="Yahoo",
        exchange="E" * 100,
        currency="USD",
        timezone="America/Argentina/ComodRivadavia",
        instrument_type="CRYPTOCURRENCY",
        first_trade_date=date(1980, 12, 12),
        previous_close=1e12,
        limit_up=1e12,
        limit_down=1e12,
        fifty_two_week_high=1e12,
        fifty_two_week_low=1e12,
        cache=FRESH,
    )
    assert json_size(longest) < RECORD_BUDGET // 8  # a record of fixed fields: no list to cut
    overview = await harness.service.market_overview()
    assert len(overview.indices) == 2 and json_size(overview) < RECORD_BUDGET // 8  # two indices, always


async def test_every_answer_carries_its_freshness(harness: Harness) -> None:
    batch = await harness.service.get_quotes(["2330", "AAPL"])
    history = await harness.service.get_history("AAPL", start=date(2020, 9, 1), end=date(2020, 9, 30))
    info = await harness.service.get_info("2330")
    report: StockAnalysis = await harness.service.analyze("2330", days=2)
    overview = await harness.service.market_overview()
    answers: list[Any] = [*batch.quotes, history, info, report, overview, *overview.indices]
    for answer in answers:
        assert isinstance(answer.cache, CacheInfo), type(answer).__name__
        assert "cache" in answer.model_dump(mode="json")


async def test_an_analysis_as_of_a_day_before_the_listing_is_an_input_error(harness: Harness) -> None:
    with pytest.raises(InvalidInput, match="end_date"):
        await harness.service.analyze("2330", end=date(2009, 12, 31))
