"""Taipei trading hours on weekdays: the fallback of the trading calendars.

All computations take an epoch time (from the injected clock) and read it in the exchange's
time zone, ``Asia/Taipei`` (UTC+8, no daylight saving): the server's local time zone never
matters. The regular session is 09:00-13:30, Monday to Friday. Exchange holidays are not
known here: :mod:`tools.stocks.trading_calendar` knows them (quote and info lifetimes, the
closing-auction settle window, periods, flows days all go through it) and falls back to these
hours, with a logged warning, for dates outside its tables or exchanges it does not know. The
session-close watch uses these hours until a tool call has built the XTAI calendar (it never
builds it: start-up stays light).

``settle_seconds``: the window after the close during which a quote keeps its in-session
lifetime (the closing auction's result is published around 13:30, so a quote fetched just
before it must not live until the next morning; :meth:`Calendar.quote_ttl`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

TAIPEI = ZoneInfo("Asia/Taipei")
_WEEKEND = (5, 6)


@dataclass(frozen=True, slots=True)
class TradingHours:
    """A Monday-to-Friday session in one time zone."""

    tz: ZoneInfo = TAIPEI
    open: time = time(9, 0)
    close: time = time(13, 30)
    settle_seconds: float = 300.0

    def local(self, epoch: float) -> datetime:
        """The instant as an aware datetime in the exchange's zone."""
        return datetime.fromtimestamp(epoch, self.tz)

    def today(self, epoch: float) -> date:
        """The exchange's calendar date at ``epoch``."""
        return self.local(epoch).date()

    def is_trading_day(self, day: date) -> bool:
        return day.weekday() not in _WEEKEND

    def is_open(self, epoch: float) -> bool:
        """True from the open (inclusive) to the close (exclusive) on a weekday."""
        now = self.local(epoch)
        return self.is_trading_day(now.date()) and self.open <= now.time() < self.close

    def in_settle_window(self, epoch: float) -> bool:
        """True in the first ``settle_seconds`` after the close on a weekday."""
        now = self.local(epoch)
        if not self.is_trading_day(now.date()):
            return False
        closed_at = datetime.combine(now.date(), self.close, self.tz)
        return closed_at <= now < closed_at + timedelta(seconds=self.settle_seconds)

    def next_open(self, epoch: float) -> float:
        """Epoch of the next session open strictly after ``epoch``."""
        now = self.local(epoch)
        for days_ahead in range(8):
            day = now.date() + timedelta(days=days_ahead)
            opening = datetime.combine(day, self.open, self.tz)
            if self.is_trading_day(day) and opening > now:
                return opening.timestamp()
        raise AssertionError("a weekday always occurs within 8 days")  # pragma: no cover
