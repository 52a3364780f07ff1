"""``StocksConfig``: every knob of the stock service, with working defaults.

The server maps its settings onto it (``settings.cache.stocks_*``); this package never imports
``server``. Durations are seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from tools.stocks.sessions import TradingHours

DAY = 86_400.0


@dataclass(frozen=True)
class StocksConfig:
    """Cache lifetimes, batch limits and analysis windows.

    - ``closed_month_fresh``/``closed_month_stale``: a past month never changes.
    - ``open_month_fresh``/``open_month_stale``: the current month gains a row every day.
    - ``quote_fresh``: quote lifetime during trading hours; ``quote_max_closed`` caps the
      lifetime outside them (until the next open otherwise); ``quote_stale_window``: how long
      after that a quote may still be served, flagged stale, when the upstream is down.
    - ``market_fresh``: how long a learned code -> market mapping is remembered.
    - ``max_symbols``: symbols per quote call; ``mis_max_channels``: channels per MIS request
      (a code of unknown market takes two).
    - ``month_concurrency``: months of one history fetched at once (the HTTP layer's rate
      limiter still spaces the requests).
    - ``analysis_months``: months of history analyze_stock reads (MA60 needs ~3 months).
    - ``taiwan_earliest``: first date TWSE serves daily bars for.
    """

    closed_month_fresh: float = 30 * DAY
    closed_month_stale: float = 365 * DAY
    open_month_fresh: float = 600.0
    open_month_stale: float = DAY
    quote_fresh: float = 60.0
    quote_max_closed: float = 12 * 3600.0
    quote_stale_window: float = 900.0
    yahoo_quote_fresh: float = 60.0
    market_fresh: float = 30 * DAY
    max_symbols: int = 30
    mis_max_channels: int = 30
    month_concurrency: int = 6
    analysis_months: int = 4
    signal_days: int = 10
    taiwan_earliest: date = date(2010, 1, 4)
    hours: TradingHours = field(default_factory=TradingHours)
