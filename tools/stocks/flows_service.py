"""``FlowsDesk``: institutional flows over a date range and margin balances of one day, per stock.

Both read whole-market days (:mod:`tools.stocks.market_days`), so a day fetched for one stock
serves every other. Rules, checked before any request (InvalidInput naming the argument):
Taiwan codes only; flows ranges ``start_date <= end_date``, not starting in the future, at most
``flows_max_range_days`` calendar days; a margin ``date`` not in the future and a session day.
Only session days are requested: those of the XTAI calendar (:mod:`tools.stocks.trading_calendar`;
weekends and exchange holidays skipped), or weekdays, with a logged warning, for dates outside
its tables. A flows range with more than ``flows_max_days`` sessions is fetched that far and cut
(``next`` asks for the rest). The market of a code comes from the learned mapping or MIS; when MIS does
not know it (or fails), the day tables themselves are looked up (TWSE first).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

from pydantic import JsonValue

from cache import CacheMeta
from tools.budget import Cut
from tools.errors import InvalidInput
from tools.freshness import CacheInfo
from tools.http.errors import UpstreamError
from tools.stocks.config import StocksConfig
from tools.stocks.flows import FlowRow
from tools.stocks.flows_models import FlowDay, FlowNets, InstitutionalFlows, MarginBalance, MarginSide, SummaryLine
from tools.stocks.margin import MarginDay, Side
from tools.stocks.market_days import MarketDays
from tools.stocks.models import Market
from tools.stocks.progress import Progress, Steps
from tools.stocks.symbols import MarketBook, MarketChoice, Resolved, resolve
from tools.stocks.trading_calendar import Calendar

MarketOf = Callable[[Resolved], Awaitable[Market]]
TaiwanCalendar = Callable[[], Awaitable[Calendar]]
NOTES = {
    "O": "margin purchase suspended",
    "X": "short sale suspended",
    "@": "margin purchase rationed",
    "%": "short sale rationed",
    "!": "trading suspended",
}
"""The exchanges' 註記/備註 symbols (MI_MARGN's notes give the legend)."""
TAIWAN_ONLY = "flows and margin exist for Taiwan codes only (TWSE/TPEx), e.g. '2330' or '6488'"


class FlowsDesk:
    """See the module docstring."""

    def __init__(
        self, days: MarketDays, market_of: MarketOf, book: MarketBook, config: StocksConfig, xtai: TaiwanCalendar
    ) -> None:
        self._days, self._market_of, self._book, self._config = days, market_of, book, config
        self._xtai = xtai

    async def flows(
        self,
        symbol: str,
        start: date | None = None,
        end: date | None = None,
        market: MarketChoice = "auto",
        on_progress: Progress | None = None,
    ) -> InstitutionalFlows:
        """Daily institutional nets of ``symbol`` from ``start`` to ``end`` (default: the last 7 days)."""
        item = _taiwan(symbol, market)
        first, last = self._flows_range(start, end)
        sessions = (await self._xtai()).sessions(first, last)
        fetched = sessions[: self._config.flows_max_days]
        resolved = await self._resolve(item, fetched, "flows")
        gate, steps = asyncio.Semaphore(self._config.month_concurrency), Steps(on_progress, len(fetched))

        async def one(day: date) -> tuple[dict[str, FlowRow], CacheMeta]:
            async with gate:
                table, meta = await self._days.flows(resolved, day)
            await steps.step(f"{resolved} {day.isoformat()}: {'cached' if meta.hit else f'{len(table.rows)} rows'}")
            return table.rows, meta

        tables = await asyncio.gather(*(one(day) for day in fetched))
        series, no_row, no_data, name = [], [], [], None
        for day, (rows, _) in zip(fetched, tables, strict=True):
            if not rows:
                no_data.append(day)
            elif item.symbol not in rows:
                no_row.append(day)
            else:
                row_name, foreign, foreign_dealers, trust, dealers, total = rows[item.symbol]
                name = row_name or name
                nets = {"foreign": foreign, "trust": trust, "dealers": dealers, "total": total}
                series.append(FlowDay(date=day, foreign_dealers=foreign_dealers or None, **nets))
        cut = None
        if len(fetched) < len(sessions):
            following: dict[str, JsonValue] = {
                "start_date": (fetched[-1] + timedelta(days=1)).isoformat(),
                "end_date": last.isoformat(),
            }
            cut = Cut(list="days", returned=len(fetched), dropped=len(sessions) - len(fetched), next=following)
        return InstitutionalFlows(
            symbol=item.symbol,
            market=resolved,
            name=name,
            start=first,
            end=fetched[-1] if cut else last,
            days=series,
            totals=_totals(series),
            no_row_days=no_row or None,
            no_data_days=no_data or None,
            truncated=True if cut else None,
            cuts=[cut] if cut else None,
            cache=CacheInfo.combine(meta for _, meta in tables),
        )

    async def margin(self, symbol: str, day: date | None = None, market: MarketChoice = "auto") -> MarginBalance:
        """Balances of ``symbol`` on ``day`` (default: the latest published day) and the market's."""
        item = _taiwan(symbol, market)
        today = self._days.today()
        if day is not None and day > today:
            raise InvalidInput("date", f"{day.isoformat()} is in the future (today in Taipei is {today.isoformat()})")
        xtai = await self._xtai()
        if day is not None and not xtai.is_session(day):
            why = day.strftime("%A") if day.weekday() >= 5 else "an exchange holiday"
            before = xtai.last_session(day)
            hint = f"; the session before: {before.isoformat()}" if before else ""
            raise InvalidInput("date", f"{day.isoformat()} is {why}: no trading session{hint}")
        candidates = [day] if day is not None else _sessions_back(xtai, today, self._config.margin_lookback)
        resolved = await self._resolve(item, candidates, "margin")
        table, metas = MarginDay(market=resolved, date=candidates[0]), []
        for candidate in candidates:  # newest first; stops at the first published day
            table, meta = await self._days.margin(resolved, candidate)
            metas.append(meta)
            if table.rows:
                break
        answer = MarginBalance(
            symbol=item.symbol,
            market=resolved,
            date=table.date,
            market_summary=[_summary(line) for line in table.summary],
            cache=CacheInfo.combine(metas),
        )
        row = table.rows.get(item.symbol)
        if not table.rows and day is None:
            answer.message = (
                f"{resolved} published no margin data from {candidates[-1].isoformat()} to "
                f"{candidates[0].isoformat()}; give a date"
            )
        elif not table.rows:
            answer.message = f"{resolved} published no margin data for {table.date.isoformat()} (holiday, or not yet)"
        elif row is None:
            answer.message = f"no margin row for {item.symbol} on {table.date.isoformat()} (not margin-eligible)"
        else:
            name, margin_side, short_side, offset, note = row
            answer.name, answer.offset, answer.note = name or None, offset, _note(note)
            answer.margin_purchase, answer.short_sale = _side(margin_side), _side(short_side)
        return answer

    def _flows_range(self, start: date | None, end: date | None) -> tuple[date, date]:
        today = self._days.today()
        end = end or today
        start = start or end - timedelta(days=6)
        if start > today:
            raise InvalidInput("start_date", f"{start.isoformat()} is in the future (today is {today.isoformat()})")
        if end < start:
            raise InvalidInput("end_date", f"{end.isoformat()} is before start_date {start.isoformat()}")
        span, most = (end - start).days + 1, self._config.flows_max_range_days
        if span > most:
            raise InvalidInput(
                "end_date", f"the range spans {span} days, at most {most} per call; split it into shorter ranges"
            )
        return start, min(end, today)

    async def _resolve(self, item: Resolved, days: list[date], kind: str) -> Market:
        """The code's exchange: explicit, remembered or from MIS; else found in the day tables."""
        if item.market is not None:
            return item.market
        try:
            return await self._market_of(item)
        except UpstreamError as error:
            for day in sorted(days, reverse=True):  # newest first, up to the first published day
                published = False
                for market in ("TWSE", "TPEx"):
                    table = (await self._days.flows(market, day))[0] if kind == "flows" else None
                    rows = table.rows if table is not None else (await self._days.margin(market, day))[0].rows
                    published = published or bool(rows)
                    if item.symbol in rows:
                        await self._book.remember({item.symbol: market})
                        return market
                if published:
                    break
            raise error from None


