"""Batch quotes: cached symbols are reused, the missing ones fetched in as few requests as can be.

Taiwan codes come from MIS: the cache is read for every code in one ``get_many``; only the
codes without a fresh quote are fetched, their channels packed ``mis_max_channels`` to a
request (a code of unknown market takes both channels, the wrong one is ignored), the
requests run concurrently (the HTTP layer's rate limiter spaces them). Markets seen in the
answers are remembered (:class:`MarketBook`). When a request fails, each of its codes gets its
stale cached quote (flagged ``stale``) if one is left, otherwise a per-symbol error: one
symbol's failure never sinks the others. Yahoo symbols go through ``get_or_fetch`` one by one.

Quote lifetime follows Taipei trading hours (:meth:`TradingHours.quote_ttl`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from cache import CacheMeta, CachePolicy, CacheResult, TieredCache, make_key
from tools.freshness import CacheInfo
from tools.http.errors import UpstreamError
from tools.stocks.config import StocksConfig
from tools.stocks.errors import UnknownSymbol
from tools.stocks.mis import MisRealtime, channels_for, entry_code, entry_market, to_quote
from tools.stocks.models import Market, Quote, QuoteBatch, SymbolError
from tools.stocks.symbols import MarketBook, Resolved
from tools.stocks.yahoo import YahooChart
from tools.stocks.yahoo import to_quote as yahoo_quote

QUOTE_NAMESPACE = "stocks.quote"
YAHOO_QUOTE_NAMESPACE = "stocks.yahoo_quote"
_FETCHED = CacheInfo(hit=False, tier=None, age_seconds=0.0, stale=False)

Entries = dict[str, dict[str, Any]]
Failures = dict[str, UpstreamError]


def quote_key(code: str) -> str:
    return make_key(QUOTE_NAMESPACE, {"code": code})


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
    ) -> None:
        self._mis, self._yahoo, self._cache, self._book = mis, yahoo, cache, book
        self._config, self._clock = config, clock

    def quote_policy(self, namespace: str = QUOTE_NAMESPACE) -> CachePolicy:
        """The quote policy for now: its lifetime depends on the Taipei session."""
        lifetimes = self._config.ttl
        ttl = self._config.hours.quote_ttl(
            self._clock(), lifetimes.stocks_quote_fresh, lifetimes.stocks_quote_max_closed
        )
        return CachePolicy(namespace, fresh_ttl=ttl, stale_ttl=ttl + self._config.quote_stale_window)

    async def quotes(self, items: Sequence[Resolved]) -> QuoteBatch:
        """Quotes in the order asked (duplicates once), errors for the symbols that failed."""
        unique = list({item.symbol: item for item in items}.values())
        taiwan = [item for item in unique if item.source == "taiwan"]
        yahoo = [item for item in unique if item.source == "yahoo"]
        answers: dict[str, Quote | SymbolError] = await self._taiwan(taiwan) if taiwan else {}
        for item, answer in zip(yahoo, await asyncio.gather(*(self._yahoo_one(item) for item in yahoo)), strict=True):
            answers[item.symbol] = answer
        ordered = [answers[item.symbol] for item in unique]
        return QuoteBatch(
            quotes=[answer for answer in ordered if isinstance(answer, Quote)],
            errors=[answer for answer in ordered if isinstance(answer, SymbolError)],
        )

    async def fetch_entries(self, markets: dict[str, Market | None]) -> tuple[Entries, Failures]:
        """MIS entries by code for ``markets`` (code -> market or None); failed codes apart.

        Markets learned from the answers (codes given with None) are remembered.
        """
        channels = [(channel, code) for code, market in markets.items() for channel in channels_for(code, market)]
        size = self._config.mis_max_channels
        chunks = [channels[start : start + size] for start in range(0, len(channels), size)]
        outcomes = await asyncio.gather(*(self._fetch_chunk([channel for channel, _ in chunk]) for chunk in chunks))
        entries: Entries = {}
        failures: Failures = {}
        for chunk, outcome in zip(chunks, outcomes, strict=True):
            if isinstance(outcome, UpstreamError):
                failures.update({code: outcome for _, code in chunk})
                continue
            for entry in outcome:
                code = entry_code(entry)
                if code in markets and markets[code] in (None, entry_market(entry)):
                    entries[code] = entry
        learned = {
            code: entry_market(entries[code]) for code, market in markets.items() if market is None and code in entries
        }
        await self._book.remember({code: market for code, market in learned.items() if market is not None})
        return entries, {code: error for code, error in failures.items() if code not in entries}

    async def store(self, quotes: Sequence[Quote]) -> None:
        """Cache freshly fetched Taiwan quotes under the session-dependent policy."""
        if quotes:
            items = [(quote_key(quote.symbol), quote.model_dump(mode="json", exclude={"cache"})) for quote in quotes]
            await self._cache.set_many(items, self.quote_policy())

    async def _fetch_chunk(self, channels: list[str]) -> list[dict[str, Any]] | UpstreamError:
        try:
            return await self._mis.fetch(channels)
        except UpstreamError as exc:
            return exc

    async def _taiwan(self, items: list[Resolved]) -> dict[str, Quote | SymbolError]:
        cached = await self._cache.get_many([quote_key(item.symbol) for item in items])
        answers: dict[str, Quote | SymbolError] = {}
        missing: list[Resolved] = []
        for item in items:
            hit = cached.get(quote_key(item.symbol))
            if hit is not None and not hit.meta.stale and _fits(hit, item):
                answers[item.symbol] = _cached_quote(hit)
            else:
                missing.append(item)
        if not missing:
            return answers
        known = await self._book.known(item.symbol for item in missing if item.market is None)
        markets = {item.symbol: item.market or known.get(item.symbol) for item in missing}
        entries, failures = await self.fetch_entries(markets)
        fresh = {code: to_quote(entry) for code, entry in entries.items()}
        await self.store(list(fresh.values()))
        for item in missing:
            answers[item.symbol] = self._answer(item, fresh, failures, cached.get(quote_key(item.symbol)))
        return answers

    def _answer(
        self, item: Resolved, fresh: dict[str, Quote], failures: Failures, stale: CacheResult[Any] | None
    ) -> Quote | SymbolError:
        code = item.symbol
        if code in fresh:
            return fresh[code].model_copy(update={"cache": _FETCHED})
        error = failures.get(code)
        if error is None:
            where = f" on {item.market}" if item.explicit and item.market else ""
            error = UnknownSymbol("mis", code, f"no realtime entry{where}")
        elif stale is not None and _fits(stale, item):
            return _cached_quote(stale)
        return SymbolError(symbol=code, error=str(error))

    async def _yahoo_one(self, item: Resolved) -> Quote | SymbolError:
        policy = CachePolicy(
            YAHOO_QUOTE_NAMESPACE,
            fresh_ttl=self._config.yahoo_quote_fresh,
            stale_ttl=self._config.yahoo_quote_fresh + self._config.quote_stale_window,
        )

        async def load() -> dict[str, Any]:
            chart = await self._yahoo.fetch(item.symbol, range_="1d")
            return yahoo_quote(chart).model_dump(mode="json", exclude={"cache"})

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
    meta: CacheMeta = result.meta
    return Quote.model_validate({**result.value, "cache": CacheInfo.from_meta(meta).model_dump()})
