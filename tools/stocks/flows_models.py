"""Answers of get_institutional_flows and get_margin_balance (field descriptions are for the agent)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from tools.budget import Cuts, Truncated
from tools.compact import Compact
from tools.freshness import CacheInfo
from tools.stocks.models import Market, Number

Shares = int


Foreign = Annotated[Shares, Field(description="Foreign and mainland investors, excluding foreign dealers.")]
ForeignDealers = Annotated[Shares | None, Field(description="Foreign-owned dealers; absent when 0.")]
Trust = Annotated[Shares, Field(description="Investment trusts.")]
Dealers = Annotated[Shares, Field(description="Securities dealers (own account + hedging).")]
Total = Annotated[Shares, Field(description="The three together, as the exchange reports it.")]


class FlowNets(Compact):
    """Net buy (+) / sell (-) in shares."""

    foreign: Foreign
    foreign_dealers: ForeignDealers = None
    trust: Trust
    dealers: Dealers
    total: Total


class FlowDay(Compact):
    """One trading day's nets, as in FlowNets."""

    date: date
    foreign: Foreign
    foreign_dealers: ForeignDealers = None
    trust: Trust
    dealers: Dealers
    total: Total


class InstitutionalFlows(Compact):
    """Institutional investors' daily net buy/sell of one Taiwan stock, oldest day first."""

    symbol: str
    market: Market
    name: str | None = None
    start: date
    end: date = Field(description="Last day covered (today at most).")
    days: list[FlowDay] = Field(description="Days the stock has a row.")
    totals: FlowNets = Field(description="Sums over days.")
    no_row_days: list[date] | None = Field(None, description="Published days without a row for the stock.")
    no_data_days: list[date] | None = Field(None, description="Sessions the exchange published nothing for (not yet).")
    truncated: Truncated = None
    cuts: Cuts = None
    cache: CacheInfo


class MarginSide(Compact):
    """One side's day, in lots (1,000 shares)."""

    previous: int = Field(description="Balance before the day.")
    buy: int
    sell: int
    repay: int = Field(description="Repaid in cash (margin) or in stock (short).")
    current: int = Field(description="Balance after the day.")
    limit: int | None = Field(None, description="Cap on the balance.")
    usage_pct: Number | None = Field(None, description="current / limit in % (TWSE: computed).")


class SummaryLine(Compact):
    """A market-wide total (short sale: sell opens, buy covers)."""

    item: Literal["margin_purchase", "short_sale", "margin_purchase_amount"]
    unit: Literal["lots", "thousand_twd"]
    previous: int
    buy: int
    sell: int
    repay: int
    current: int


class MarginBalance(Compact):
    """Margin purchase and short sale balances of one Taiwan stock on one day, and the market's."""

    symbol: str
    market: Market
    name: str | None = None
    date: date
    margin_purchase: MarginSide | None = Field(None, description="buy adds to the balance.")
    short_sale: MarginSide | None = Field(None, description="sell adds to the balance, buy covers.")
    offset: int | None = Field(None, description="Lots offset margin against short (day trades).")
    note: str | None = Field(None, description="Exchange flags, e.g. 'X: short sale suspended'.")
    message: str | None = Field(None, description="Why the stock's part is absent.")
    market_summary: list[SummaryLine]
    cache: CacheInfo
