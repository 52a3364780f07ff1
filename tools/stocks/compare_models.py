"""Pydantic models ``compare_stocks`` returns (field descriptions are read by the agent)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from tools.budget import Cuts, Truncated
from tools.compact import Compact
from tools.freshness import CacheInfo
from tools.stocks.models import Market, Number

Currency = Literal["TWD", "USD", "EUR", "JPY", "GBP", "HKD", "CNY", "KRW", "AUD", "CAD", "CHF", "SGD"]
"""Currencies a comparison can be converted to (through Yahoo FX pairs such as USDTWD=X)."""


class SymbolStats(Compact):
    """Figures of one symbol over the aligned days (ratios: 0.1 is 10%)."""

    symbol: str
    market: Market
    currency: str | None = Field(None, description="Currency of the closes (the converted one when asked).")
    first_close: Number
    last_close: Number
    total_return: Number
    annualised_return: Number | None = Field(None, description="Absent for spans under 30 days.")
    volatility: Number | None = Field(None, description="Annualised: daily-return stdev * sqrt(252).")
    max_drawdown: Number = Field(description="Largest fall from a running peak, <= 0.")
    drawdown_peak: date
    drawdown_trough: date


class FxPair(Compact):
    """A Yahoo FX pair used to convert closes: close * rate of that day (or the last rate before)."""

    pair: str = Field(description="e.g. 'USDTWD=X': TWD per USD.")
    symbols: list[str]


class AlignedDay(Compact):
    """One aligned day: the closes of every symbol, in ``symbols`` order."""

    date: date
    closes: list[Number]


class Comparison(Compact):
    """Several symbols over one period, aligned on the days all of them traded."""

    symbols: list[str]
    start: date = Field(description="First aligned day.")
    end: date = Field(description="Last aligned day.")
    days: int = Field(description="Aligned days (all of them are used by the figures).")
    currency: str | None = Field(None, description="All closes converted to this; absent: each its own.")
    fx: list[FxPair] | None = None
    stats: list[SymbolStats]
    correlation: list[list[Number | None]] = Field(
        description="Pearson correlation of daily returns, rows and columns in symbols order."
    )
    series: list[AlignedDay] = Field(description="Aligned closes, oldest first; every `step`-th day when long.")
    step: int = Field(1, description="1: every aligned day; n: every n-th day (first and last kept).")
    method: str
    truncated: Truncated = None
    cuts: Cuts = None
    cache: CacheInfo
