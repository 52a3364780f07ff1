"""The stock MCP tools: thin functions that validate, call ``StocksService`` and return models.

Each takes ``ctx`` first: an MCP request's Context (the service is then the lifespan state's
``services.stocks``) or the process's Services (warming, tests); see :mod:`tools.registry`.
Docstrings and field descriptions are what the agent reads in the tool list. ``TOOLS`` lists
the tools in the order they are published.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from tools.registry import BATCH_DEADLINE, READ_ONLY, Tool, ToolContext, domain_tool, services_of
from tools.stocks.models import MarketOverview, PriceHistory, QuoteBatch, StockAnalysis, StockInfo
from tools.stocks.ranges import Period
from tools.stocks.symbols import MarketChoice

Symbol = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        description=(
            "A Taiwan stock code such as '2330' (TSMC, TWSE) or '6488' (TPEx), or a global ticker "
            "such as 'AAPL', 'OCDO.L', 'EURUSD=X'; '2330.TW' / '6488.TWO' ask Yahoo for a Taiwan stock."
        ),
    ),
]
MarketArg = Annotated[
    MarketChoice,
    Field(
        description=(
            "Where to look: 'auto' (Taiwan codes go to TWSE or TPEx, learned automatically; other "
            "symbols to Yahoo), or force 'twse', 'tpex' or 'yahoo'."
        )
    ),
]


@domain_tool(deadline=BATCH_DEADLINE)
async def get_stock_quote(
    ctx: ToolContext,
    symbols: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=32)]],
        Field(min_length=1, max_length=30, description="1 to 30 symbols, e.g. ['2330', '6488', 'AAPL']."),
    ],
    market: MarketArg = "auto",
) -> QuoteBatch:
    """Latest price of up to 30 stocks at once (Taiwan realtime from TWSE MIS, others from Yahoo).

    Returns, per symbol: price, change, change_percent, open, high, low, volume (shares),
    previous_close, time, market and currency, plus cache freshness. When a Taiwan stock has
    not traded in the current tick, price falls back to the bid/ask midpoint or the previous
    close and price_source says which. A symbol that fails (unknown, upstream down) appears
    in `errors` and never hides the others. Taiwan quotes are reused for 60 s during Taipei
    trading hours (09:00-13:30 Mon-Fri) and until the next open outside them (at most 12 h);
    other symbols' quotes for 60 s.
    """
    return await services_of(ctx).stocks.get_quotes(symbols, market)


@domain_tool(deadline=BATCH_DEADLINE)
async def get_price_history(
    ctx: ToolContext,
    symbol: Symbol,
    start_date: Annotated[date | None, Field(description="First day, e.g. '2026-08-01'.")] = None,
    end_date: Annotated[date | None, Field(description="Last day (inclusive), default today.")] = None,
    period: Annotated[Period | None, Field(description="Instead of dates: '1mo', '3mo', '6mo', '1y' or 'ytd'.")] = None,
    market: MarketArg = "auto",
) -> PriceHistory:
    """Daily bars (open, high, low, close, volume in shares, turnover, change) of one stock.

    Give start_date/end_date or a period (default: the last month). Taiwan stocks come
    from TWSE/TPEx month by month (available from 2010-01-04; closed months are cached for
    30 days); other symbols from Yahoo. Days without trades have null prices; ex_dividend
    marks days whose change the exchange does not compare (change is null then).
    """
    stocks = services_of(ctx).stocks
    return await stocks.get_history(symbol, start=start_date, end=end_date, period=period, market=market)


@domain_tool()
async def get_stock_info(ctx: ToolContext, symbol: Symbol, market: MarketArg = "auto") -> StockInfo:
    """What is this stock: name, full name, market (TWSE, TPEx or Yahoo), exchange, currency.

    Taiwan stocks also get today's price limits and previous close; Yahoo symbols their
    instrument type, time zone, first trade date and 52-week range.
    """
    return await services_of(ctx).stocks.get_info(symbol, market)


@domain_tool()
async def analyze_stock(
    ctx: ToolContext,
    symbol: Symbol,
    market: MarketArg = "auto",
    days: Annotated[int, Field(ge=1, le=60, description="How many recent trading days to report signals for.")] = 10,
) -> StockAnalysis:
    """Technical read of a stock: moving averages (5, 10, 20, 60 days) and BestFourPoint signals.

    For each of the last `days` trading days it lists which of the four buy rules and four
    sell rules held, with the numbers each compared (volume vs previous volume, close vs
    open, 3-day vs 6-day average), and whether the MA3-MA6 pivot gate allowed a signal.
    `signal` is 'buy', 'sell' or 'none' per day; `latest_signal` is the last day's. Uses
    about 4 months of daily bars. Not investment advice.
    """
    return await services_of(ctx).stocks.analyze(symbol, market, days)


@domain_tool()
async def get_market_overview(ctx: ToolContext) -> MarketOverview:
    """Taiwan market at a glance: TAIEX (TWSE weighted index) and the TPEx index, with change.

    Also says whether the Taipei session (09:00-13:30 Mon-Fri) is open now.
    """
    return await services_of(ctx).stocks.market_overview()


TOOLS: list[Tool] = [
    (get_stock_quote, READ_ONLY),
    (get_price_history, READ_ONLY),
    (get_stock_info, READ_ONLY),
    (analyze_stock, READ_ONLY),
    (get_market_overview, READ_ONLY),
]
