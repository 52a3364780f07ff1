"""The session-close watch on an exchange holiday: with XTAI built (by a quote call), 2026-02-17
(Lunar New Year) has no session, so 13:30 closes nothing; before it is built the watch goes by
weekday hours and never builds it itself."""

from __future__ import annotations

from server.background import SessionWatch
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory, bounded_memory
from tests.support.recorded_upstream import stocks_upstream
from tests.support.stocks import Harness, taipei
from tools.stocks.exchanges import TAIWAN


async def test_no_closing_on_a_holiday_once_the_calendar_is_known(make_cache: CacheFactory) -> None:
    clock = ManualClock(taipei(2026, 2, 17, 10, 0))
    cache = make_cache(bounded_memory(clock), clock=clock)
    harness = Harness(stocks_upstream(), cache, clock)
    try:
        weekday = SessionWatch(harness.service, None, clock)
        assert harness.service.calendars.loaded(TAIWAN) is None
        await weekday.check()  # 10:00 on a Tuesday looks like a session by hours alone
        clock.set(taipei(2026, 2, 17, 13, 31))
        assert await weekday.check() is True and weekday.closings == 1
        assert harness.service.calendars.loaded(TAIWAN) is None  # the watch did not build it

        await harness.service.get_quotes(["2330"])  # a call builds XTAI
        watch = SessionWatch(harness.service, None, clock)
        clock.set(taipei(2026, 2, 18, 10, 0))
        await watch.check()
        clock.set(taipei(2026, 2, 18, 13, 31))
        assert await watch.check() is False and watch.closings == 0
        clock.set(taipei(2026, 2, 23, 10, 0))  # the first session after the holiday
        await watch.check()
        clock.set(taipei(2026, 2, 23, 13, 31))
        assert await watch.check() is True and watch.closings == 1
    finally:
        await harness.aclose()
        await cache.aclose()
