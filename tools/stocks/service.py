"""``StocksService``: the stock tools' one entry point (quotes, history, info, analysis, indices).

Collaborators are injected: one ``UpstreamClient`` per upstream (twse, tpex, mis, yahoo: they
carry the retry policy, breaker and rate limiter), the ``TieredCache``, a
:class:`StocksConfig` and a clock (epoch seconds). Every answer carries cache metadata; every
failure is a ``tools.http.errors.UpstreamError`` (domain ones from ``tools.stocks.errors``) or
``tools.errors.InvalidInput`` naming the argument to change.
"""

from __future__ import annotations

import calendar
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from cache import TieredCache, make_key
from tools.budget import json_size
from tools.errors import InvalidInput
from tools.freshness import CacheInfo
from tools.http.client import UpstreamClient
from tools.http.errors import BadPayload, UpstreamError
from tools.stocks import analysis, indicators
from tools.stocks import compare as compare_desk
from tools.stocks import mis as mis_api
from tools.stocks.actions import ActionsDesk, refuse_tpex, with_metas
from tools.stocks.analysis_models import StockAnalysis
from tools.stocks.compare_models import Comparison, Currency
from tools.stocks.config import StocksConfig
from tools.stocks.errors import NoDataInRange, UnknownSymbol
from tools.stocks.exchanges import TAIWAN
from tools.stocks.flows_service import FlowsDesk
from tools.stocks.history import Bars, HistoryDesk, months_between, yahoo_bars
from tools.stocks.info import InfoDesk
from tools.stocks.market_days import MarketDays
from tools.stocks.models import IndexQuote, Market, MarketOverview, PriceHistory, QuoteBatch, StockInfo
from tools.stocks.paging import Asked, bound_bars, bound_signals
from tools.stocks.progress import Progress
from tools.stocks.quotes import QUOTE_NAMESPACE, QuoteDesk
from tools.stocks.ranges import DEFAULT_PERIOD, Period, months_back, period_start, resolve_range
from tools.stocks.recent import Fetch, Recent, RecentRanges, Window
from tools.stocks.symbols import MarketBook, MarketChoice, Resolved, resolve
from tools.stocks.tpex import TpexDaily
from tools.stocks.trading_calendar import Calendar, TradingCalendars
from tools.stocks.twse import TwseDaily
from tools.stocks.twt49u import TwseExRights
from tools.stocks.yahoo import YahooChart

log = logging.getLogger(__name__)

OVERVIEW_NAMESPACE = "stocks.overview"


