"""Batch quotes: every symbol read through the cache engine, cold Taiwan codes fetched together.

Every quote is one cache entry read with ``get_or_fetch`` (single-flight per key, stale while
revalidate, stale on error): concurrent callers of a symbol share one fetch, and a stale quote
is answered at once while it is refreshed (or kept, flagged ``stale``, when the upstream is
down). Taiwan loaders do not call MIS one by one: they join a :class:`MisBatcher` request, so
one call's cold codes (and those of concurrent calls) leave in as few MIS requests as the
channel limit allows; a caller announces its codes first so the request waits for all of them.
Markets seen in the answers are remembered (:class:`MarketBook`). A symbol that fails gets a
per-symbol error: it never sinks the others. Yahoo symbols are read the same way, one by one.

A quote is keyed by its code alone, whichever market it came from; a caller naming the other
market than the cached quote's asks MIS again under a key of that market.

Quote lifetime follows the exchange's calendar (:meth:`Calendar.quote_ttl`): Taiwan quotes the
``XTAI`` sessions, Yahoo ones their exchange's (:mod:`tools.stocks.exchanges`), holidays included.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from cache import CachePolicy, CacheResult, Loader, TieredCache, make_key
from tools.freshness import CacheInfo
from tools.gathering import gather
from tools.http.errors import UpstreamError
from tools.stocks.config import StocksConfig
from tools.stocks.errors import UnknownSymbol
from tools.stocks.exchanges import TAIWAN, ExchangeBook
from tools.stocks.mis import MisRealtime, to_quote
from tools.stocks.mis_batch import MisBatcher, Ticket
from tools.stocks.models import Market, Quote, QuoteBatch, SymbolError
from tools.stocks.paging import bound_quotes
from tools.stocks.progress import Progress, Steps
from tools.stocks.symbols import MarketBook, Resolved
from tools.stocks.trading_calendar import Calendar, TradingCalendars
from tools.stocks.yahoo import YahooChart
from tools.stocks.yahoo import to_quote as yahoo_quote

QUOTE_NAMESPACE = "stocks.quote"
YAHOO_QUOTE_NAMESPACE = "stocks.yahoo_quote"


def quote_key(code: str, market: Market | None = None) -> str:
    """The key of a code's quote; with ``market``, of its quote on that market (see the module doc)."""
    return make_key(QUOTE_NAMESPACE, {"code": code, "market": market})


