"""get_stock_info's lifetime and market_overview's ``trading_now`` follow the exchange calendars
(XTAI for Taiwan codes, XLON for OCDO.L), not weekday hours: on a Taiwan holiday the info lives
until the next session opens and the market is not trading. Clocks are injected (ManualClock)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from cache.engine.tiered import TieredCache
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory, bounded_memory
from tests.support.recorded_upstream import RecordedUpstream
from tests.support.stocks import Harness, taipei


async def test_taiwan_info_on_a_holiday_lives_until_the_next_session(
    transport: RecordedUpstream, make_cache: CacheFactory
) -> None:
    # Friday 2026-09-25 (Mid-Autumn) and Monday 09-28 (Teachers' Day): the next session is Tuesday
    clock = ManualClock(taipei(2026, 9, 25, 10, 0))
    cache = make_cache(bounded_memory(clock), clock=clock)
    harness = Harness(transport, cache, clock)
    try:
        info = await harness.service.get_info("2330")
        assert info.cache is not None
        assert info.cache.fresh_for_seconds == taipei(2026, 9, 29, 9, 0) - taipei(2026, 9, 25, 10, 0)
        clock.set(taipei(2026, 9, 29, 8, 59))
        again = await harness.service.get_info("2330")
        assert again.cache is not None and again.cache.hit and not again.cache.stale
    finally:
        await harness.aclose()
        await cache.aclose()


async def test_market_overview_is_not_trading_on_a_holiday_morning(
    transport: RecordedUpstream, cache: TieredCache
) -> None:
    harness = Harness(transport, cache, lambda: taipei(2026, 9, 25, 10, 0))  # weekday hours would say open
    try:
        overview = await harness.service.market_overview()
        assert overview.trading_now is False
    finally:
        await harness.aclose()
    harness = Harness(transport, cache, lambda: taipei(2026, 9, 24, 10, 0))  # the session before
    try:
        assert (await harness.service.market_overview()).trading_now is True
    finally:
        await harness.aclose()


async def test_yahoo_info_lives_until_its_exchange_opens(harness: Harness) -> None:
    # Friday 2026-09-04 14:00 Taipei is 07:00 in London: the LSE opens at 08:00
    info = await harness.service.get_info("OCDO.L")
    opens = datetime(2026, 9, 4, 8, 0, tzinfo=ZoneInfo("Europe/London")).timestamp()
    assert info.cache is not None and info.cache.fresh_for_seconds == opens - taipei(2026, 9, 4, 14, 0)
