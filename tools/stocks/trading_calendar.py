"""Exchange trading calendars: which days have a session, when sessions open and close.

Sessions come from the ``exchange-calendars`` package (``XTAI`` for Taiwan, ``XNYS`` for US
listings, ``XLON``...; :mod:`tools.stocks.exchanges` maps symbols to them). Its import (pandas)
takes about 1.7 s and one calendar about 0.15 s to build, so nothing here is imported or built
until a call needs it: :meth:`TradingCalendars.get` builds a calendar in a worker thread the first
time, and the tables are kept for the life of the process (shared by every service).

A calendar is turned into plain tables (session dates, open and close epochs) covering
2005-01-01 to the end of the year after next (read from the injected clock when first built), so
lookups are bisections on lists, with no pandas at call time. Outside that range, and for
exchanges the package does not know, the calendar falls back to Monday-Friday sessions at the
exchange's usual hours (:class:`~tools.stocks.sessions.TradingHours`; for an unknown exchange the
whole weekday) and logs a warning: holidays are then unknown, so such calendars are marked
``known=False`` (quote lifetimes are capped for them).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import warnings
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tools.stocks.sessions import TradingHours

log = logging.getLogger(__name__)

FIRST_DAY = date(2005, 1, 1)
"""First day of every calendar table (Taiwan bars start 2010; Yahoo ranges rarely go further)."""

WHOLE_DAY = (time(0, 0), time(23, 59, 59))


@dataclass(frozen=True, slots=True)
class SessionTable:
    """The sessions of one exchange between two days, as plain lists (oldest first)."""

    days: list[date]
    opens: list[float]
    closes: list[float]
    first: date
    last: date


@dataclass(slots=True)
class Calendar:
    """Sessions of one exchange; see the module docstring. ``table`` None: weekdays only."""

    name: str
    fallback: TradingHours
    table: SessionTable | None = None
    _warned: set[str] = field(default_factory=set)

    @property
    def known(self) -> bool:
        """True when holidays are known (the package's data), False for the weekday fallback."""
        return self.table is not None

    @property
    def tz(self) -> ZoneInfo:
        return self.fallback.tz

    def today(self, epoch: float) -> date:
        """The exchange's calendar date at ``epoch``."""
        return self.fallback.today(epoch)

    def is_session(self, day: date) -> bool:
        table = self._covering(day)
        if table is None:
            return self.fallback.is_trading_day(day)
        index = bisect_left(table.days, day)
        return index < len(table.days) and table.days[index] == day

    def sessions(self, first: date, last: date) -> list[date]:
        """Session days from ``first`` to ``last`` inclusive."""
        table = self._covering(first) if self._covering(last) is not None else None
        if table is None:
            days = (first + timedelta(days=n) for n in range((last - first).days + 1))
            return [day for day in days if self.fallback.is_trading_day(day)]
        return table.days[bisect_left(table.days, first) : bisect_right(table.days, last)]

    def last_session(self, day: date) -> date | None:
        """The last session on or before ``day`` (None when there is none in the table)."""
        table = self._covering(day)
        if table is None:
            back = next(n for n in range(7) if self.fallback.is_trading_day(day - timedelta(days=n)))
            return day - timedelta(days=back)
        index = bisect_right(table.days, day)
        return table.days[index - 1] if index else None

    def is_open(self, epoch: float) -> bool:
        """True from a session's open (inclusive) to its close (exclusive)."""
        table = self._covering_epoch(epoch)
        if table is None:
            return self.fallback.is_open(epoch)
        index = bisect_right(table.opens, epoch) - 1
        return index >= 0 and epoch < table.closes[index]

    def closed_within(self, epoch: float, seconds: float) -> bool:
        """True in the first ``seconds`` after a session's close."""
        table = self._covering_epoch(epoch)
        if table is None:
            return self.fallback.in_settle_window(epoch)
        index = bisect_right(table.closes, epoch) - 1
        return index >= 0 and epoch < table.closes[index] + seconds

    def next_open(self, epoch: float) -> float:
        """Epoch of the next session open strictly after ``epoch``."""
        table = self._covering_epoch(epoch)
        if table is not None:
            index = bisect_right(table.opens, epoch)
            if index < len(table.opens):
                return table.opens[index]
            self._warn("after")
        return self.fallback.next_open(epoch)

    def quote_ttl(self, epoch: float, in_session: float, closed_cap: float, settle: float) -> float:
        """Seconds a quote fetched at ``epoch`` stays fresh: ``in_session`` while the exchange
        trades and ``settle`` seconds after a close, else until the next open (holidays
        included). ``closed_cap`` caps that only when holidays are unknown (weekday fallback)."""
        if self.is_open(epoch) or self.closed_within(epoch, settle):
            return in_session
        return self.until_open(epoch, closed_cap)

    def until_open(self, epoch: float, closed_cap: float) -> float:
        """Seconds from ``epoch`` to the next session open (at least 1), capped by
        ``closed_cap`` only when holidays are unknown (weekday fallback)."""
        until_open = self.next_open(epoch) - epoch
        if self._covering_epoch(epoch) is None:
            until_open = min(until_open, closed_cap)
        return max(1.0, until_open)

    # -- coverage ----------------------------------------------------------------------------

    def _covering(self, day: date) -> SessionTable | None:
        table = self.table
        if table is None:
            return None
        if table.first <= day <= table.last:
            return table
        self._warn("before" if day < table.first else "after")
        return None

    def _covering_epoch(self, epoch: float) -> SessionTable | None:
        return self._covering(self.today(epoch))

    def _warn(self, side: str) -> None:
        if side not in self._warned:  # once per calendar and side: lookups are frequent
            self._warned.add(side)
            table = self.table
            span = f"{table.first}..{table.last}" if table else "none"
            log.warning("calendar %s: a date %s its table (%s); using weekdays", self.name, side, span)


def weekday_calendar(name: str, tz: ZoneInfo, hours: tuple[time, time] = WHOLE_DAY) -> Calendar:
    """The fallback for an exchange the package does not know: Monday-Friday, ``hours``."""
    log.warning("exchange calendar %s is not known: sessions are weekdays, holidays unknown", name)
    return Calendar(name, TradingHours(tz=tz, open=hours[0], close=hours[1]))


Builder = Callable[[str, int], tuple[SessionTable, ZoneInfo]]
"""(code, last year) -> the code's session table and time zone; raises KeyError when unknown."""


_BUILD_LOCK = threading.Lock()
"""One build at a time: ``warnings.catch_warnings`` is process-wide, not per thread."""


@functools.lru_cache(maxsize=64)
def build_table(code: str, last_year: int) -> tuple[SessionTable, ZoneInfo]:
    """Sessions of ``code`` from :data:`FIRST_DAY` to the end of ``last_year`` (slow: imports
    pandas; cached for the process)."""
    import exchange_calendars  # deferred: see the module docstring

    if code not in exchange_calendars.get_calendar_names():
        raise KeyError(code)
    with _BUILD_LOCK, warnings.catch_warnings():  # pandas 3.1 deprecation inside the package's constructor
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=r"Series\.values returning")
        calendar = exchange_calendars.get_calendar(code, start=FIRST_DAY.isoformat(), end=f"{last_year}-12-31")
        days = [stamp.date() for stamp in calendar.sessions]
        opens = [stamp.timestamp() for stamp in calendar.opens]
        closes = [stamp.timestamp() for stamp in calendar.closes]
    table = SessionTable(days=days, opens=opens, closes=closes, first=FIRST_DAY, last=date(last_year, 12, 31))
    return table, ZoneInfo(str(calendar.tz))