class StocksService:
    """Stock data through the cache; see the module docstring."""

    def __init__(
        self,
        *,
        twse: UpstreamClient,
        tpex: UpstreamClient,
        mis: UpstreamClient,
        yahoo: UpstreamClient,
        cache: TieredCache,
        config: StocksConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config or StocksConfig()
        self._cache, self._clock = cache, clock
        self._mis = mis_api.MisRealtime(mis)
        self._yahoo = YahooChart(yahoo)
        self._book = MarketBook(cache, self.config.market_fresh)
        self.calendars = TradingCalendars(clock)
        self.quotes = QuoteDesk(self._mis, self._yahoo, cache, self._book, self.config, clock, self.calendars)
        self.history = HistoryDesk(TwseDaily(twse), TpexDaily(tpex), self._yahoo, cache, self.config, clock)
        self._recent = RecentRanges(cache, self.config, clock)
        self._info = InfoDesk(self.quotes, self._yahoo, cache, self.config, clock)
        self.flows = FlowsDesk(
            MarketDays(twse, tpex, cache, self.config, clock), self.market_of, self._book, self.config
        )
        self._actions = ActionsDesk(TwseExRights(twse), self.history, cache, self.config, clock)

    # -- quotes ------------------------------------------------------------------------------

    async def get_quotes(
        self, symbols: Sequence[str], market: MarketChoice = "auto", on_progress: Progress | None = None
    ) -> QuoteBatch:
        """Latest prices of 1..max_symbols symbols; per-symbol failures are listed in ``errors``.
        ``on_progress`` hears of each symbol as it is answered (total: the distinct symbols)."""
        if not symbols:
            raise InvalidInput("symbols", "give at least one symbol, e.g. ['2330']")
        if len(symbols) > self.config.max_symbols:
            raise InvalidInput("symbols", f"at most {self.config.max_symbols} symbols per call, got {len(symbols)}")
        items = [resolve(symbol, market, f"symbols[{index}]") for index, symbol in enumerate(symbols)]
        return await self.quotes.quotes(items, on_progress)

    # -- history -----------------------------------------------------------------------------

    async def get_history(
        self,
        symbol: str,
        *,
        start: date | None = None,
        end: date | None = None,
        period: Period | None = None,
        market: MarketChoice = "auto",
        on_progress: Progress | None = None,
        events: bool = False,
        adjusted: bool = False,
    ) -> PriceHistory:
        """Daily bars of ``symbol`` over explicit dates or a named period (default: 1 month),
        bounded (:mod:`tools.stocks.paging`); ``on_progress`` hears of each Taiwan month read.
        ``events``/``adjusted``: the corporate actions and adjusted closes (:mod:`tools.stocks.actions`)."""
        item = resolve(symbol, market)
        today = self._today(item)
        first, last = resolve_range(start, end, period, today)
        if item.source == "taiwan" and first < self.config.taiwan_earliest:
            raise InvalidInput(
                "start_date",
                f"Taiwan daily bars start on {self.config.taiwan_earliest.isoformat()}; for older data ask "
                f"Yahoo with symbol '{item.symbol}.TW' (or '.TWO' for TPEx codes)",
            )
        if (events or adjusted) and item.source == "taiwan":  # before any month is read
            refuse_tpex(await self.market_of(item, probe=(last.year, last.month)), item.symbol, adjusted)
        fetched_to = last
        months = months_between(first, last)
        if item.source == "taiwan" and len(months) > self.config.history_max_months:
            year, month = months[self.config.history_max_months - 1]
            fetched_to = date(year, month, calendar.monthrange(year, month)[1])
        if fetched_to < today:  # a range that has ended: the month (or chart) entries of its dates
            bars, resolved_market = await self._bars(item, first, fetched_to, on_progress)
            span = Recent.of(item, bars, resolved_market, first, fetched_to)
        else:  # it reaches today: one entry for what was asked, whatever the day (tools.stocks.recent)
            asked: dict[str, str]
            window: Window
            if period is not None or (start is None and end is None):
                named = period or DEFAULT_PERIOD
                asked, window = {"period": named}, lambda day: (period_start(named, day), day)
            else:
                asked, window = {"start": first.isoformat()}, lambda day: (first, max(first, day))
            span = await self._recent.get(item, asked, window, self._fetcher(item, on_progress))
        explicit = period is not None or start is not None or end is not None
        budget = self.config.explicit_budget if explicit else self.config.record_budget
        asked_to = last if fetched_to < last else span.end  # past the months fetched: cut
        shown, corporate = span.bars, None
        if events or adjusted:
            corporate = await self._actions.of_span(item.symbol, span, asked_to, adjusted)
            shown, budget = corporate.bars, budget - json_size(corporate.events) - json_size(corporate.method)
        bars_kept, cut = bound_bars(shown, budget, Asked(start, end, period), span.end, asked_to)
        shown_to = bars_kept[-1].date if cut and bars_kept else asked_to  # the next page shows the rest
        return PriceHistory(
            symbol=item.symbol,
            market=span.market,
            currency=span.currency,
            start=span.start,
            end=asked_to,
            bars=bars_kept,
            months_requested=span.months,
            months_from_cache=span.months_cached,
            events=None if corporate is None else [event for event in corporate.events if event.date <= shown_to],
            adjustment=None if corporate is None else corporate.method,
            truncated=True if cut else None,
            cuts=[cut] if cut else None,
            cache=span.cache if corporate is None else with_metas(span.cache, corporate.metas),
        )

    def _fetcher(self, item: Resolved, on_progress: Progress | None = None) -> Fetch:
        """Bars between two days for a ``stocks.recent`` loader: Taiwan through the month entries,
        Yahoo straight from the upstream (the recent entry is its only cache entry)."""

        async def fetch(first: date, last: date) -> tuple[Bars, Market]:
            if item.source == "yahoo":
                return yahoo_bars(await self.history.yahoo_range(item.symbol, first, last), []), "Yahoo"
            return await self._bars(item, first, last, on_progress)

        return fetch

    async def _bars(
        self, item: Resolved, start: date, end: date, on_progress: Progress | None = None
    ) -> tuple[Bars, Market]:
        """Bars from ``start`` to ``end``; no request for a range (or month) without a session."""
        calendar = await self.calendar_of(item)
        if not calendar.sessions(start, end):
            if item.source == "yahoo":
                return Bars(bars=[], metas=[]), "Yahoo"
            return Bars(bars=[], metas=[], currency="TWD"), await self.market_of(item)
        if item.source == "yahoo":
            return await self.history.yahoo(item.symbol, start, end), "Yahoo"
        market = await self.market_of(item, probe=(end.year, end.month))

        def traded(first: date, last: date) -> bool:
            return bool(calendar.sessions(first, last))

        return await self.history.taiwan(market, item.symbol, start, end, on_progress, traded), market

    async def calendar_of(self, item: Resolved) -> Calendar:
        """The trading calendar of a symbol (XTAI for Taiwan codes; see tools.stocks.exchanges)."""
        if item.source == "taiwan":
            return await self.calendars.get(TAIWAN)
        return await self.calendars.get(*self.quotes.exchanges.of(item.symbol))

    async def market_of(self, item: Resolved, probe: tuple[int, int] | None = None) -> Market:
        """TWSE or TPEx for a Taiwan code: explicit, remembered, or learned from MIS.

        When MIS is down and ``probe`` (year, month) is given, the exchanges' month data for
        it decides instead (TWSE first).
        """
        if item.market is not None:
            return item.market
        known = await self._book.known([item.symbol])
        if item.symbol in known:
            return known[item.symbol]
        try:
            quote = await self.quotes.taiwan_quote(item)  # through the cache: a cached quote knows
        except UnknownSymbol:
            raise UnknownSymbol("mis", item.symbol, "listed on neither TWSE nor TPEx") from None
        except UpstreamError as exc:
            if probe is None:
                raise
            return await self._probe(item.symbol, probe, exc)
        return quote.market

    async def _probe(self, code: str, month: tuple[int, int], mis_error: UpstreamError) -> Market:
        log.warning("market of %s unknown and MIS failed (%s); probing the exchanges' month data", code, mis_error)
        for market in ("TWSE", "TPEx"):
            try:
                bars, _ = await self.history.month(market, code, *month)
            except UpstreamError:
                raise mis_error from None
            if bars.bars:
                await self._book.remember({code: market})
                return market
        raise mis_error

    # -- comparison --------------------------------------------------------------------------

    async def compare(
        self,
        symbols: Sequence[str],
        *,
        start: date | None = None,
        end: date | None = None,
        period: Period | None = None,
        currency: Currency | None = None,
        market: MarketChoice = "auto",
        on_progress: Progress | None = None,
    ) -> Comparison:
        """2-10 symbols over one range (default 1 year) aligned on common days (:mod:`tools.stocks.compare`)."""
        items = compare_desk.resolve_all(symbols, market)
        period = period or (None if start or end else "1y")
        for item in items:  # validated once, before any request
            first, last = resolve_range(start, end, period, self._today(item))
            compare_desk.check_range(first, last, self._earliest(item))

        async def span(item: Resolved) -> Recent:
            return await self.span(item, start, end, period)

        explicit = start is not None or end is not None or period != "1y"
        budget = self.config.explicit_budget if explicit else self.config.record_budget
        return await compare_desk.compare(items, span, currency, budget, on_progress)

    async def span(self, item: Resolved, start: date | None, end: date | None, period: Period | None) -> Recent:
        """Bars of ``item`` over the range asked, through the cache, as get_price_history reads
        them (month or chart entries for a range that has ended, a recent entry otherwise)."""
        first, last = resolve_range(start, end, period, self._today(item))
        if last < self._today(item):
            bars, market = await self._bars(item, first, last)
            return Recent.of(item, bars, market, first, last)
        asked: dict[str, str]
        window: Window
        if period is not None or start is None:
            named = period or DEFAULT_PERIOD
            asked, window = {"period": named}, lambda day: (period_start(named, day), day)
        else:
            asked, window = {"start": first.isoformat()}, lambda day: (first, max(first, day))
        return await self._recent.get(item, asked, window, self._fetcher(item))

    # -- info --------------------------------------------------------------------------------

    async def get_info(self, symbol: str, market: MarketChoice = "auto") -> StockInfo:
        """Name, market, currency, exchange and what the upstream says about ``symbol``."""
        return await self._info.get(resolve(symbol, market))

    # -- analysis ----------------------------------------------------------------------------

    async def analyze(
        self, symbol: str, market: MarketChoice = "auto", days: int | None = None, end: date | None = None
    ) -> StockAnalysis:
        """MA5/10/20/60, RSI/MACD/Bollinger (:mod:`tools.stocks.indicators`) on the last day and
        BestFourPoint signals for the last ``days`` trading days up to ``end`` (default: today),
        the newest days that fit the record budget (:mod:`tools.stocks.paging`)."""
        item = resolve(symbol, market)
        months = self.config.analysis_months

        def window(day: date) -> tuple[date, date]:
            return months_back(day.replace(day=1), months - 1), day

        if end is not None and end < self._earliest(item):
            raise InvalidInput("end_date", f"Taiwan daily bars start on {self.config.taiwan_earliest.isoformat()}")
        if end is not None and end < self._today(item):  # as of a past day: the month entries
            first, last = window(end)
            bars, resolved_market = await self._bars(item, max(first, self._earliest(item)), last)
            span = Recent.of(item, bars, resolved_market, first, last)
        else:
            span = await self._recent.get(item, {"analysis_months": months}, window, self._fetcher(item))
        averages = analysis.moving_averages(span.bars)
        if averages is None:
            raise NoDataInRange(span.market.lower(), item.symbol, f"no trading days since {span.start.isoformat()}")
        used = analysis.usable_bars(span.bars)
        readings = indicators.indicators([bar.close for bar in used if bar.close is not None])
        signals, cut = bound_signals(  # the indicators take their measured size out of the budget
            analysis.signals(span.bars, days or self.config.signal_days),
            self.config.record_budget - json_size(readings),
        )
        return StockAnalysis(
            symbol=item.symbol,
            market=span.market,
            as_of=averages.as_of,
            bars_used=len(used),
            moving_averages=averages,
            indicators=readings,
            latest_signal=signals[-1].signal if signals else "none",
            signals=signals,
            method=analysis.METHOD,
            truncated=True if cut else None,
            cuts=[cut] if cut else None,
            cache=span.cache,
        )

    # -- market overview ---------------------------------------------------------------------

    async def market_overview(self) -> MarketOverview:
        """TAIEX (``t00``) and the TPEx index (``o00``) from MIS."""

        async def load() -> list[dict[str, Any]]:
            entries = await self._mis.fetch([mis_api.TAIEX, mis_api.TPEX_INDEX])
            if not entries:
                raise BadPayload("mis", "no index entries in the answer for t00/o00")
            return [mis_api.to_index(entry).model_dump(mode="json") for entry in entries]

        key = make_key(OVERVIEW_NAMESPACE, {"indices": [mis_api.TAIEX, mis_api.TPEX_INDEX]})
        result = await self._cache.get_or_fetch(key, load, await self.quotes.quote_policy(OVERVIEW_NAMESPACE))
        cache = CacheInfo.from_meta(result.meta)
        return MarketOverview(
            indices=[IndexQuote.model_validate({**index, "cache": cache}) for index in result.value],
            trading_now=self.config.hours.is_open(self._clock()),
            cache=cache,
        )

    async def session_closed(self) -> None:
        """The Taipei session closed: drop cached Taiwan quotes and index levels (every tier,
        every process through the invalidation events), so the next ask gets closing prices."""
        for namespace in (QUOTE_NAMESPACE, OVERVIEW_NAMESPACE):
            await self._cache.invalidate_namespace(namespace)

    async def aclose(self) -> None:
        """Stop the MIS requests being batched (before the clients and the cache close)."""
        await self.quotes.batcher.aclose()

    # -- helpers -----------------------------------------------------------------------------

    def _earliest(self, item: Resolved) -> date:
        return self.config.taiwan_earliest if item.source == "taiwan" else date.min

    def _today(self, item: Resolved) -> date:
        now = self._clock()
        return self.config.hours.today(now) if item.source == "taiwan" else datetime.fromtimestamp(now, UTC).date()
