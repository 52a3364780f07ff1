"""Corporate actions of a history answer (``events``) and its adjusted closes (``adjusted``).

Taiwan (TWSE codes): TWT49U is asked one calendar year at a time (all codes in one request,
through the TWSE client and its rate limiter) and cached per year under ``stocks.exrights``: a
year that has ended (in Taipei) never changes and is kept ``closed_actions_fresh`` (10 years);
the current year, asked up to today, is kept like the current month of bars. A year's entry is
tagged ``stock:<code>`` for every code in it. The years of a
range are fetched concurrently (``month_concurrency``). Events run from the range's first day
to the last day asked, so pages of one long range are adjusted alike. TPEx codes have no
TWT49U rows: asking for them is refused, naming the argument, with the Yahoo symbol to use.

Yahoo: events and adjusted closes come with the chart (:func:`tools.stocks.adjust.yahoo_corporate`),
cached with the bars; a cached range older than that format is read again from Yahoo.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from cache import CacheMeta, CachePolicy, TieredCache, make_key
from tools.errors import InvalidInput
from tools.freshness import CacheInfo
from tools.stocks import adjust
from tools.stocks.config import StocksConfig
from tools.stocks.history import HistoryDesk
from tools.stocks.models import CorporateAction, DailyBar, Market
from tools.stocks.recent import Recent
from tools.stocks.twt49u import ExRight, TwseExRights

EXRIGHTS_NAMESPACE = "stocks.exrights"


@dataclass(frozen=True, slots=True)
class Corporate:
    """What ``events`` / ``adjusted`` add to a history: the bars (with ``adj_close`` when
    adjusted), the events, how adj_close was made, and the cache entries read for them."""

    bars: list[DailyBar]
    events: list[CorporateAction]
    method: str | None
    metas: list[CacheMeta]


class ActionsDesk:
    """TWT49U years through the cache, and the corporate part of a history answer."""

    def __init__(
        self,
        twse: TwseExRights,
        history: HistoryDesk,
        cache: TieredCache,
        config: StocksConfig,
        clock: Callable[[], float],
    ) -> None:
        self._twse, self._history, self._cache, self._config, self._clock = twse, history, cache, config, clock

    def year_policy(self, year: int) -> CachePolicy:
        """For good (``closed_actions_fresh``) once the Taipei year has ended; else short."""
        today = self._config.hours.today(self._clock())
        if year < today.year:
            fresh = stale = self._config.closed_actions_fresh
        else:
            fresh = self._config.ttl.stocks_open_month_fresh
            stale = max(fresh, self._config.open_month_stale)
        return CachePolicy(EXRIGHTS_NAMESPACE, fresh_ttl=fresh, stale_ttl=stale, tags_from=_code_tags)

    async def year(self, year: int) -> tuple[dict[str, list[ExRight]], CacheMeta]:
        """TWT49U rows of every code in ``year`` (up to today in the current year), by code."""
        today = self._config.hours.today(self._clock())

        async def load() -> dict[str, list[ExRight]]:
            return await self._twse.fetch(date(year, 1, 1), min(date(year, 12, 31), today))

        key = make_key(EXRIGHTS_NAMESPACE, {"year": year})
        result = await self._cache.get_or_fetch(key, load, self.year_policy(year))
        return result.value, result.meta

    async def taiwan(self, code: str, start: date, end: date) -> tuple[list[CorporateAction], list[CacheMeta]]:
        """Ex-rights/ex-dividend events of a TWSE code from ``start`` to ``end`` inclusive."""
        gate = asyncio.Semaphore(self._config.month_concurrency)

        async def one(year: int) -> tuple[dict[str, list[ExRight]], CacheMeta]:
            async with gate:
                return await self.year(year)

        years = await asyncio.gather(*(one(year) for year in range(start.year, end.year + 1)))
        rows = [row for by_code, _ in years for row in by_code.get(code, [])]
        return adjust.taiwan_actions(rows, start, end), [meta for _, meta in years]

    async def of_span(self, symbol: str, span: Recent, asked_to: date, adjusted: bool) -> Corporate:
        """:meth:`corporate` of a history's span, events up to ``asked_to`` (the last day asked)."""
        yahoo = span.corporate
        if span.market == "Yahoo" and yahoo is None:  # cached before ranges kept their events
            yahoo = (await self._history.yahoo_range(symbol, span.start, span.end))["corporate"]
        return await self.corporate(symbol, span.market, span.bars, yahoo, (span.start, asked_to), adjusted)

    async def corporate(
        self,
        symbol: str,
        market: Market,
        bars: list[DailyBar],
        yahoo: dict[str, Any] | None,
        span: tuple[date, date],
        adjusted: bool,
    ) -> Corporate:
        """Events from ``span``'s first day to its last (the last day asked) and, when
        ``adjusted``, ``bars`` with adj_close. ``yahoo``: the corporate part cached with a
        Yahoo range (:func:`tools.stocks.adjust.yahoo_corporate`)."""
        start, end = span
        refuse_tpex(market, symbol, adjusted)
        if market == "Yahoo":
            value = yahoo or {}
            events = [CorporateAction.model_validate(event) for event in value.get("events", [])]
            if not adjusted:
                return Corporate(bars, events, None, [])
            closes: dict[str, float] = value.get("adjclose", {})
            with_adj = [bar.model_copy(update={"adj_close": closes.get(bar.date.isoformat())}) for bar in bars]
            method = adjust.YAHOO_COMPUTED if value.get("computed") else adjust.YAHOO_METHOD
            return Corporate(with_adj, events, method, [])
        events, metas = await self.taiwan(symbol, start, end)
        if not adjusted:
            return Corporate(bars, events, None, metas)
        factors = [  # unrounded: the answer's factor is rounded to 8 decimals
            (event.date, event.reference_price / event.previous_close)
            for event in events
            if event.reference_price and event.previous_close
        ]
        return Corporate(adjust.adjusted(bars, factors), events, adjust.TAIWAN_METHOD, metas)


def refuse_tpex(market: Market, symbol: str, adjusted: bool) -> None:
    """TPEx codes have no TWT49U rows: refuse, naming the argument and the Yahoo symbol to ask."""
    if market == "TPEx":
        raise InvalidInput(
            "adjusted" if adjusted else "events",
            f"ex-rights data is published for TWSE codes only; ask Yahoo with symbol '{symbol}.TWO'",
        )


def _code_tags(value: dict[str, list[ExRight]]) -> list[str]:
    """``stock:<code>`` of every code in a year's entry (invalidating one code drops its years)."""
    return [f"stock:{code}" for code in value]


def with_metas(cache: CacheInfo, metas: list[CacheMeta]) -> CacheInfo:
    """``cache`` (the bars') combined with the entries read for the events."""
    if not metas:
        return cache
    bars = CacheMeta(cache.hit, cache.tier, cache.age_seconds, cache.stale, cache.fresh_for_seconds)  # type: ignore[arg-type]
    return CacheInfo.combine([bars, *metas])
