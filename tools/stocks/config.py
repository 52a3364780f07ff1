"""Knobs of the stock service, with their defaults, written here once.

Owner: this domain; this package never imports ``server``. :class:`StocksCacheConfig` holds the
cache lifetimes the server exposes, under the same names, in its ``cache`` settings section
(``TRIALSTOCK_CACHE__STOCKS_QUOTE_FRESH``); :class:`StocksConfig` holds the rest. Durations are
seconds.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from tools.budget import EXPLICIT_BUDGET, RECORD_BUDGET
from tools.stocks.paging import ENVELOPE
from tools.stocks.sessions import TradingHours

DAY = 86_400.0


class StocksCacheConfig(BaseModel):
    """Cache lifetimes an operator may change. Owner: this domain.

    - ``stocks_closed_month_fresh``: daily bars of a past month (they never change).
    - ``stocks_open_month_fresh``: daily bars of the current month (a row is added every day).
    - ``stocks_quote_fresh``: quote lifetime during trading hours; outside them a quote lives
      until the next open (:mod:`tools.stocks.trading_calendar`), capped by
      ``stocks_quote_max_closed`` when the exchange's holidays are unknown (weekday fallback).

    The field names carry the domain because the server's shared ``cache`` section uses them as
    they are.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    stocks_closed_month_fresh: float = Field(30 * 86_400, gt=0)
    stocks_open_month_fresh: float = Field(600, gt=0)
    stocks_quote_fresh: float = Field(60, gt=0, description="Quote TTL during trading hours.")
    stocks_quote_max_closed: float = Field(
        12 * 3600, gt=0, description="Cap on the quote TTL outside trading hours when holidays are unknown."
    )


class StocksConfig(BaseModel):
    """Cache lifetimes, batch limits and analysis windows. Owner: this domain.

    - ``ttl``: the lifetimes an operator may change (:class:`StocksCacheConfig`).
    - ``closed_month_stale``, ``open_month_stale``: the hard lifetimes of daily bars (served,
      flagged stale, after ``ttl``'s fresh lifetime and until then).
    - ``quote_stale_window``: how long after its lifetime a quote may still be served, flagged
      stale, when the upstream is down.
    - ``market_fresh``: how long a learned code -> market mapping is remembered.
    - ``max_symbols``: symbols per quote call; ``mis_max_channels``: channels per MIS request
      (a code of unknown market takes two); ``mis_batch_window``: the longest a cold quote
      waits for the other codes of its call (and of concurrent calls) to join its MIS request
      (:mod:`tools.stocks.mis_batch`; it usually leaves as soon as they have).
    - ``month_concurrency``: months of one history fetched at once (the HTTP layer's rate
      limiter still spaces the requests).
    - ``analysis_months``: months of history analyze_stock reads (MA60 needs ~3 months).
    - ``taiwan_earliest``: first date TWSE serves daily bars for.
    - ``closed_actions_fresh``: a past year of TWSE ex-rights results (it never changes).
    - ``record_budget``, ``explicit_budget``: answer sizes (:mod:`tools.budget`; a history with
      no dates is a record, one with a period or dates an explicit ask); ``history_max_months``:
      the most Taiwan months one history answer fetches (the rest is cut, see
      :mod:`tools.stocks.paging`).
    - ``closed_day_fresh``: whole-market flows and margin days before today (they never change;
      :mod:`tools.stocks.market_days`); ``flows_max_days``: sessions one flows answer fetches (the
      rest is cut); ``flows_max_range_days``: the longest flows range accepted, in calendar days;
      ``margin_lookback``: sessions a margin call without a date steps back to find a published day.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    ttl: StocksCacheConfig = StocksCacheConfig()
    closed_month_stale: float = 365 * DAY
    open_month_stale: float = DAY
    quote_stale_window: float = 900.0
    yahoo_quote_fresh: float = 60.0
    market_fresh: float = 30 * DAY
    max_symbols: int = 30
    mis_max_channels: int = 30
    mis_batch_window: float = Field(0.05, ge=0)
    month_concurrency: int = 6
    analysis_months: int = 4
    signal_days: int = 10
    taiwan_earliest: date = date(2010, 1, 4)
    closed_actions_fresh: float = 10 * 365 * DAY
    hours: TradingHours = Field(default_factory=TradingHours)
    record_budget: int = Field(RECORD_BUDGET, gt=ENVELOPE)
    explicit_budget: int = Field(EXPLICIT_BUDGET, gt=ENVELOPE)
    history_max_months: int = Field(24, ge=1)
    closed_day_fresh: float = Field(365 * DAY, gt=0)
    flows_max_days: int = Field(20, ge=1)
    flows_max_range_days: int = Field(92, ge=1)
    margin_lookback: int = Field(7, ge=1)
