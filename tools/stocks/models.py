"""Pydantic models the stock tools return (and whose JSON form the cache stores).

Every model is plain data: the cache stores ``model.model_dump(mode="json")`` and the service
rebuilds the model with ``Model.model_validate``. What a parser builds from an upstream answer
is the ``...Data`` part; the answer a tool returns adds the ``cache`` freshness the service
knows (a required field: every data answer says how fresh it is). Results leave out null
fields (:class:`~tools.compact.Compact`), and whole numbers are written without ``.0``. Field
descriptions are written for the agent that reads the tools' output schema.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, WithJsonSchema

from tools.budget import Cuts, Truncated
from tools.compact import Compact
from tools.deferred import Deferred
from tools.freshness import CacheInfo

Market = Literal["TWSE", "TPEx", "Yahoo"]
"""Where the data comes from: Taiwan Stock Exchange, Taipei Exchange (OTC) or Yahoo Finance."""

PriceSource = Literal["last_trade", "bid_ask_mid", "previous_close", "regular_market"]


def _short(value: int | float) -> int | float:
    return int(value) if isinstance(value, float) and value.is_integer() else value


Number = Annotated[int | float, AfterValidator(_short), WithJsonSchema({"type": "number"})]
"""A number written as ``2390`` rather than ``2390.0`` in JSON (bars are most of a history's bytes).

A whole float becomes an int when the model is built, not when it is written: a month of bars
is dumped twice per call (its size, then the answer), and a Python serializer per field cost
~250 callbacks a call; the validator runs once per value, when the model is built or decoded."""


def _not_true(value: bool) -> bool:
    return not value


class DailyBar(Compact):
    """One trading day. Prices are absent on a day without trades (a gap)."""

    date: date
    open: Number | None = None
    high: Number | None = None
    low: Number | None = None
    close: Number | None = None
    volume: int | None = Field(None, description="Shares traded (TPEx lots are converted to shares).")
    turnover: Number | None = Field(None, description="Value traded in the currency (TPEx thousands converted).")
    transactions: int | None = Field(None, description="Number of trades, when the exchange reports it.")
    change: Number | None = Field(None, description="Change from the previous close; absent when not comparable.")
    ex_dividend: bool = Field(
        False,
        exclude_if=_not_true,
        description="Present (true) when the exchange marked the change 'X' (ex-dividend/ex-rights).",
    )
    adj_close: Number | None = Field(None, description="Split- and dividend-adjusted close.")


ActionKind = Literal["dividend", "split", "rights", "rights_dividend"]


class CorporateAction(Compact):
    """A dividend, split or ex-rights day."""

    date: date
    kind: ActionKind
    amount: Number | None = Field(None, description="Per share.")
    ratio: str | None = Field(None, description="Split, e.g. '4:1'.")
    previous_close: Number | None = None
    reference_price: Number | None = None
    factor: Number | None = Field(None, description="reference_price / previous_close.")


class MonthBars(Deferred):
    """One exchange month of daily bars for one code (the unit TWSE and TPEx serve and we cache)."""

    code: str
    market: Market
    year: int
    month: int
    name: str | None = None
    bars: list[DailyBar] = Field(default_factory=list)


class PriceHistory(Compact):
    """Daily bars of one symbol over a date range, oldest first."""

    symbol: str
    market: Market
    currency: str | None = None
    start: date
    end: date
    bars: list[DailyBar]
    months_requested: int = Field(0, description="Exchange months the range covers (TWSE/TPEx only).")
    months_from_cache: int = Field(0, description="How many of those months came from the cache.")
    events: list[CorporateAction] | None = Field(None, description="With events or adjusted; oldest first.")
    adjustment: str | None = Field(None, description="How adj_close was computed.")
    truncated: Truncated = None
    cuts: Cuts = None
    cache: CacheInfo


class QuoteData(Compact):
    """A quote as read from the upstream (the cached part of :class:`Quote`)."""

    symbol: str = Field(description="The symbol as resolved, e.g. '2330' or 'AAPL'.")
    name: str | None = None
    market: Market
    exchange: str | None = Field(None, description="Exchange name as the upstream gives it.")
    currency: str | None = None
    price: Number | None = Field(None, description="Last trade price, or the fallback named by price_source.")
    price_source: PriceSource = Field(
        description=(
            "last_trade: an actual trade; bid_ask_mid: no trade in this tick, midpoint of best bid/ask; "
            "previous_close: no trade and no quotes yet; regular_market: Yahoo's regular-market price."
        )
    )
    change: Number | None = Field(None, description="price - previous_close.")
    change_percent: Number | None = Field(None, description="change as a percentage of previous_close.")
    open: Number | None = None
    high: Number | None = None
    low: Number | None = None
    volume: int | None = Field(None, description="Shares traded so far today.")
    previous_close: Number | None = None
    best_bid: Number | None = None
    best_ask: Number | None = None
    time: str | None = Field(None, description="Time of the quote, ISO 8601 with the exchange's UTC offset.")


class Quote(QuoteData):
    """The latest price of one symbol."""

    cache: CacheInfo


class SymbolError(Deferred):
    """Why one symbol of a batch has no answer (the others are unaffected)."""

    symbol: str
    error: str


class QuoteBatch(Compact):
    """Quotes for the symbols that could be answered, and an error for each that could not."""

    quotes: list[Quote]
    errors: list[SymbolError] = Field(default_factory=list)
    truncated: Truncated = None
    cuts: Cuts = None

    def failures(self) -> list[str]:
        """'symbol: why' for each symbol without a quote."""
        return [f"{error.symbol}: {error.error}" for error in self.errors]


class StockInfoData(Compact):
    """What the upstream says about a listed instrument (the cached part of :class:`StockInfo`)."""

    symbol: str
    name: str | None = None
    full_name: str | None = None
    market: Market
    exchange: str | None = None
    currency: str | None = None
    timezone: str | None = None
    instrument_type: str | None = None
    first_trade_date: date | None = None
    previous_close: Number | None = None
    limit_up: Number | None = Field(None, description="Today's price ceiling (Taiwan exchanges).")
    limit_down: Number | None = Field(None, description="Today's price floor (Taiwan exchanges).")
    fifty_two_week_high: Number | None = None
    fifty_two_week_low: Number | None = None


class StockInfo(StockInfoData):
    """What the upstream says about a listed instrument."""

    cache: CacheInfo


class IndexData(Compact):
    """A market index level as read from MIS (the cached part of :class:`IndexQuote`)."""

    code: str = Field(description="MIS code: t00 is TAIEX (TWSE), o00 the TPEx index.")
    name: str | None = None
    market: Market
    value: Number | None = None
    previous_close: Number | None = None
    change: Number | None = None
    change_percent: Number | None = None
    open: Number | None = None
    high: Number | None = None
    low: Number | None = None
    time: str | None = None


class IndexQuote(IndexData):
    """A market index level."""

    cache: CacheInfo


class MarketOverview(Compact):
    """The TAIEX and TPEx index levels and their changes."""

    indices: list[IndexQuote]
    trading_now: bool = Field(description="True during the Taipei session (09:00-13:30, Mon-Fri).")
    cache: CacheInfo
