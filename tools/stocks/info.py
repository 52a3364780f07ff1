"""``get_stock_info`` through the cache: what a symbol is, from MIS (Taiwan) or Yahoo.

One entry per symbol (``stocks.info``). A Taiwan entry holds today's price limits and previous
close, so it lasts until the next Taipei open (capped by ``stocks_quote_max_closed``); a Yahoo
entry lasts ``stocks_quote_max_closed``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cache import CachePolicy, TieredCache, make_key
from tools.freshness import CacheInfo
from tools.stocks import mis as mis_api
from tools.stocks.config import StocksConfig
from tools.stocks.errors import UnknownSymbol
from tools.stocks.models import StockInfo, StockInfoData
from tools.stocks.quotes import QuoteDesk
from tools.stocks.symbols import Resolved
from tools.stocks.yahoo import YahooChart
from tools.stocks.yahoo import to_info as yahoo_info

INFO_NAMESPACE = "stocks.info"


class InfoDesk:
    """Cached instrument descriptions."""

    def __init__(
        self,
        quotes: QuoteDesk,
        yahoo: YahooChart,
        cache: TieredCache,
        config: StocksConfig,
        clock: Callable[[], float],
    ) -> None:
        self._quotes, self._yahoo, self._cache = quotes, yahoo, cache
        self._config, self._clock = config, clock

    async def get(self, item: Resolved) -> StockInfo:
        """The description of a resolved symbol, with the freshness of its entry."""
        loader = self._yahoo_info if item.source == "yahoo" else self._taiwan_info
        key = make_key(INFO_NAMESPACE, {"symbol": item.symbol, "market": item.market if item.explicit else None})

        async def load() -> dict[str, Any]:
            return (await loader(item)).model_dump(mode="json")

        result = await self._cache.get_or_fetch(key, load, self.policy(item))
        return StockInfo.model_validate({**result.value, "cache": CacheInfo.from_meta(result.meta)})

    async def _taiwan_info(self, item: Resolved) -> StockInfoData:
        """From the code's MIS entry, read through the quote batcher (it knows learned markets)."""
        entry = await self._quotes.batcher.entry(item.symbol, item.market)
        if entry is None:
            where = f"not listed on {item.market}" if item.market else "listed on neither TWSE nor TPEx"
            raise UnknownSymbol("mis", item.symbol, where)
        return mis_api.to_info(entry)

    async def _yahoo_info(self, item: Resolved) -> StockInfoData:
        return yahoo_info(await self._yahoo.fetch(item.symbol, range_="1d"))

    def policy(self, item: Resolved) -> CachePolicy:
        """Taiwan: valid until the next Taipei open (capped), as limits and previous close are
        daily; Yahoo: the closed-market cap (``stocks_quote_max_closed``)."""
        now = self._clock()
        cap = self._config.ttl.stocks_quote_max_closed
        fresh = cap if item.source == "yahoo" else max(1.0, min(self._config.hours.next_open(now) - now, cap))
        return CachePolicy(INFO_NAMESPACE, fresh_ttl=fresh, stale_ttl=fresh + 86_400.0)
