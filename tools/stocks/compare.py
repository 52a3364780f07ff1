"""``compare_stocks``: several symbols of any market over one period, side by side.

Each symbol's daily bars are read through the history path (:meth:`StocksService.span`: the
month, chart and recent entries of the cache engine, the per-upstream rate limits), all symbols
concurrently; each finished symbol (and FX pair) is a progress step. Closes are aligned on the
days every symbol traded, and the figures of :mod:`tools.stocks.compare_math` are computed on
all aligned days. With ``currency``, every close is first converted through the Yahoo FX pair
``<own><currency>=X`` (the pair's close of that day, or its last one before; Yahoo's ``GBp``
pence count as GBP / 100). The aligned series is bounded: past the budget it is thinned to every
n-th day (first and last kept), with a cut whose ``next`` is the latest range that comes whole.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import date

from pydantic import JsonValue

from tools.budget import Cut, fit, json_size
from tools.errors import InvalidInput
from tools.freshness import CacheInfo
from tools.stocks import compare_math
from tools.stocks.compare_models import AlignedDay, Comparison, Currency, FxPair, SymbolStats
from tools.stocks.errors import NoDataInRange
from tools.stocks.paging import ENVELOPE
from tools.stocks.progress import Progress, Steps
from tools.stocks.recent import Recent
from tools.stocks.symbols import MarketChoice, Resolved, resolve

MIN_SYMBOLS, MAX_SYMBOLS = 2, 10
MAX_SPAN_DAYS = 731
"""Longest range compared (two years): a cold Taiwan symbol costs a request per month."""

Span = Callable[[Resolved], Awaitable[Recent]]
"""Bars of a resolved symbol over the asked range, through the cache."""

_SUBUNITS = {"GBp": ("GBP", 0.01), "GBX": ("GBP", 0.01), "ZAc": ("ZAR", 0.01), "ILA": ("ILS", 0.01)}


def resolve_all(symbols: Sequence[str], market: MarketChoice) -> list[Resolved]:
    """The symbols resolved in order; InvalidInput for a count outside 2..10 or a duplicate."""
    if not MIN_SYMBOLS <= len(symbols) <= MAX_SYMBOLS:
        raise InvalidInput("symbols", f"give {MIN_SYMBOLS} to {MAX_SYMBOLS} symbols, got {len(symbols)}")
    items = [resolve(symbol, market, f"symbols[{index}]") for index, symbol in enumerate(symbols)]
    seen: dict[tuple[str, str], int] = {}
    for index, item in enumerate(items):
        first = seen.setdefault((item.source, item.symbol), index)
        if first != index:
            raise InvalidInput(f"symbols[{index}]", f"{symbols[index]!r} repeats symbols[{first}] ({item.symbol})")
    return items


def check_range(first: date, last: date, earliest: date) -> None:
    """InvalidInput (naming start_date) for a range over :data:`MAX_SPAN_DAYS` or before ``earliest``."""
    if (last - first).days > MAX_SPAN_DAYS:
        raise InvalidInput("start_date", f"compare at most {MAX_SPAN_DAYS} days at once")
    if first < earliest:
        raise InvalidInput("start_date", f"Taiwan daily bars start on {earliest.isoformat()}")


async def compare(
    items: Sequence[Resolved],
    span: Span,
    currency: Currency | None,
    budget: int,
    on_progress: Progress | None = None,
) -> Comparison:
    """The comparison of ``items`` (see the module docstring)."""
    steps = Steps(on_progress, len(items))

    async def one(item: Resolved) -> Recent:
        found = await span(item)
        await steps.step(f"{item.symbol}: {len(found.bars)} bars")
        return found

    spans = await asyncio.gather(*(one(item) for item in items))
    closes = [{bar.date: bar.close for bar in found.bars if bar.close is not None} for found in spans]
    currencies: list[str | None] = [found.currency for found in spans]
    fx: list[FxPair] = []
    metas = [found.cache for found in spans]
    if currency is not None:
        closes, fx, fx_cache = await _convert(items, closes, currencies, currency, span, steps)
        currencies = [currency] * len(items)
        metas.extend(fx_cache)
    days = compare_math.align(closes)
    if len(days) < 2:
        raise NoDataInRange(
            "compare", ", ".join(item.symbol for item in items), f"{len(days)} day(s) on which all of them traded"
        )
    rows = [[series[day] for day in days] for series in closes]
    stats = [
        _stats(item, found, own, compare_math.stats(days, row))
        for item, found, own, row in zip(items, spans, currencies, rows)
    ]
    correlation = [
        [None if value is None else round(value, 4) for value in line] for line in compare_math.correlation_matrix(rows)
    ]
    series = [AlignedDay(date=day, closes=[round(row[index], 4) for row in rows]) for index, day in enumerate(days)]
    beside = json_size(stats) + json_size(correlation) + json_size(fx) + len(compare_math.METHOD)
    kept, step, cut = _thin(series, budget - ENVELOPE - beside)
    return Comparison(
        symbols=[item.symbol for item in items],
        start=days[0],
        end=days[-1],
        days=len(days),
        currency=currency,
        fx=fx or None,
        stats=stats,
        correlation=correlation,
        series=kept,
        step=step,
        method=compare_math.METHOD,
        truncated=True if cut else None,
        cuts=[cut] if cut else None,
        cache=_combined(metas),
    )


async def _convert(
    items: Sequence[Resolved],
    closes: list[dict[date, float]],
    currencies: list[str | None],
    target: str,
    span: Span,
    steps: Steps,
) -> tuple[list[dict[date, float]], list[FxPair], list[CacheInfo]]:
    """Closes in ``target``: each symbol's through its FX pair (fetched once per pair; each a
    progress step after the symbols' ones, the total growing by them)."""
    plan: list[tuple[str, float]] = []
    for index, (item, own) in enumerate(zip(items, currencies)):
        if own is None:
            raise InvalidInput("currency", f"the currency of symbols[{index}] ({item.symbol}) is unknown")
        base, factor = _SUBUNITS.get(own, (own.upper(), 1.0))
        plan.append((base, factor))
    pairs = sorted({f"{base}{target}=X" for base, _ in plan if base != target})
    steps.total += len(pairs)

    async def rate(pair: str) -> Recent:
        found = await span(resolve(pair, "yahoo", "currency"))
        await steps.step(f"{pair}: {len(found.bars)} rates")
        return found

    found = dict(zip(pairs, await asyncio.gather(*(rate(pair) for pair in pairs))))
    rates = {pair: {bar.date: bar.close for bar in span.bars if bar.close is not None} for pair, span in found.items()}
    converted: list[dict[date, float]] = []
    for series, (base, factor) in zip(closes, plan):
        if base == target:
            converted.append({day: close * factor for day, close in series.items()})
            continue
        days = sorted(series)
        on_day = compare_math.as_of(rates[f"{base}{target}=X"], days)
        converted.append({day: series[day] * factor * fx for day, fx in zip(days, on_day) if fx is not None})
    used = [
        FxPair(pair=pair, symbols=[item.symbol for item, (base, _) in zip(items, plan) if f"{base}{target}=X" == pair])
        for pair in pairs
    ]
    return converted, used, [span.cache for span in found.values()]


