"""Stock tools: TWSE and TPEx daily bars, MIS realtime quotes, Yahoo chart v8 for global symbols.

``register(mcp)`` defines the five tools; the server lifespan builds
``StocksService(twse=, tpex=, mis=, yahoo=, cache=, config=StocksConfig(ttl=...), clock=)`` and
exposes it as ``lifespan_context.stocks``.
"""

from tools.stocks.config import StocksCacheConfig, StocksConfig
from tools.stocks.service import StocksService
from tools.stocks.tools import register

__all__ = ["StocksCacheConfig", "StocksConfig", "StocksService", "register"]
