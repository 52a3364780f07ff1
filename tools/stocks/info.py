"""``get_stock_info`` through the cache: what a symbol is, from MIS (Taiwan) or Yahoo.

One entry per symbol (``stocks.info``). An entry holds the session's figures (Taiwan: today's
price limits and previous close; Yahoo: the previous close), so it lasts until the next session
of the symbol's exchange opens (its trading calendar, holidays included: XTAI for Taiwan codes),
capped by ``stocks_quote_max_closed`` only when the exchange's holidays are unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cache import CachePolicy, TieredCache, make_key
from tools.freshness import CacheInfo
from tools.stocks import mis as mis_api
from tools.stocks.config import StocksConfig
from tools.stocks.errors import UnknownSymbol
from tools.stocks.exchanges import TAIWAN
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

        result = await self._cache.get_or_fetch(key, load, await self.policy(item))
        return StockInfo.model_validate({**result.value, "cache": CacheInfo.from_meta(result.meta)})

    async def _taiwan_info(self, item: Resolved) -> StockInfoData:
        """From the code's MIS entry, read through the quote batcher (it knows learned markets)."""
        entry = await self._quotes.batcher.entry(item.symbol, item.market)
        if entry is None:
            where = f"not listed on {item.market}" if item.market else "listed on neither TWSE nor TPEx"
            raise UnknownSymbol("mis", item.symbol, where)
        return mis_api.to_info(entry)

    async def _yahoo_info(self, item: Resolved) -> StockInfoData:
        chart = await self._yahoo.fetch(item.symbol, range_="1d")
        self._quotes.exchanges.learn(item.symbol, chart.meta)  # the next lifetimes follow its exchange
        return yahoo_info(chart)

    async def policy(self, item: Resolved) -> CachePolicy:
        """Valid until the next session open of the symbol's exchange (see the module docstring)."""
        calendars = self._quotes.calendars
        if item.source == "taiwan":
            calendar = await calendars.get(TAIWAN)
        else:
            calendar = await calendars.get(*self._quotes.exchanges.of(item.symbol))
        fresh = calendar.until_open(self._clock(), self._config.ttl.stocks_quote_max_closed)
        return CachePolicy(INFO_NAMESPACE, fresh_ttl=fresh, stale_ttl=fresh + 86_400.0)