class QuoteDesk:
    """Quotes for resolved symbols, through the cache."""

    def __init__(
        self,
        mis: MisRealtime,
        yahoo: YahooChart,
        cache: TieredCache,
        book: MarketBook,
        config: StocksConfig,
        clock: Callable[[], float],
        calendars: TradingCalendars,
    ) -> None:
        self._yahoo, self._cache = yahoo, cache
        self._config, self._clock = config, clock
        self.calendars, self.exchanges = calendars, ExchangeBook()
        self.batcher = MisBatcher(mis, book, max_channels=config.mis_max_channels, window=config.mis_batch_window)

    async def quote_policy(self, namespace: str = QUOTE_NAMESPACE) -> CachePolicy:
        """The Taiwan quote policy for now: its lifetime follows the XTAI sessions."""
        calendar = await self.calendars.get(TAIWAN)
        return self._policy(namespace, calendar, self._config.ttl.stocks_quote_fresh)

    def _policy(self, namespace: str, calendar: Calendar, in_session: float) -> CachePolicy:
        ttl = calendar.quote_ttl(
            self._clock(), in_session, self._config.ttl.stocks_quote_max_closed, self._config.hours.settle_seconds
        )
        return CachePolicy(namespace, fresh_ttl=ttl, stale_ttl=ttl + self._config.quote_stale_window)

    async def quotes(self, items: Sequence[Resolved], on_progress: Progress | None = None) -> QuoteBatch:
        """Quotes in the order asked (duplicates once), errors for the symbols that failed; the
        first symbols' answers that fit the record budget (:func:`bound_quotes`).
        ``on_progress`` hears of each symbol as it is answered."""
        unique = list({item.symbol: item for item in items}.values())
        taiwan = [item for item in unique if item.source == "taiwan"]
        yahoo = [item for item in unique if item.source == "yahoo"]
        steps = Steps(on_progress, len(unique))

        async def told(item: Resolved, answer: Awaitable[Quote | SymbolError]) -> Quote | SymbolError:
            found = await answer
            await steps.step(f"{item.symbol}: {'failed' if isinstance(found, SymbolError) else 'quote'}")
            return found

        with self.batcher.expect(item.symbol for item in taiwan) as ticket:
            found = await gather(
                *(told(item, self._taiwan_answer(item, ticket)) for item in taiwan),
                *(told(item, self._yahoo_one(item)) for item in yahoo),
            )
        answers = {item.symbol: answer for item, answer in zip([*taiwan, *yahoo], found, strict=True)}
        symbols = [item.symbol for item in unique]
        quotes, errors, cuts = bound_quotes(
            symbols, [answers[symbol] for symbol in symbols], self._config.record_budget
        )
        return QuoteBatch(quotes=quotes, errors=errors, truncated=True if cuts else None, cuts=cuts or None)

    async def taiwan_quote(self, item: Resolved, ticket: Ticket | None = None) -> Quote:
        """The quote of a Taiwan code through the cache; UnknownSymbol when MIS has no entry for
        it (on ``item.market`` when explicit), the upstream error when MIS failed and no stale
        quote is left. ``ticket``: the caller's announcement, told when the cache has answered."""
        policy = await self.quote_policy()
        try:
            result = await self._cache.get_or_fetch(quote_key(item.symbol), self._taiwan_loader(item), policy)
        finally:
            if ticket is not None:
                ticket.done(item.symbol)
        if not _fits(result, item):  # cached from the other market: ask the one named
            result = await self._cache.get_or_fetch(
                quote_key(item.symbol, item.market), self._taiwan_loader(item), policy
            )
        return _cached_quote(result)

    async def _taiwan_answer(self, item: Resolved, ticket: Ticket) -> Quote | SymbolError:
        try:
            return await self.taiwan_quote(item, ticket)
        except UpstreamError as exc:
            return SymbolError(symbol=item.symbol, error=str(exc))

    def _taiwan_loader(self, item: Resolved) -> Loader:
        async def load() -> dict[str, Any]:
            entry = await self.batcher.entry(item.symbol, item.market)
            if entry is None:
                where = f" on {item.market}" if item.market else ""
                raise UnknownSymbol("mis", item.symbol, f"no realtime entry{where}")
            return to_quote(entry).model_dump(mode="json")

        return load

    async def _yahoo_one(self, item: Resolved) -> Quote | SymbolError:
        code, zone = self.exchanges.of(item.symbol)
        calendar = await self.calendars.get(code, zone)
        policy = self._policy(YAHOO_QUOTE_NAMESPACE, calendar, self._config.yahoo_quote_fresh)

        async def load() -> dict[str, Any]:
            chart = await self._yahoo.fetch(item.symbol, range_="1d")
            self.exchanges.learn(item.symbol, chart.meta)
            return yahoo_quote(chart).model_dump(mode="json")

        try:
            result = await self._cache.get_or_fetch(
                make_key(YAHOO_QUOTE_NAMESPACE, {"symbol": item.symbol}), load, policy
            )
        except UpstreamError as exc:
            return SymbolError(symbol=item.symbol, error=str(exc))
        return _cached_quote(result)


def _fits(hit: CacheResult[Any], item: Resolved) -> bool:
    """A cached quote answers an explicit market only if it is from that market."""
    return not item.explicit or hit.value.get("market") == item.market


def _cached_quote(result: CacheResult[Any]) -> Quote:
    return Quote.model_validate({**result.value, "cache": CacheInfo.from_meta(result.meta)})
