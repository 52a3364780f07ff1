"""Pydantic models the stock tools return (and whose JSON form the cache stores).

Every model is plain data: the cache stores ``model.model_dump(mode="json")`` and the service
rebuilds the model with ``Model.model_validate``. Field descriptions are written for the agent
that reads the tools' output schema.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from tools.freshness import CacheInfo

Market = Literal["TWSE", "TPEx", "Yahoo"]
"""Where the data comes from: Taiwan Stock Exchange, Taipei Exchange (OTC) or Yahoo Finance."""

PriceSource = Literal["last_trade", "bid_ask_mid", "previous_close", "regular_market"]

Signal = Literal["buy", "sell", "none"]
"""A day's BestFourPoint verdict (see :mod:`tools.stocks.analysis`)."""


class DailyBar(BaseModel):
    """One trading day. Prices are null on a day without trades (a gap)."""

    date: date
    open: float | None = None
    high: float | None = None
    low: float | None = None
    close: float | None = None
    volume: int | None = Field(None, description="Shares traded (TPEx lots are converted to shares).")
    turnover: float | None = Field(None, description="Value traded in the currency (TPEx thousands converted).")
    transactions: int | None = Field(None, description="Number of trades, when the exchange reports it.")
    change: float | None = Field(None, description="Change from the previous close; null when not comparable.")
    ex_dividend: bool = Field(
        False, description="True when the exchange marked the change 'X' (ex-dividend/ex-rights: not comparable)."
    )


class MonthBars(BaseModel):
    """One exchange month of daily bars for one code (the unit TWSE and TPEx serve and we cache)."""

    code: str
    market: Market
    year: int
    month: int
    name: str | None = None
    bars: list[DailyBar] = Field(default_factory=list)


class PriceHistory(BaseModel):
    """Daily bars of one symbol over a date range, oldest first."""

    symbol: str
    market: Market
    currency: str | None
    start: date
    end: date
    bars: list[DailyBar]
    months_requested: int = Field(0, description="Exchange months the range covers (TWSE/TPEx only).")
    months_from_cache: int = Field(0, description="How many of those months came from the cache.")
    cache: CacheInfo


class Quote(BaseModel):
    """The latest price of one symbol."""

    symbol: str = Field(description="The symbol as resolved, e.g. '2330' or 'AAPL'.")
    name: str | None = None
    market: Market
    exchange: str | None = Field(None, description="Exchange name as the upstream gives it.")
    currency: str | None = None
    price: float | None = Field(description="Last trade price, or the fallback named by price_source.")
    price_source: PriceSource = Field(
        description=(
            "last_trade: an actual trade; bid_ask_mid: no trade in this tick, midpoint of best bid/ask; "
            "previous_close: no trade and no quotes yet; regular_market: Yahoo's regular-market price."
        )
    )
    change: float | None = Field(None, description="price - previous_close.")
    change_percent: float | None = Field(None, description="change as a percentage of previous_close.")
    open: float | None = None
    high: float | None = None
    low: float | None = None
    volume: int | None = Field(None, description="Shares traded so far today.")
    previous_close: float | None = None
    best_bid: float | None = None
    best_ask: float | None = None
    time: str | None = Field(None, description="Time of the quote, ISO 8601 with the exchange's UTC offset.")
    cache: CacheInfo | None = None


class SymbolError(BaseModel):
    """Why one symbol of a batch has no answer (the others are unaffected)."""

    symbol: str
    error: str


class QuoteBatch(BaseModel):
    """Quotes for the symbols that could be answered, and an error for each that could not."""

    quotes: list[Quote]
    errors: list[SymbolError] = Field(default_factory=list)

    def failures(self) -> list[str]:
        """'symbol: why' for each symbol without a quote."""
        return [f"{error.symbol}: {error.error}" for error in self.errors]


class StockInfo(BaseModel):
    """What the upstream says about a listed instrument."""

    symbol: str
    name: str | None = None
    full_name: str | None = None
    market: Market
    exchange: str | None = None
    currency: str | None = None
    timezone: str | None = None
    instrument_type: str | None = None
    first_trade_date: date | None = None
    previous_close: float | None = None
    limit_up: float | None = Field(None, description="Today's price ceiling (Taiwan exchanges).")
    limit_down: float | None = Field(None, description="Today's price floor (Taiwan exchanges).")
    fifty_two_week_high: float | None = None
    fifty_two_week_low: float | None = None
    cache: CacheInfo | None = None


class IndexQuote(BaseModel):
    """A market index level."""

    code: str = Field(description="MIS code: t00 is TAIEX (TWSE), o00 the TPEx index.")
    name: str | None = None
    market: Market
    value: float | None
    previous_close: float | None = None
    change: float | None = None
    change_percent: float | None = None
    open: float | None = None
    high: float | None = None
    low: float | None = None
    time: str | None = None


class MarketOverview(BaseModel):
    """The TAIEX and TPEx index levels and their changes."""

    indices: list[IndexQuote]
    trading_now: bool = Field(description="True during the Taipei session (09:00-13:30, Mon-Fri).")
    cache: CacheInfo | None = None


class MovingAverages(BaseModel):
    """Simple moving averages of the close on the last day; null when fewer days exist."""

    as_of: date
    close: float
    ma5: float | None = None
    ma10: float | None = None
    ma20: float | None = None
    ma60: float | None = None


class RuleFiring(BaseModel):
    """One BestFourPoint rule that held on a day, with the numbers it compared."""

    rule: str = Field(description="buy_1..buy_4 or sell_1..sell_4.")
    meaning: str
    data: dict[str, float] = Field(description="The values the rule compared (close, open, volume, ma3, ...).")


class PivotGate(BaseModel):
    """The MA3-MA6 pivot condition a buy (or sell) signal also needs."""

    passed: bool
    bias: list[float] = Field(description="MA3 - MA6 on the last 5 days, oldest first.")
    pivot_days_ago: int | None = Field(None, description="Days since the trough (buy) or peak (sell) of bias.")
    explanation: str


class DaySignal(BaseModel):
    """The rules evaluated on one trading day."""

    date: date
    close: float
    ma3: float
    ma6: float
    signal: Signal = Field(
        description="buy: buy gate passed and a buy rule fired; sell: likewise for sell; none otherwise."
    )
    buy_rules: list[RuleFiring]
    sell_rules: list[RuleFiring]
    buy_gate: PivotGate
    sell_gate: PivotGate


class StockAnalysis(BaseModel):
    """Moving averages and BestFourPoint signals over recent daily bars."""

    symbol: str
    market: Market
    as_of: date
    bars_used: int = Field(description="Trading days with a close, open and volume that the analysis used.")
    moving_averages: MovingAverages
    latest_signal: Signal
    signals: list[DaySignal] = Field(description="One entry per evaluated day, oldest first.")
    method: str = Field(description="How the signals are computed.")
    cache: CacheInfo | None = None