def _stats(item: Resolved, found: Recent, currency: str | None, figures: compare_math.Stats) -> SymbolStats:
    def r(value: float | None, digits: int = 6) -> float | None:
        return None if value is None else round(value, digits)

    return SymbolStats(
        symbol=item.symbol,
        market=found.market,
        currency=currency,
        first_close=round(figures.first_close, 4),
        last_close=round(figures.last_close, 4),
        total_return=round(figures.total_return, 6),
        annualised_return=r(figures.annualised_return),
        volatility=r(figures.volatility),
        max_drawdown=round(figures.max_drawdown, 6),
        drawdown_peak=figures.drawdown_peak,
        drawdown_trough=figures.drawdown_trough,
    )


def _thin(series: list[AlignedDay], budget: int) -> tuple[list[AlignedDay], int, Cut | None]:
    """Every n-th day (first and last kept) so the series fits ``budget``; the cut's ``next``
    is the latest range that comes whole."""
    whole = fit(series, budget)
    if whole == len(series):
        return series, 1, None
    step = -(-len(series) // max(whole - 1, 1))
    while True:  # rows differ in size: widen the step until the thinned series fits
        kept = series[::step]
        if kept[-1] is not series[-1]:
            kept.append(series[-1])
        if len(kept) <= 2 or json_size(kept) <= budget:
            break
        step += 1
    latest = series[-max(fit(series[::-1], budget), 2) :]
    following: dict[str, JsonValue] = {
        "period": None,
        "start_date": latest[0].date.isoformat(),
        "end_date": latest[-1].date.isoformat(),
    }
    return kept, step, Cut(list="series", returned=len(kept), dropped=len(series) - len(kept), next=following)


def _combined(infos: Sequence[CacheInfo]) -> CacheInfo:
    """Freshness of the whole: a hit only when every part was; stale when any part is."""
    tiers = {info.tier for info in infos}
    return CacheInfo(
        hit=all(info.hit for info in infos),
        tier=next(iter(tiers)) if len(tiers) == 1 else "mixed",
        age_seconds=max(info.age_seconds for info in infos),
        stale=any(info.stale for info in infos),
        fresh_for_seconds=min(info.fresh_for_seconds for info in infos),
    )
