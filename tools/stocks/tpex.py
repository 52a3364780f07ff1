"""TPEx (OTC) daily bars: one month of one code per request (``tradingStock``).

Payload ``{tables: [{fields, data, ...}], code, name, stat: "ok"}``. Columns are located by
header name (headers such as ``"日 期"`` carry spaces, which are ignored). Units differ from
TWSE and are converted here so both markets return the same units:

- 成交張數 is in lots (張) of 1,000 shares -> ``volume`` in shares (x 1000);
- 成交仟元 is in thousands of TWD -> ``turnover`` in TWD (x 1000).

Rises are unsigned (``"11.00"``), falls ``"-80.00"``. A month without rows (including a code
TPEx does not list) is an empty month.
"""

from __future__ import annotations

from typing import Any

from tools.http.client import UpstreamClient
from tools.http.errors import BadPayload
from tools.stocks.models import DailyBar, MonthBars
from tools.stocks.parsing import cell, header_index, parse_change, parse_int, parse_number, parse_roc_date

UPSTREAM = "tpex"
TRADING_STOCK_PATH = "/www/zh-tw/afterTrading/tradingStock"
LOT_SHARES = 1000
THOUSAND = 1000

COLUMNS = {
    "date": "日期",
    "lots": "成交張數",
    "turnover_k": "成交仟元",
    "open": "開盤",
    "high": "最高",
    "low": "最低",
    "close": "收盤",
    "change": "漲跌",
    "transactions": "筆數",
}
OPTIONAL = frozenset({"turnover_k", "transactions", "change"})


class TpexDaily:
    """Fetches and parses TPEx monthly daily bars through the shared resilient client."""

    def __init__(self, client: UpstreamClient) -> None:
        self._client = client

    async def fetch_month(self, code: str, year: int, month: int) -> MonthBars:
        """Bars of ``code`` for the month; an empty ``bars`` list when TPEx has none."""
        payload = await self._client.get_json(
            TRADING_STOCK_PATH,
            params={"code": code, "date": f"{year:04d}/{month:02d}/01", "response": "json"},
        )
        return parse_trading_stock(payload, code, year, month)


def parse_trading_stock(payload: Any, code: str, year: int, month: int) -> MonthBars:
    """Parse a tradingStock payload into a :class:`MonthBars` in shares and TWD."""
    if not isinstance(payload, dict):
        raise BadPayload(UPSTREAM, f"tradingStock answered {type(payload).__name__}, expected an object")
    tables = payload.get("tables") or []
    table = tables[0] if tables and isinstance(tables[0], dict) else {}
    rows = table.get("data") or []
    name = str(payload.get("name") or "").strip() or None
    if not rows:
        return MonthBars(code=code, market="TPEx", year=year, month=month, name=name)
    try:
        index = header_index(table.get("fields") or [], COLUMNS, OPTIONAL)
        bars = [_bar(row, index) for row in rows]
    except (ValueError, TypeError) as exc:
        raise BadPayload(UPSTREAM, f"tradingStock rows unreadable: {exc}") from exc
    bars.sort(key=lambda bar: bar.date)
    return MonthBars(code=code, market="TPEx", year=year, month=month, name=name, bars=bars)


def _bar(row: list[Any], index: dict[str, int]) -> DailyBar:
    change = parse_change(cell(row, index, "change"))
    lots = parse_int(cell(row, index, "lots"))
    turnover_k = parse_number(cell(row, index, "turnover_k"))
    return DailyBar(
        date=parse_roc_date(cell(row, index, "date")),
        open=parse_number(cell(row, index, "open")),
        high=parse_number(cell(row, index, "high")),
        low=parse_number(cell(row, index, "low")),
        close=parse_number(cell(row, index, "close")),
        volume=None if lots is None else lots * LOT_SHARES,
        turnover=None if turnover_k is None else turnover_k * THOUSAND,
        transactions=parse_int(cell(row, index, "transactions")),
        change=change.value,
        ex_dividend=change.not_comparable,
    )