class TradingCalendars:
    """Calendars by code, built on first use (in a thread) and reused; see the module docstring.

    ``clock`` decides how far ahead tables reach; ``builder`` makes a table (tests pass a small one).
    Outside a table, sessions are weekdays at the hours of the table's last session.
    """

    def __init__(self, clock: Callable[[], float], builder: Builder = build_table) -> None:
        self._clock, self._builder = clock, builder
        self._ready: dict[str, Calendar] = {}
        self._building: dict[str, asyncio.Future[Calendar]] = {}

    def loaded(self, code: str) -> Calendar | None:
        """The calendar of ``code`` if it was built already (never blocks)."""
        return self._ready.get(code)

    async def get(self, code: str, tz: ZoneInfo | None = None) -> Calendar:
        """The calendar of ``code``; an unknown code gets the weekday fallback in ``tz`` (UTC).
        Concurrent first callers share one build (and wake together when it is done)."""
        ready = self._ready.get(code)
        if ready is not None:
            return ready
        building = self._building.get(code)
        if building is None:
            building = asyncio.ensure_future(asyncio.to_thread(self._build, code, tz))
            self._building[code] = building
            building.add_done_callback(lambda done: self._built(code, done))
        return await asyncio.shield(building)  # a cancelled caller does not cancel the others' build

    def _built(self, code: str, done: asyncio.Future[Calendar]) -> None:
        self._building.pop(code, None)
        if not done.cancelled() and done.exception() is None:
            self._ready[code] = done.result()

    def _build(self, code: str, tz: ZoneInfo | None) -> Calendar:
        last_year = datetime.fromtimestamp(self._clock(), UTC).year + 2
        try:
            table, zone = self._builder(code, last_year)
        except KeyError:
            return weekday_calendar(code, tz or UTC_ZONE)
        opened = datetime.fromtimestamp(table.opens[-1], zone).time()
        closed = datetime.fromtimestamp(table.closes[-1], zone).time()
        hours = (opened, closed) if opened < closed else WHOLE_DAY  # 24/5: a session runs past midnight
        return Calendar(code, TradingHours(tz=zone, open=hours[0], close=hours[1]), table)


UTC_ZONE = ZoneInfo("UTC")
