"""Trading calendars (exchange-calendars): holidays in quote lifetimes, the US session for Yahoo
quotes, no requests for ranges without a session, and the weekday fallback with its warning.

2026 Lunar New Year in Taipei: no session from Thursday 2026-02-12 to Friday 2026-02-20; the
next one opens Monday 2026-02-23 09:00. US: Thanksgiving is Thursday 2026-11-26.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory, bounded_memory
from tests.support.recorded_upstream import RecordedUpstream
from tests.support.stocks import Harness, taipei
from tools.stocks.exchanges import ExchangeBook, guess
from tools.stocks.trading_calendar import SessionTable, TradingCalendars, build_table

NEW_YORK = ZoneInfo("America/New_York")


def new_york(year: int, month: int, day: int, hour: int, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK).timestamp()


async def test_package_data_covers_the_years_tests_use() -> None:
    calendars = TradingCalendars(ManualClock(taipei(2026, 9, 4, 14)))
    xtai = await calendars.get("XTAI")
    assert xtai.known
    for year in range(2020, 2027):
        sessions = xtai.sessions(date(year, 1, 1), date(year, 12, 31))
        assert 230 < len(sessions) < 250, year  # a weekday count (~261) less the holidays
    assert xtai.sessions(date(2026, 2, 11), date(2026, 2, 23)) == [date(2026, 2, 11), date(2026, 2, 23)]
    assert not xtai.is_session(date(2026, 2, 17)) and xtai.is_session(date(2026, 2, 11))
    xnys = await calendars.get("XNYS")
    assert not xnys.is_session(date(2026, 11, 26)) and xnys.is_session(date(2026, 11, 27))
    assert xnys.last_session(date(2026, 11, 29)) == date(2026, 11, 27)  # Sunday -> Friday


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (taipei(2026, 2, 17, 10, 0), taipei(2026, 2, 23, 9, 0) - taipei(2026, 2, 17, 10, 0)),  # Lunar New Year
        (taipei(2026, 2, 11, 14, 0), taipei(2026, 2, 23, 9, 0) - taipei(2026, 2, 11, 14, 0)),  # last day before it
        (taipei(2026, 9, 5, 11, 0), taipei(2026, 9, 7, 9, 0) - taipei(2026, 9, 5, 11, 0)),  # Saturday
        (taipei(2026, 9, 1, 10, 0), 60.0),  # Tuesday, in session
        (taipei(2026, 9, 1, 13, 32), 60.0),  # settle window after the close
        (
            taipei(2026, 9, 25, 13, 32),
            taipei(2026, 9, 29, 9, 0) - taipei(2026, 9, 25, 13, 32),
        ),  # no auction on a holiday
    ],
)
async def test_taiwan_quote_ttl_runs_to_the_next_session_open(when: float, expected: float) -> None:
    xtai = await TradingCalendars(ManualClock(when)).get("XTAI")
    assert xtai.quote_ttl(when, in_session=60.0, closed_cap=12 * 3600, settle=300.0) == expected


async def test_a_quote_fetched_on_a_holiday_lives_until_the_next_open(
    transport: RecordedUpstream, make_cache: CacheFactory
) -> None:
    clock = ManualClock(taipei(2026, 2, 17, 10, 0))
    cache = make_cache(bounded_memory(clock), clock=clock)
    harness = Harness(transport, cache, clock)
    try:
        batch = await harness.service.get_quotes(["2330"])
        (quote,) = batch.quotes
        assert quote.cache is not None and quote.cache.fresh_for_seconds == 6 * 86_400 - 3600  # to Mon 23rd 09:00
        clock.set(taipei(2026, 2, 23, 8, 59))
        await harness.service.get_quotes(["2330"])
        assert len(transport.to("mis")) == 1  # still fresh on the morning of the open
        clock.set(taipei(2026, 2, 23, 9, 0, 30))
        await harness.service.get_quotes(["2330"])
        await cache.wait_idle()
        assert len(transport.to("mis")) == 2  # the session opened: asked again
    finally:
        await harness.aclose()
        await cache.aclose()


async def test_yahoo_quote_ttl_follows_the_us_session(transport: RecordedUpstream, make_cache: CacheFactory) -> None:
    clock = ManualClock(new_york(2026, 11, 25, 11, 0))  # Wednesday, NYSE open
    cache = make_cache(bounded_memory(clock), clock=clock)
    harness = Harness(transport, cache, clock)
    try:
        (open_quote,) = (await harness.service.get_quotes(["AAPL"])).quotes
        assert open_quote.cache is not None and open_quote.cache.fresh_for_seconds == 60
        clock.set(new_york(2026, 11, 26, 12, 0))  # Thanksgiving: until Friday's 09:30 open
        (holiday_quote,) = (await harness.service.get_quotes(["AAPL"])).quotes
        assert holiday_quote.cache is not None and not holiday_quote.cache.hit
        assert holiday_quote.cache.fresh_for_seconds == new_york(2026, 11, 27, 9, 30) - clock()
    finally:
        await harness.aclose()
        await cache.aclose()


def test_yahoo_exchange_from_suffix_then_from_the_chart() -> None:
    assert guess("AAPL") == "XNYS" and guess("OCDO.L") == "XLON" and guess("2330.TW") == "XTAI"
    assert guess("EURUSD=X") == "24/5" and guess("BTC-USD") == "24/7" and guess("GC=F").startswith("YAHOO:")
    book = ExchangeBook()
    book.learn("AAPL", {"exchangeName": "NMS", "exchangeTimezoneName": "America/New_York"})
    assert book.of("aapl") == ("XNAS", NEW_YORK)
    book.learn("ODD", {"exchangeName": "ZZZ", "exchangeTimezoneName": "Asia/Dubai"})
    assert book.of("ODD") == ("YAHOO:ZZZ", ZoneInfo("Asia/Dubai"))


async def test_unknown_exchange_falls_back_to_weekdays_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    calendars = TradingCalendars(ManualClock(taipei(2026, 9, 4, 14)))
    with caplog.at_level(logging.WARNING, logger="tools.stocks.trading_calendar"):
        odd = await calendars.get("YAHOO:ZZZ", ZoneInfo("Asia/Dubai"))
    assert not odd.known and "YAHOO:ZZZ is not known" in caplog.text
    assert odd.sessions(date(2026, 9, 4), date(2026, 9, 7)) == [date(2026, 9, 4), date(2026, 9, 7)]
    saturday = datetime(2026, 9, 5, 12, tzinfo=ZoneInfo("Asia/Dubai")).timestamp()
    assert odd.quote_ttl(saturday, 60.0, closed_cap=3600.0, settle=300.0) == 3600.0  # holidays unknown: capped
    assert await calendars.get("YAHOO:ZZZ") is odd  # built once per process


async def test_dates_outside_the_table_fall_back_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    taipei_zone = ZoneInfo("Asia/Taipei")
    days = [date(2026, 2, 11), date(2026, 2, 23)]

    def epoch(day: date, at: time) -> float:
        return datetime.combine(day, at, taipei_zone).timestamp()

    table = SessionTable(
        days=days,
        opens=[epoch(day, time(9)) for day in days],
        closes=[epoch(day, time(13, 30)) for day in days],
        first=date(2026, 2, 1),
        last=date(2026, 2, 28),
    )
    calendars = TradingCalendars(ManualClock(taipei(2026, 2, 17)), builder=lambda code, year: (table, taipei_zone))
    small = await calendars.get("XTAI")
    assert small.sessions(date(2026, 2, 12), date(2026, 2, 20)) == []  # the table's holiday
    with caplog.at_level(logging.WARNING, logger="tools.stocks.trading_calendar"):
        assert small.is_session(date(2026, 3, 2))  # outside: a Monday is a session
        assert small.next_open(epoch(date(2026, 3, 2), time(14))) == epoch(date(2026, 3, 3), time(9))
    assert "a date after its table" in caplog.text


def test_tables_are_built_once_per_process() -> None:
    assert build_table("XTAI", 2028) is build_table("XTAI", 2028)
    with pytest.raises(KeyError):
        build_table("NOPE", 2028)


async def test_no_request_for_a_range_without_a_session(harness: Harness) -> None:
    history = await harness.service.get_history("2330", start=date(2026, 2, 14), end=date(2026, 2, 22))
    assert history.bars == [] and history.market == "TWSE"
    assert harness.transport.to("twse") == []  # Lunar New Year and two weekends: no month asked
    yahoo = await harness.service.get_history("AAPL", start=date(2020, 9, 5), end=date(2020, 9, 7))
    assert yahoo.bars == [] and harness.transport.to("yahoo") == []  # Sat, Sun, Labor Day


async def test_a_month_part_without_a_session_is_not_requested(harness: Harness) -> None:
    # Feb 27 (Peace Memorial Day, observed) and Saturday Feb 28: only March is asked for
    history = await harness.service.get_history("2330", start=date(2026, 2, 27), end=date(2026, 3, 4))
    asked = [request.url.params["date"] for request in harness.transport.to("twse")]
    assert asked == ["20260301"] and history.months_requested == 1
    assert {bar.date.month for bar in history.bars} == {3}
