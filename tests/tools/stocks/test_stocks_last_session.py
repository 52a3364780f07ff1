"""A period ends on the exchange's last session (XTAI), not on today's date: on a weekend or a
Taiwan holiday, get_price_history's period and analyze_stock's window end on the session
before, and count back from it. The clock is set to each day (injectable clock); months other
than 2026-08/09 are the synthesised ones of tests/support/replay_routes/stocks.py."""

from __future__ import annotations

from datetime import date

from cache.engine.tiered import TieredCache
from tests.support.recorded_upstream import RecordedUpstream
from tests.support.stocks import Harness, taipei


def twse_months(harness: Harness) -> list[str]:
    return sorted(request.url.params["date"] for request in harness.transport.to("twse"))


async def test_a_period_asked_on_a_sunday_ends_on_friday(transport: RecordedUpstream, cache: TieredCache) -> None:
    harness = Harness(transport, cache, lambda: taipei(2026, 9, 6, 10))  # Sunday
    try:
        history = await harness.service.get_history("2330", period="1mo")
        assert history.end == date(2026, 9, 4) and history.start == date(2026, 8, 4)  # a month back from Friday
        assert history.bars[-1].date == date(2026, 9, 4) and history.bars[0].date == date(2026, 8, 4)
        again = await harness.service.get_history("2330", period="1mo")  # the recent entry, same dates
        assert again.cache.hit and (again.start, again.end) == (history.start, history.end)
    finally:
        await harness.aclose()


async def test_the_default_period_on_a_taiwan_holiday_ends_on_the_session_before(
    transport: RecordedUpstream, cache: TieredCache
) -> None:
    # Monday 2026-09-28 (Teachers' Day) follows Friday 2026-09-25 (Mid-Autumn): the last session is Thursday
    harness = Harness(transport, cache, lambda: taipei(2026, 9, 28, 10))
    try:
        history = await harness.service.get_history("2330")
        assert history.end == date(2026, 9, 24) and history.start == date(2026, 8, 24)
        assert all(date(2026, 8, 24) <= bar.date <= date(2026, 9, 24) for bar in history.bars)
        assert twse_months(harness) == ["20260801", "20260901"]
    finally:
        await harness.aclose()


async def test_analysis_on_new_years_day_reads_its_months_up_to_december_31(
    transport: RecordedUpstream, cache: TieredCache
) -> None:
    # 2026-01-01 is a holiday: the window is the four months ending on 2025-12-31 (not Oct-Jan,
    # whose January has no session yet and would leave three months)
    harness = Harness(transport, cache, lambda: taipei(2026, 1, 1, 10))
    try:
        analysis = await harness.service.analyze("2330")
        assert twse_months(harness)[-4:] == ["20250901", "20251001", "20251101", "20251201"]
        assert "20260101" not in twse_months(harness)
        assert analysis.as_of <= date(2025, 12, 31)
    finally:
        await harness.aclose()


async def test_explicit_dates_are_unchanged_on_a_holiday(transport: RecordedUpstream, cache: TieredCache) -> None:
    harness = Harness(transport, cache, lambda: taipei(2026, 9, 28, 10))
    try:
        history = await harness.service.get_history("2330", start=date(2026, 9, 1), end=date(2026, 9, 28))
        assert (history.start, history.end) == (date(2026, 9, 1), date(2026, 9, 28))  # what was asked
    finally:
        await harness.aclose()
