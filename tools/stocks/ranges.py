"""Date ranges for price history: explicit start/end dates or a named period.

Validation happens here, before any request, with messages naming the argument.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Literal

from tools.errors import InvalidInput

Period = Literal["1mo", "3mo", "6mo", "1y", "ytd"]
_MONTHS = {"1mo": 1, "3mo": 3, "6mo": 6, "1y": 12}
DEFAULT_PERIOD: Period = "1mo"


def months_back(day: date, months: int) -> date:
    """The same day ``months`` earlier, clamped to the month's last day (Mar 31 -> Feb 28)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_start(period: Period, today: date) -> date:
    """First day covered by ``period`` ending today (``ytd``: January 1)."""
    if period == "ytd":
        return date(today.year, 1, 1)
    return months_back(today, _MONTHS[period])


def resolve_range(
    start: date | None, end: date | None, period: Period | None, today: date, session: date | None = None
) -> tuple[date, date]:
    """(start, end) with end clipped to ``today``; InvalidInput for contradictory arguments.

    Rules: ``period`` excludes ``start_date``/``end_date``; neither given -> the last month;
    a period ends on ``session`` (the exchange's last session on or before today; default
    today) and counts back from it; only ``end_date`` -> the month before it; ``start_date``
    after today or ``end_date`` before ``start_date`` -> rejected.
    """
    if period is not None and (start is not None or end is not None):
        raise InvalidInput("period", "give either period or start_date/end_date, not both")
    if start is None and end is None:
        period, last = period or DEFAULT_PERIOD, session or today
        return period_start(period, last), last
    end = end or today
    start = start or months_back(end, 1)
    if start > today:
        raise InvalidInput("start_date", f"{start.isoformat()} is in the future (today is {today.isoformat()})")
    if end < start:
        raise InvalidInput("end_date", f"{end.isoformat()} is before start_date {start.isoformat()}")
    return start, min(end, today)
