"""Taipei trading hours and the quote lifetime (the weekday fallback, then through the service),
with fixed clocks around 13:30 and a weekend.

2026-09-04 is a Friday; 2026-09-07 a Monday. All times are Asia/Taipei wall-clock times turned
into epochs, so the server's own time zone plays no part.
"""

from __future__ import annotations

import pytest

from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory, bounded_memory
from tests.support.recorded_upstream import stocks_upstream
from tests.support.stocks import Harness, taipei
from tools.stocks.sessions import TradingHours
from tools.stocks.trading_calendar import Calendar

HOURS = TradingHours()
CAP = 12 * 3600


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (taipei(2026, 9, 1, 13, 29, 0), 60),  # Tuesday, in session
        (taipei(2026, 9, 1, 13, 31, 0), 60),  # settle window after the close auction
        (taipei(2026, 9, 1, 13, 36, 0), CAP),  # until Wed 09:00 is 19h24m: capped at 12 h
        (taipei(2026, 9, 1, 23, 0, 0), 10 * 3600),  # until Wed 09:00
        (taipei(2026, 9, 7, 8, 59, 30), 30),  # Monday just before the open
        (taipei(2026, 9, 5, 11, 0, 0), CAP),  # Saturday
        (taipei(2026, 9, 6, 22, 0, 0), 11 * 3600),  # Sunday night: until Monday 09:00
    ],
)
def test_quote_ttl_of_the_weekday_fallback(when: float, expected: float) -> None:
    weekdays = Calendar("XTAI", HOURS)  # no session table: these hours, holidays unknown (capped)
    assert weekdays.quote_ttl(when, in_session=60, closed_cap=CAP, settle=HOURS.settle_seconds) == expected


def test_session_edges_and_next_open() -> None:
    assert HOURS.is_open(taipei(2026, 9, 1, 9, 0, 0))
    assert not HOURS.is_open(taipei(2026, 9, 1, 13, 30, 0))
    assert not HOURS.is_open(taipei(2026, 9, 5, 10, 0, 0))  # Saturday
    assert HOURS.next_open(taipei(2026, 9, 4, 14, 0)) == taipei(2026, 9, 7, 9, 0)
    assert HOURS.next_open(taipei(2026, 9, 1, 8, 0)) == taipei(2026, 9, 1, 9, 0)


async def quote_once(harness: Harness) -> None:
    """One quote call, and the refresh it started when it was served a stale quote."""
    batch = await harness.service.get_quotes(["2330"], "twse")
    assert batch.quotes and not batch.errors
    await harness.cache.wait_idle()


async def test_cached_quote_lifetime_follows_the_session(make_cache: CacheFactory) -> None:
    clock = ManualClock(taipei(2026, 9, 1, 13, 29, 0))  # Tuesday, 1 minute before the close
    cache = make_cache(bounded_memory(clock), clock=clock)
    transport = stocks_upstream()
    harness = Harness(transport, cache, clock)
    try:
        await quote_once(harness)
        clock.advance(59)  # 13:29:59: still fresh
        await quote_once(harness)
        assert len(transport.to("mis")) == 1
        clock.advance(2)  # 13:30:01: 61 s old, in the settle window: refreshed
        await quote_once(harness)
        assert len(transport.to("mis")) == 2
        clock.set(taipei(2026, 9, 1, 13, 40, 0))  # after the close: kept until the next open
        await quote_once(harness)
        assert len(transport.to("mis")) == 3
        clock.set(taipei(2026, 9, 2, 8, 59, 0))  # 19h19m later: still the same quote (XTAI known: no cap)
        await quote_once(harness)
        assert len(transport.to("mis")) == 3
        clock.set(taipei(2026, 9, 2, 9, 0, 30))  # Wednesday's session open: refreshed
        await quote_once(harness)
        assert len(transport.to("mis")) == 4
    finally:
        await harness.aclose()
        await cache.aclose()


async def test_weekend_quote_lives_until_monday_open(make_cache: CacheFactory) -> None:
    clock = ManualClock(taipei(2026, 9, 6, 22, 0, 0))  # Sunday 22:00: 11 h to the open
    cache = make_cache(bounded_memory(clock), clock=clock)
    transport = stocks_upstream()
    harness = Harness(transport, cache, clock)
    try:
        await quote_once(harness)
        clock.set(taipei(2026, 9, 7, 8, 59, 0))
        await quote_once(harness)
        assert len(transport.to("mis")) == 1
        clock.set(taipei(2026, 9, 7, 9, 0, 30))  # Monday, session open: refreshed
        await quote_once(harness)
        assert len(transport.to("mis")) == 2
    finally:
        await harness.aclose()
        await cache.aclose()