def _taiwan(symbol: str, market: MarketChoice) -> Resolved:
    if market == "yahoo":
        raise InvalidInput("market", TAIWAN_ONLY)
    item = resolve(symbol, market)
    if item.source != "taiwan":
        raise InvalidInput("symbol", f"{symbol!r}: {TAIWAN_ONLY}")
    return item


def _sessions_back(xtai: Calendar, today: date, count: int) -> list[date]:
    """The last ``count`` sessions up to ``today``, newest first (the longest Taiwan break, Lunar
    New Year, is under two weeks: two days a session plus three weeks always holds enough)."""
    return xtai.sessions(today - timedelta(days=2 * count + 21), today)[-count:][::-1]


def _totals(series: list[FlowDay]) -> FlowNets:
    foreign_dealers = sum(day.foreign_dealers or 0 for day in series)
    return FlowNets(
        foreign=sum(day.foreign for day in series),
        foreign_dealers=foreign_dealers or None,
        trust=sum(day.trust for day in series),
        dealers=sum(day.dealers for day in series),
        total=sum(day.total for day in series),
    )


def _side(side: Side) -> MarginSide:
    buy, sell, repay, previous, current, limit, usage_pct = side
    return MarginSide(
        previous=previous, buy=buy, sell=sell, repay=repay, current=current, limit=limit, usage_pct=usage_pct
    )


def _summary(line: tuple[str, int, int, int, int, int]) -> SummaryLine:
    item, buy, sell, repay, previous, current = line
    unit = "thousand_twd" if item == "margin_purchase_amount" else "lots"
    return SummaryLine.model_validate(
        {"item": item, "unit": unit, "previous": previous, "buy": buy, "sell": sell, "repay": repay, "current": current}
    )


def _note(note: str) -> str | None:
    flags = [f"{flag}: {NOTES[flag]}" for flag in note if flag in NOTES]
    return "; ".join(flags) or (note or None)
