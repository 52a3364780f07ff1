"""TWSE daily bars: one month of one listed code per request (``STOCK_DAY``).

Payload ``{stat, title, fields, data, total}``. Columns are located by header name (TWSE added
a column in 2026: positions are not stable). Dates are ROC years, numbers carry thousands
separators, ``"--"`` means no trade and a change ``"X0.00"`` marks an ex-dividend day (change
null, flagged). ``stat`` other than ``"OK"``:

- the "no matching data" message -> an empty month (a TPEx code, or a month without trading);
- the "date before 99/01/04" message -> :class:`tools.stocks.errors.BeforeRecords`;
- anything else -> ``BadPayload``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from tools.http.client import UpstreamClient
from tools.http.errors import BadPayload
from tools.stocks.errors import BeforeRecords
from tools.stocks.models import DailyBar, MonthBars
from tools.stocks.parsing import cell, header_index, parse_change, parse_int, parse_number, parse_roc_date

UPSTREAM = "twse"
STOCK_DAY_PATH = "/rwd/zh/afterTrading/STOCK_DAY"

COLUMNS = {
    "date": "日期",
    "volume": "成交股數",
    "turnover": "成交金額",
    "open": "開盤價",
    "high": "最高價",
    "low": "最低價",
    "close": "收盤價",
    "change": "漲跌價差",
    "transactions": "成交筆數",
}
OPTIONAL = frozenset({"turnover", "transactions", "change"})

FIRST_DAY = date(2010, 1, 4)
"""TWSE refuses a ``date`` before this day, even the 1st of its month: January 2010 is asked as of the 4th."""
_NO_DATA_MARKERS = ("沒有符合條件", "查詢日期大於")
_TOO_EARLY_MARKER = "查詢日期小於"
# \s stays Unicode on purpose: the title pads its CJK parts with fullwidth spaces.
_TITLE_NAME = re.compile(r"^\s*\S+\s+(?P<code>[0-9A-Za-z]+)\s+(?P<name>.+?)\s+各日成交資訊")


class TwseDaily:
    """Fetches and parses TWSE monthly daily bars through the shared resilient client."""

    def __init__(self, client: UpstreamClient) -> None:
        self._client = client

    async def fetch_month(self, code: str, year: int, month: int) -> MonthBars:
        """Bars of ``code`` for the month; an empty ``bars`` list when TWSE has none."""
        first = FIRST_DAY.day if (year, month) == (FIRST_DAY.year, FIRST_DAY.month) else 1
        params = {"date": f"{year:04d}{month:02d}{first:02d}", "response": "json", "stockNo": code}
        payload = await self._client.get_json(STOCK_DAY_PATH, params=params)
        return parse_stock_day(payload, code, year, month)


def parse_stock_day(payload: Any, code: str, year: int, month: int) -> MonthBars:
    """Parse a STOCK_DAY payload into a :class:`MonthBars` (see the module docstring)."""
    if not isinstance(payload, dict):
        raise BadPayload(UPSTREAM, f"STOCK_DAY answered {type(payload).__name__}, expected an object")
    stat = str(payload.get("stat", ""))
    empty = MonthBars(code=code, market="TWSE", year=year, month=month)
    if stat != "OK":
        if any(marker in stat for marker in _NO_DATA_MARKERS):
            return empty
        if _TOO_EARLY_MARKER in stat:
            raise BeforeRecords(UPSTREAM, stat)
        raise BadPayload(UPSTREAM, f"STOCK_DAY answered stat {stat!r}")
    rows = payload.get("data") or []
    if not rows:
        return empty
    try:
        index = header_index(payload.get("fields") or [], COLUMNS, OPTIONAL)
        bars = [_bar(row, index) for row in rows]
    except (ValueError, TypeError) as exc:
        raise BadPayload(UPSTREAM, f"STOCK_DAY rows unreadable: {exc}") from exc
    bars.sort(key=lambda bar: bar.date)
    return MonthBars(code=code, market="TWSE", year=year, month=month, name=_name(payload), bars=bars)


def _bar(row: list[Any], index: dict[str, int]) -> DailyBar:
    change = parse_change(cell(row, index, "change"))
    return DailyBar(
        date=parse_roc_date(cell(row, index, "date")),
        open=parse_number(cell(row, index, "open")),
        high=parse_number(cell(row, index, "high")),
        low=parse_number(cell(row, index, "low")),
        close=parse_number(cell(row, index, "close")),
        volume=parse_int(cell(row, index, "volume")),
        turnover=parse_number(cell(row, index, "turnover")),
        transactions=parse_int(cell(row, index, "transactions")),
        change=change.value,
        ex_dividend=change.not_comparable,
    )


def _name(payload: dict[str, Any]) -> str | None:
    """The company name from a title like ``"115年08月 2330 台積電    各日成交資訊"``."""
    match = _TITLE_NAME.match(str(payload.get("title", "")))
    return match.group("name").strip() if match else None
