"""Models analyze_stock returns: moving averages and the BestFourPoint verdict of each day.

Every day says which rules held and the numbers they compared; what each rule means is said
once per answer (``method``), not on every day.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, WithJsonSchema

from tools.budget import Cuts, Truncated
from tools.compact import Compact
from tools.freshness import CacheInfo
from tools.stocks.models import Market, Number

Signal = Literal["buy", "sell", "none"]
"""A day's BestFourPoint verdict (see :mod:`tools.stocks.analysis`)."""


class MovingAverages(Compact):
    """Simple moving averages of the close on the last day; absent when fewer days exist."""

    as_of: date
    close: Number
    ma5: Number | None = None
    ma10: Number | None = None
    ma20: Number | None = None
    ma60: Number | None = None


class RuleFiring(Compact):
    """One BestFourPoint rule that held on a day, with the numbers it compared."""

    rule: str = Field(description="buy_1..buy_4 or sell_1..sell_4 (see method).")
    data: dict[str, Number] = Field(description="The values the rule compared (close, open, volume, ma3, ...).")


class PivotGate(Compact):
    """The MA3-MA6 pivot condition a buy (or sell) signal also needs."""

    passed: bool
    pivot_days_ago: int = Field(description="Days since the trough (buy) or peak (sell) of bias; it must be 1 or 2.")


class DaySignal(Compact):
    """The rules evaluated on one trading day."""

    date: date
    close: Number
    ma3: Number
    ma6: Number
    bias: list[Number] = Field(description="MA3 - MA6 on the last 5 days, oldest first.")
    signal: Signal = Field(
        description="buy: buy gate passed and a buy rule fired; sell: likewise for sell; none otherwise."
    )
    buy_rules: list[RuleFiring]
    sell_rules: list[RuleFiring]
    buy_gate: PivotGate
    sell_gate: PivotGate


Reading = Annotated[Number | None, WithJsonSchema({"type": ["number", "null"]})]
"""An indicator value: null (kept in the JSON) when there are too few closes."""


class Indicator(Compact):
    """One indicator on the last close."""

    params: dict[str, Number]
    values: dict[str, Reading] = Field(description="null when too few closes (see reason).")
    reason: str | None = None


class Indicators(Compact):
    """RSI, MACD and Bollinger bands on the closes up to as_of."""

    rsi: Indicator
    macd: Indicator
    bollinger: Indicator
    method: str


class StockAnalysis(Compact):
    """Moving averages and BestFourPoint signals over recent daily bars."""

    symbol: str
    market: Market
    as_of: date
    bars_used: int = Field(description="Trading days with a close, open and volume that the analysis used.")
    moving_averages: MovingAverages
    indicators: Indicators
    latest_signal: Signal
    signals: list[DaySignal] = Field(description="One entry per evaluated day, oldest first.")
    method: str = Field(description="How the signals are computed.")
    truncated: Truncated = None
    cuts: Cuts = None
    cache: CacheInfo
