"""``PriceDesk``: a symbol's daily bars over a range, as every tool that reads ranges sees them.

get_price_history, compare_stocks and analyze_stock read the same spans: a range that has ended
through the month (Taiwan, ``stocks.month``) or chart (Yahoo) entries, one that reaches today
through its ``stocks.recent`` entry (:mod:`tools.stocks.recent`). No request is made for a range
or month without a session on the symbol's trading calendar (:mod:`tools.stocks.trading_calendar`),
and a named period (``1mo``..., or no dates at all) ends on that calendar's last session on or
before today: asked on a weekend or holiday it ends on the session before and counts back from it.
It also knows which exchange (TWSE or TPEx) a Taiwan code trades on (MIS, else the month data).
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime

from tools.budget import json_size
from tools.errors import InvalidInput
from tools.http.errors import UpstreamError
from tools.stocks.actions import ActionsDesk, refuse_tpex, with_metas
from tools.stocks.config import StocksConfig
from tools.stocks.errors import UnknownSymbol
from tools.stocks.exchanges import TAIWAN
from tools.stocks.history import Bars, HistoryDesk, months_between, yahoo_bars
from tools.stocks.models import Market, PriceHistory
from tools.stocks.paging import Asked, bound_bars
from tools.stocks.progress import Progress
from tools.stocks.quotes import QuoteDesk
from tools.stocks.ranges import DEFAULT_PERIOD, Period, period_start, resolve_range
from tools.stocks.recent import Fetch, Recent, RecentRanges, Window
from tools.stocks.symbols import MarketBook, Resolved
from tools.stocks.trading_calendar import Calendar, TradingCalendars

log = logging.getLogger(__name__)


class PriceDesk:
    """Bars of one symbol over a range through the cache; see the module docstring."""

    def __init__(
        self,
        *,
        history: HistoryDesk,
        recent: RecentRanges,
        actions: ActionsDesk,
        quotes: QuoteDesk,
        book: MarketBook,
        calendars: TradingCalendars,
        config: StocksConfig,
        clock: Callable[[], float],
    ) -> None:
        self.history, self.recent, self._actions, self.quotes = history, recent, actions, quotes
        self._book, self.calendars, self.config, self._clock = book, calendars, config, clock

    async def get_history(
        self,
        item: Resolved,
        *,
        start: date | None = None,
        end: date | None = None,
        period: Period | None = None,
        on_progress: Progress | None = None,
        events: bool = False,
        adjusted: bool = False,
    ) -> PriceHistory:
        """Daily bars of ``item`` over explicit dates or a named period (default: 1 month),
        bounded (:mod:`tools.stocks.paging`); ``on_progress`` hears of each Taiwan month read.
        ``events``/``adjusted``: the corporate actions and adjusted closes (:mod:`tools.stocks.actions`)."""
        today = self.today(item)
        first, last = resolve_range(start, end, period, today)  # strict arguments before the calendar
        if item.source == "taiwan" and first < self.config.taiwan_earliest:
            raise InvalidInput(
                "start_date",
                f"Taiwan daily bars start on {self.config.taiwan_earliest.isoformat()}; for older data ask "
                f"Yahoo with symbol '{item.symbol}.TW' (or '.TWO' for TPEx codes)",
            )
        ends = await self.session_ends(item)
        first, last = resolve_range(start, end, period, today, ends(today))
        if (events or adjusted) and item.source == "taiwan":  # before any month is read
            refuse_tpex(await self.market_of(item, probe=(last.year, last.month)), item.symbol, adjusted)
        fetched_to = last
        months = months_between(first, last)
        if item.source == "taiwan" and len(months) > self.config.history_max_months:
            year, month = months[self.config.history_max_months - 1]
            fetched_to = date(year, month, calendar.monthrange(year, month)[1])
        named = period or (DEFAULT_PERIOD if start is None and end is None else None)
        if fetched_to < (last if named else today):  # a range that has ended: the entries of its dates
            bars, resolved_market = await self.bars(item, first, fetched_to, on_progress)
            span = Recent.of(item, bars, resolved_market, first, fetched_to)
        else:  # it reaches today: one entry for what was asked, whatever the day (tools.stocks.recent)
            asked, window = recent_ask(named, first, ends)
            span = await self.recent.get(item, asked, window, self.fetcher(item, on_progress))
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

    def fetcher(self, item: Resolved, on_progress: Progress | None = None) -> Fetch:
        """Bars between two days for a ``stocks.recent`` loader: Taiwan through the month entries,
        Yahoo straight from the upstream (the recent entry is its only cache entry)."""

        async def fetch(first: date, last: date) -> tuple[Bars, Market]:
            if item.source == "yahoo":
                return yahoo_bars(await self.history.yahoo_range(item.symbol, first, last), []), "Yahoo"
            return await self.bars(item, first, last, on_progress)

        return fetch

    async def bars(
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

    async def span(self, item: Resolved, start: date | None, end: date | None, period: Period | None) -> Recent:
        """Bars of ``item`` over the range asked, through the cache, as get_price_history reads
        them (month or chart entries for a range that has ended, a recent entry otherwise)."""
        today = self.today(item)
        resolve_range(start, end, period, today)  # strict arguments before the calendar is built
        ends = await self.session_ends(item)
        first, last = resolve_range(start, end, period, today, ends(today))
        named = period or (DEFAULT_PERIOD if start is None else None)
        if last < (ends(today) if named else today):
            bars, market = await self.bars(item, first, last)
            return Recent.of(item, bars, market, first, last)
        asked, window = recent_ask(named, first, ends)
        return await self.recent.get(item, asked, window, self.fetcher(item))

    async def session_ends(self, item: Resolved) -> Callable[[date], date]:
        """Day -> the last session on or before it on the symbol's calendar (the day itself
        when the calendar has none): where a period ends on a weekend or holiday."""
        calendar = await self.calendar_of(item)

        def ends(day: date) -> date:
            return calendar.last_session(day) or day

        return ends

    def earliest(self, item: Resolved) -> date:
        return self.config.taiwan_earliest if item.source == "taiwan" else date.min

    def today(self, item: Resolved) -> date:
        now = self._clock()
        return self.config.hours.today(now) if item.source == "taiwan" else datetime.fromtimestamp(now, UTC).date()


def recent_ask(named: Period | None, first: date, ends: Callable[[date], date]) -> tuple[dict[str, str], Window]:
    """The ``stocks.recent`` key part and window of a range that reaches today: a period
    ``named`` ends on ``ends(day)`` (the last session) and counts back from it; a range from a
    start date ``first`` runs to the day itself."""
    if named is not None:
        return {"period": named}, lambda day: (period_start(named, ends(day)), ends(day))
    return {"start": first.isoformat()}, lambda day: (first, max(first, day))
