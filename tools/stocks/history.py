"""Daily-bar history through the cache: exchange months for Taiwan codes, chart ranges for Yahoo.

A TWSE/TPEx history is the concatenation of the months it spans. Each month is one cache
entry (``stocks.month``, keyed by market, code and month): a month that has ended (in Taipei)
never changes and is kept ``stocks_closed_month_fresh`` (30 days by default); the current month gains
a row each trading day and is kept ``stocks_open_month_fresh``. Months are fetched concurrently,
bounded by ``month_concurrency``; the HTTP layer's per-upstream rate limiter spaces the actual
requests. A Yahoo range is one cache entry (``stocks.yahoo_chart``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from cache import CacheMeta, CachePolicy, TieredCache, make_key
from tools.decoded import decoded
from tools.gathering import gather
from tools.stocks.adjust import yahoo_corporate
from tools.stocks.config import StocksConfig
from tools.stocks.models import DailyBar, Market, MonthBars
from tools.stocks.progress import Progress, Steps
from tools.stocks.tpex import TpexDaily
from tools.stocks.twse import TwseDaily
from tools.stocks.yahoo import YahooChart, daily_bars

MONTH_NAMESPACE = "stocks.month"
YAHOO_NAMESPACE = "stocks.yahoo_chart"


class MonthSource(Protocol):
    """An exchange's daily bars by month (:class:`TwseDaily`, :class:`TpexDaily`)."""

    async def fetch_month(self, code: str, year: int, month: int) -> MonthBars: ...


@dataclass(frozen=True, slots=True)
class Bars:
    """Bars of a range plus how they were obtained."""

    bars: list[DailyBar]
    metas: list[CacheMeta]
    name: str | None = None
    currency: str | None = None
    corporate: dict[str, Any] | None = None
    """Yahoo only: events and adjusted closes (:func:`tools.stocks.adjust.yahoo_corporate`)."""


def months_between(start: date, end: date) -> list[tuple[int, int]]:
    """(year, month) pairs from ``start``'s month to ``end``'s month, inclusive."""
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


class HistoryDesk:
    """Cached month and range fetches."""

    def __init__(
        self,
        twse: TwseDaily,
        tpex: TpexDaily,
        yahoo: YahooChart,
        cache: TieredCache,
        config: StocksConfig,
        clock: Callable[[], float],
    ) -> None:
        self._daily: dict[Market, MonthSource] = {"TWSE": twse, "TPEx": tpex}
        self._yahoo, self._cache, self._config, self._clock = yahoo, cache, config, clock

    def month_policy(self, code: str, year: int, month: int) -> CachePolicy:
        """Long-lived for a month that ended before today's Taipei month, short otherwise."""
        today = self._config.hours.today(self._clock())
        closed = (year, month) < (today.year, today.month)
        fresh = self._config.ttl.stocks_closed_month_fresh if closed else self._config.ttl.stocks_open_month_fresh
        stale = self._config.closed_month_stale if closed else self._config.open_month_stale
        return CachePolicy(MONTH_NAMESPACE, fresh_ttl=fresh, stale_ttl=max(stale, fresh), tags=(f"stock:{code}",))

    async def month(self, market: Market, code: str, year: int, month: int) -> tuple[MonthBars, CacheMeta]:
        """One exchange month of ``code`` (empty when the exchange has none)."""
        daily = self._daily[market]

        async def load() -> dict[str, Any]:
            return (await daily.fetch_month(code, year, month)).model_dump(mode="json")

        key = make_key(MONTH_NAMESPACE, {"market": market, "code": code, "month": f"{year:04d}-{month:02d}"})
        result = await self._cache.get_or_fetch(key, load, self.month_policy(code, year, month))
        return decoded(MonthBars, result.value), result.meta

    async def taiwan(
        self,
        market: Market,
        code: str,
        start: date,
        end: date,
        on_progress: Progress | None = None,
        traded: Callable[[date, date], bool] | None = None,
    ) -> Bars:
        """Bars of ``code`` from ``start`` to ``end`` inclusive, months fetched concurrently;
        ``on_progress`` hears of each month as it is read (total: the months of the range).
        ``traded(first, last)``: False for a part of a month with no session (not requested)."""
        gate = asyncio.Semaphore(self._config.month_concurrency)
        wanted = [
            (year, month)
            for year, month in months_between(start, end)
            if traded is None or traded(*_clip(year, month, start, end))
        ]
        steps = Steps(on_progress, len(wanted))

        async def one(year: int, month: int) -> tuple[MonthBars, CacheMeta]:
            async with gate:
                found = await self.month(market, code, year, month)
            told = "cached" if found[1].hit else f"{len(found[0].bars)} bars"
            await steps.step(f"{code} {year:04d}-{month:02d}: {told}")
            return found

        months = await gather(*(one(year, month) for year, month in wanted))
        bars = [bar for month_bars, _ in months for bar in month_bars.bars if start <= bar.date <= end]
        name = next((month_bars.name for month_bars, _ in reversed(months) if month_bars.name), None)
        return Bars(bars=bars, metas=[meta for _, meta in months], name=name, currency="TWD")

    async def yahoo(self, symbol: str, start: date, end: date) -> Bars:
        """Daily bars of a Yahoo symbol from ``start`` to ``end`` inclusive (nulls kept as gaps),
        cached under those dates."""

        async def load() -> dict[str, Any]:
            return await self.yahoo_range(symbol, start, end)

        closed = end < datetime.fromtimestamp(self._clock(), UTC).date()
        fresh = self._config.ttl.stocks_closed_month_fresh if closed else self._config.ttl.stocks_open_month_fresh
        stale = self._config.closed_month_stale if closed else self._config.open_month_stale
        policy = CachePolicy(YAHOO_NAMESPACE, fresh_ttl=fresh, stale_ttl=max(stale, fresh))
        # "format" 2: values carry the events and adjusted closes (older entries do not).
        asked = {"symbol": symbol, "start": start.isoformat(), "end": end.isoformat(), "format": 2}
        key = make_key(YAHOO_NAMESPACE, asked)
        result = await self._cache.get_or_fetch(key, load, policy)
        return yahoo_bars(result.value, [result.meta])

    async def yahoo_range(self, symbol: str, start: date, end: date) -> dict[str, Any]:
        """The chart of a Yahoo symbol from ``start`` to ``end`` as a JSON-able value (no cache:
        for loaders; :func:`yahoo_bars` reads it back)."""
        chart = await self._yahoo.fetch(symbol, period1=_epoch(start), period2=_epoch(end + timedelta(days=1)))
        bars = [bar for bar in daily_bars(chart) if start <= bar.date <= end]
        return {
            "currency": chart.meta.get("currency"),
            "name": chart.meta.get("longName"),
            "bars": [bar.model_dump(mode="json") for bar in bars],
            "corporate": yahoo_corporate(chart, bars, start, end),
        }


def yahoo_bars(value: dict[str, Any], metas: list[CacheMeta]) -> Bars:
    """:class:`Bars` from a :meth:`HistoryDesk.yahoo_range` value."""
    bars = [DailyBar.model_validate(bar) for bar in value["bars"]]
    return Bars(
        bars=bars, metas=metas, name=value.get("name"), currency=value.get("currency"), corporate=value.get("corporate")
    )


def _clip(year: int, month: int, start: date, end: date) -> tuple[date, date]:
    """The part of ``year-month`` inside ``start..end``."""
    first = date(year, month, 1)
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return max(first, start), min(following - timedelta(days=1), end)


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
