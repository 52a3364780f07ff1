"""Stock tools: TWSE and TPEx daily bars, MIS realtime quotes, Yahoo chart v8 for global symbols.

The five tools are in :mod:`tools.stocks.tools` (``TOOLS``); the server lifespan builds
``StocksService(twse=, tpex=, mis=, yahoo=, cache=, config=StocksConfig(ttl=...), clock=)`` into its
:class:`~tools.services.Services` as ``stocks``.
"""

from tools.stocks.config import StocksCacheConfig, StocksConfig
from tools.stocks.service import StocksService

__all__ = ["StocksCacheConfig", "StocksConfig", "StocksService"]
