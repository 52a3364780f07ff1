"""Relative ranges (period=..., ranges up to today, the analysis window) across midnight.

Served at 23:59, the upstream down, at 00:01 the call answers the previous window, flagged
stale, instead of failing; with the upstream back, the window moves to the new day. Taiwan
ranges count days in Taipei, Yahoo ranges in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from tests.support.clock import ManualClock
from tests.support.stocks import Harness, taipei


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()


async def test_taiwan_period_served_stale_after_midnight_when_twse_is_down(
    harness: Harness, clock: ManualClock
) -> None:
    clock.set(taipei(2026, 9, 30, 23, 59))  # the next day is in a month no entry covers yet
    served = await harness.service.get_history("2330", period="1mo")
    assert (served.start, served.end) == (date(2026, 8, 30), date(2026, 9, 30)) and not served.cache.stale
    clock.set(taipei(2026, 10, 1, 0, 1))
    harness.transport.down.add("twse")
    again = await harness.service.get_history("2330", period="1mo")
    assert again.cache.hit and again.cache.stale
    assert (again.start, again.end, again.bars) == (served.start, served.end, served.bars)
    assert again.months_requested == again.months_from_cache == 2


async def test_the_window_moves_to_the_new_day_once_the_upstream_answers(harness: Harness, clock: ManualClock) -> None:
    clock.set(taipei(2026, 9, 30, 23, 59))
    await harness.service.get_history("2330", period="1mo")
    clock.set(taipei(2026, 10, 1, 0, 0, 30))  # fresh until midnight only: stale now, refreshed behind
    stale = await harness.service.get_history("2330", period="1mo")
    assert stale.cache.stale and stale.end == date(2026, 9, 30)
    await harness.cache.wait_idle()
    moved = await harness.service.get_history("2330", period="1mo")
    assert (moved.start, moved.end) == (date(2026, 9, 1), date(2026, 10, 1)) and not moved.cache.stale


async def test_range_up_to_today_and_default_period_keep_their_entry(harness: Harness, clock: ManualClock) -> None:
    clock.set(taipei(2026, 9, 30, 23, 59))
    by_start = await harness.service.get_history("2330", start=date(2026, 9, 1))
    default = await harness.service.get_history("2330")  # no dates, no period: the last month
    clock.set(taipei(2026, 10, 1, 0, 1))
    harness.transport.down.add("twse")
    assert (await harness.service.get_history("2330", start=date(2026, 9, 1))).bars == by_start.bars
    assert (await harness.service.get_history("2330", period="1mo")).bars == default.bars


async def test_yahoo_period_and_analysis_served_stale_after_utc_midnight(harness: Harness, clock: ManualClock) -> None:
    clock.set(utc(2020, 11, 6, 23, 59))  # the recorded AAPL chart ends on 2020-11-06
    history = await harness.service.get_history("AAPL", period="1mo")
    analysis = await harness.service.analyze("AAPL")
    assert history.end == date(2020, 11, 6) and len(history.bars) == 24
    clock.set(utc(2020, 11, 7, 0, 1))
    harness.transport.down.add("yahoo")
    again = await harness.service.get_history("AAPL", period="1mo")
    assert again.cache.stale and (again.start, again.end, again.bars) == (history.start, history.end, history.bars)
    later = await harness.service.analyze("AAPL")
    assert later.cache.stale and later.moving_averages == analysis.moving_averages
    await harness.cache.wait_idle()
    assert len(harness.transport.to("yahoo")) == 4  # one fetch each, then one failed refresh each


async def test_closed_ranges_are_still_keyed_by_their_dates(harness: Harness) -> None:
    first = await harness.service.get_history("2330", start=date(2026, 8, 3), end=date(2026, 8, 31))
    second = await harness.service.get_history("2330", start=date(2026, 8, 10), end=date(2026, 8, 20))
    assert first.months_requested == second.months_requested == 1 and second.months_from_cache == 1
    assert second.bars[0].date == date(2026, 8, 10) and second.bars[-1].date == date(2026, 8, 20)
