"""The stock MCP tools: thin functions that validate, call ``StocksService`` and return models.

Each takes ``ctx`` first: an MCP request's Context (the service is then the lifespan state's
``services.stocks``) or the process's Services (warming, tests); see :mod:`tools.registry`.
Docstrings and field descriptions are what the agent reads in the tool list. ``TOOLS`` lists
the tools in the order they are published.
"""

# No ``from __future__ import annotations`` here: the SDK reads these functions' annotations when
# it registers them, and real objects spare it evaluating strings (typing.get_type_hints, per
# function) at start-up.

from datetime import date
from typing import Annotated

from pydantic import Field

from tools.registry import BATCH_DEADLINE, READ_ONLY, Tool, ToolContext, domain_tool, progress_of, services_of
from tools.stocks.analysis_models import StockAnalysis
from tools.stocks.compare_models import Comparison, Currency
from tools.stocks.flows_models import InstitutionalFlows, MarginBalance
from tools.stocks.models import MarketOverview, PriceHistory, QuoteBatch, StockInfo
from tools.stocks.ranges import Period
from tools.stocks.symbols import MarketChoice

Symbol = Annotated[str, Field(min_length=1, max_length=32, description="e.g. '2330' or 'AAPL'.")]
"""A symbol argument; what symbols are is said once, in get_stock_quote's description."""
MarketArg = Annotated[MarketChoice, Field(description="Default auto; see get_stock_quote.")]
EndDate = Annotated[date | None, Field(description="Last day, default today.")]


@domain_tool(deadline=BATCH_DEADLINE)
async def get_stock_quote(
    ctx: ToolContext,
    symbols: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=32)]],
        Field(min_length=1, max_length=30, description="e.g. ['2330', '6488', 'AAPL']."),
    ],
    market: Annotated[
        MarketChoice, Field(description="auto: Taiwan codes to TWSE/TPEx, others to Yahoo; or force one.")
    ] = "auto",
) -> QuoteBatch:
    """Latest price, change, open/high/low, volume and previous close of 1-30 symbols.

    Symbols: Taiwan codes ('2330' TWSE, '6488' TPEx; realtime from TWSE MIS) or Yahoo tickers
    ('AAPL', 'OCDO.L', 'EURUSD=X', '2330.TW'). price_source says when a Taiwan price is the
    bid/ask midpoint or previous close (no trade yet). A symbol that fails is listed in errors.
    """
    return await services_of(ctx).stocks.get_quotes(symbols, market, progress_of(ctx))


@domain_tool(deadline=BATCH_DEADLINE)
async def get_price_history(
    ctx: ToolContext,
    symbol: Symbol,
    start_date: Annotated[date | None, Field(description="First day, e.g. '2026-08-01'.")] = None,
    end_date: EndDate = None,
    period: Annotated[Period | None, Field(description="Instead of dates.")] = None,
    market: MarketArg = "auto",
    events: Annotated[bool, Field(strict=True, description="Add dividends, splits, ex-rights.")] = False,
    adjusted: Annotated[bool, Field(strict=True, description="Add adj_close to bars (and events).")] = False,
) -> PriceHistory:
    """Daily bars (open, high, low, close, volume, turnover, change) of one symbol, oldest first.

    Give start_date/end_date or a period; neither: the last month. Taiwan bars start
    2010-01-04. A long range comes in parts: call again with cuts[].next for the rest.
    events/adjusted: TWSE codes and Yahoo symbols, not TPEx codes.
    """
    stocks = services_of(ctx).stocks
    return await stocks.get_history(
        symbol,
        start=start_date,
        end=end_date,
        period=period,
        market=market,
        on_progress=progress_of(ctx),
        events=events,
        adjusted=adjusted,
    )


@domain_tool()
async def get_stock_info(ctx: ToolContext, symbol: Symbol, market: MarketArg = "auto") -> StockInfo:
    """What a symbol is: name, market, exchange, currency; Taiwan codes also today's price
    limits and previous close, Yahoo tickers their type, time zone and 52-week range."""
    return await services_of(ctx).stocks.get_info(symbol, market)


@domain_tool()
async def analyze_stock(
    ctx: ToolContext,
    symbol: Symbol,
    market: MarketArg = "auto",
    days: Annotated[int, Field(ge=1, le=60, description="Trading days to report signals for.")] = 10,
    end_date: EndDate = None,
) -> StockAnalysis:
    """Moving averages (5, 10, 20, 60 days), RSI(14), MACD(12, 26, 9), Bollinger(20, 2) and
    BestFourPoint buy/sell signals of the last `days` trading days, with the rules that held
    and the numbers they compared. Not advice."""
    return await services_of(ctx).stocks.analyze(symbol, market, days, end_date)


@domain_tool(deadline=BATCH_DEADLINE)
async def compare_stocks(
    ctx: ToolContext,
    symbols: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=32)]],
        Field(min_length=2, max_length=10, description="2-10 distinct symbols, any markets."),
    ],
    period: Annotated[Period | None, Field(description="Default 1y; or start_date/end_date.")] = None,
    start_date: Annotated[date | None, Field(description="First day.")] = None,
    end_date: EndDate = None,
    currency: Annotated[Currency | None, Field(description="Convert all closes (Yahoo FX).")] = None,
) -> Comparison:
    """Closes of 2-10 symbols aligned on common trading days; each one's total and annualised
    return, volatility, max drawdown; correlation of daily returns."""
    stocks = services_of(ctx).stocks
    return await stocks.compare(
        symbols, start=start_date, end=end_date, period=period, currency=currency, on_progress=progress_of(ctx)
    )


@domain_tool()
async def get_market_overview(ctx: ToolContext) -> MarketOverview:
    """Taiwan market now: TAIEX and TPEx index levels and changes, and whether Taipei trades."""
    return await services_of(ctx).stocks.market_overview()


@domain_tool(deadline=BATCH_DEADLINE)
async def get_institutional_flows(
    ctx: ToolContext,
    symbol: Symbol,
    start_date: Annotated[date | None, Field(description="Default: 6 days before end_date.")] = None,
    end_date: EndDate = None,
    market: MarketArg = "auto",
) -> InstitutionalFlows:
    """Daily net buy/sell in shares of foreign investors, investment trusts and dealers in one
    Taiwan stock, with totals. At most 92 days a call; over 20 sessions is cut (cuts[].next)."""
    flows = services_of(ctx).stocks.flows
    return await flows.flows(symbol, start_date, end_date, market, progress_of(ctx))


@domain_tool()
async def get_margin_balance(
    ctx: ToolContext,
    symbol: Symbol,
    date: Annotated[date | None, Field(description="A session day; default the latest published.")] = None,
    market: MarketArg = "auto",
) -> MarginBalance:
    """Margin purchase and short sale balances (lots) of one Taiwan stock on one day: previous,
    bought, sold, repaid, current, limit, usage; plus the market's totals."""
    return await services_of(ctx).stocks.flows.margin(symbol, date, market)


TOOLS: list[Tool] = [
    (get_stock_quote, READ_ONLY),
    (get_price_history, READ_ONLY),
    (get_stock_info, READ_ONLY),
    (analyze_stock, READ_ONLY),
    (compare_stocks, READ_ONLY),
    (get_market_overview, READ_ONLY),
    (get_institutional_flows, READ_ONLY),
    (get_margin_balance, READ_ONLY),
]
