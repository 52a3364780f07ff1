"""``StocksService``: the stock tools' one entry point (quotes, history, info, analysis, indices).

Each family of answers has its desk: quotes (:mod:`tools.stocks.quotes`), ranges of daily bars
(:mod:`tools.stocks.prices`), flows and margin (:mod:`tools.stocks.flows_service`), info.

Collaborators are injected: one ``UpstreamClient`` per upstream (twse, tpex, mis, yahoo: they
carry the retry policy, breaker and rate limiter), the ``TieredCache``, a
:class:`StocksConfig` and a clock (epoch seconds). Every answer carries cache metadata; every
failure is a ``tools.http.errors.UpstreamError`` (domain ones from ``tools.stocks.errors``) or
``tools.errors.InvalidInput`` naming the argument to change.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from cache import TieredCache, make_key
from tools.budget import json_size
from tools.errors import InvalidInput
from tools.freshness import CacheInfo
from tools.http.client import UpstreamClient
from tools.http.errors import BadPayload
from tools.stocks import analysis, indicators
from tools.stocks import compare as compare_desk
from tools.stocks import mis as mis_api
from tools.stocks.actions import ActionsDesk
from tools.stocks.analysis_models import StockAnalysis
from tools.stocks.compare_models import Comparison, Currency
from tools.stocks.config import StocksConfig
from tools.stocks.errors import NoDataInRange
from tools.stocks.exchanges import TAIWAN
from tools.stocks.flows_service import FlowsDesk
from tools.stocks.history import HistoryDesk
from tools.stocks.info import InfoDesk
from tools.stocks.market_days import MarketDays
from tools.stocks.models import IndexQuote, Market, MarketOverview, PriceHistory, QuoteBatch, StockInfo
from tools.stocks.paging import bound_signals
from tools.stocks.prices import PriceDesk
from tools.stocks.progress import Progress
from tools.stocks.quotes import QUOTE_NAMESPACE, QuoteDesk
from tools.stocks.ranges import Period, months_back, resolve_range
from tools.stocks.recent import Recent, RecentRanges
from tools.stocks.symbols import MarketBook, MarketChoice, Resolved, resolve
from tools.stocks.tpex import TpexDaily
from tools.stocks.trading_calendar import TradingCalendars
from tools.stocks.twse import TwseDaily
from tools.stocks.twt49u import TwseExRights
from tools.stocks.yahoo import YahooChart

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
        self._info = InfoDesk(self.quotes, self._yahoo, cache, self.config, clock)
        self.flows = FlowsDesk(
            MarketDays(twse, tpex, cache, self.config, clock),
            self.market_of,
            self._book,
            self.config,
            lambda: self.calendars.get(TAIWAN),
        )
        self._actions = ActionsDesk(TwseExRights(twse), self.history, cache, self.config, clock)
        self.prices = PriceDesk(
            history=self.history,
            recent=RecentRanges(cache, self.config, clock),
            actions=self._actions,
            quotes=self.quotes,
            book=self._book,
            calendars=self.calendars,
            config=self.config,
            clock=clock,
        )

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
        bounded; corporate actions and adjusted closes on request (:mod:`tools.stocks.prices`)."""
        return await self.prices.get_history(
            resolve(symbol, market),
            start=start,
            end=end,
            period=period,
            on_progress=on_progress,
            events=events,
            adjusted=adjusted,
        )

    async def market_of(self, item: Resolved, probe: tuple[int, int] | None = None) -> Market:
        """TWSE or TPEx for a Taiwan code (:meth:`tools.stocks.prices.PriceDesk.market_of`)."""
        return await self.prices.market_of(item, probe)

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
            first, last = resolve_range(start, end, period, self.prices.today(item))
            compare_desk.check_range(first, last, self.prices.earliest(item))

        async def span(item: Resolved) -> Recent:
            return await self.prices.span(item, start, end, period)

        explicit = start is not None or end is not None or period != "1y"
        budget = self.config.explicit_budget if explicit else self.config.record_budget
        return await compare_desk.compare(items, span, currency, budget, on_progress)

    # -- info --------------------------------------------------------------------------------

    async def get_info(self, symbol: str, market: MarketChoice = "auto") -> StockInfo:
        """Name, market, currency, exchange and what the upstream says about ``symbol``."""
        return await self._info.get(resolve(symbol, market))

    # -- analysis ----------------------------------------------------------------------------

    async def analyze(
        self, symbol: str, market: MarketChoice = "auto", days: int | None = None, end: date | None = None
    ) -> StockAnalysis:
        """MA5/10/20/60, RSI/MACD/Bollinger (:mod:`tools.stocks.indicators`) on the last day and
        BestFourPoint signals for the last ``days`` trading days up to ``end`` (default: the last session),
        the newest days that fit the record budget (:mod:`tools.stocks.paging`)."""
        item = resolve(symbol, market)
        if end is not None and end < self.prices.earliest(item):
            raise InvalidInput("end_date", f"Taiwan daily bars start on {self.config.taiwan_earliest.isoformat()}")
        months, ends = self.config.analysis_months, await self.prices.session_ends(item)

        def window(day: date) -> tuple[date, date]:  # months of sessions up to the last one
            last = ends(day)
            return months_back(last.replace(day=1), months - 1), last

        if end is not None and end < self.prices.today(item):  # as of a past day: the month entries
            first, last = window(end)
            bars, resolved_market = await self.prices.bars(item, max(first, self.prices.earliest(item)), last)
            span = Recent.of(item, bars, resolved_market, first, last)
        else:
            span = await self.prices.recent.get(item, {"analysis_months": months}, window, self.prices.fetcher(item))
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
            trading_now=(await self.calendars.get(TAIWAN)).is_open(self._clock()),  # built by the policy
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
