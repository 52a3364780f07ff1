"""TWSE ex-rights/ex-dividend calculation results (除權除息計算結果表, ``TWT49U``).

``GET /rwd/zh/exRight/TWT49U?startDate=YYYYMMDD&endDate=YYYYMMDD&response=json``: one row per
listed security that went ex-rights or ex-dividend in the range, all codes at once. Payload
``{stat, title, fields, data, notes, formula, ...}``; columns are located by header name.
Dates are ROC with CJK separators (``"115年06月01日"`` is 2026-06-01); prices carry thousands
separators (``"4,410.00"``). ``權/息`` is ``息`` (cash dividend), ``權`` (stock dividend or
rights) or ``權息`` (both). The exchange's own identity: ``權值+息值 = 除權息前收盤價 -
除權息參考價`` (previous close minus reference price). ``stat`` other than ``"OK"``: the
"no matching data" message -> no rows; anything else -> ``BadPayload``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from tools.http.client import UpstreamClient
from tools.http.errors import BadPayload
from tools.stocks.parsing import ROC_OFFSET, cell, clean, header_index, parse_number

UPSTREAM = "twse"
TWT49U_PATH = "/rwd/zh/exRight/TWT49U"

COLUMNS = {
    "date": "資料日期",
    "code": "股票代號",
    "previous_close": "除權息前收盤價",
    "reference_price": "除權息參考價",
    "value": "權值+息值",
    "kind": "權/息",
}
KINDS = {"息": "dividend", "權": "rights", "權息": "rights_dividend"}
"""``權/息`` -> our kind: cash dividend, stock dividend/rights, or both on one day."""

_NO_DATA_MARKERS = ("沒有符合條件",)
_CJK_DATE = re.compile(r"^([0-9]{2,3})年([0-9]{1,2})月([0-9]{1,2})日$")

ExRight = list[Any]
"""One row as cached: ``[iso date, previous_close, reference_price, value, kind]`` (compact:
a year holds well over a thousand rows)."""


class TwseExRights:
    """Fetches TWT49U ranges through the TWSE client (its rate limiter and breaker)."""

    def __init__(self, client: UpstreamClient) -> None:
        self._client = client

    async def fetch(self, start: date, end: date) -> dict[str, list[ExRight]]:
        """Rows of every code that went ex-rights/ex-dividend from ``start`` to ``end``, by code."""
        params = {"startDate": start.strftime("%Y%m%d"), "endDate": end.strftime("%Y%m%d"), "response": "json"}
        return parse_twt49u(await self._client.get_json(TWT49U_PATH, params=params))


def parse_twt49u(payload: Any) -> dict[str, list[ExRight]]:
    """Parse a TWT49U payload (see the module docstring) into rows by code, oldest first."""
    if not isinstance(payload, dict):
        raise BadPayload(UPSTREAM, f"TWT49U answered {type(payload).__name__}, expected an object")
    stat = str(payload.get("stat", ""))
    if stat != "OK":
        if any(marker in stat for marker in _NO_DATA_MARKERS):
            return {}
        raise BadPayload(UPSTREAM, f"TWT49U answered stat {stat!r}")
    rows = payload.get("data") or []
    by_code: dict[str, list[ExRight]] = {}
    try:
        index = header_index(payload.get("fields") or [], COLUMNS)
        for row in rows:
            code = clean(cell(row, index, "code"))
            by_code.setdefault(code, []).append(_row(row, index))
    except (ValueError, TypeError) as exc:
        raise BadPayload(UPSTREAM, f"TWT49U rows unreadable: {exc}") from exc
    for entries in by_code.values():
        entries.sort(key=lambda entry: entry[0])
    return by_code


def parse_cjk_date(text: object) -> date:
    """``"115年06月01日"`` (ROC year) -> ``date(2026, 6, 1)``; ValueError otherwise."""
    match = _CJK_DATE.match(clean(text).replace(" ", ""))
    if match is None:
        raise ValueError(f"not a ROC date: {text!r}")
    year, month, day = (int(part) for part in match.groups())
    return date(year + ROC_OFFSET, month, day)


def _row(row: list[Any], index: dict[str, int]) -> ExRight:
    kind = clean(cell(row, index, "kind"))
    return [
        parse_cjk_date(cell(row, index, "date")).isoformat(),
        parse_number(cell(row, index, "previous_close")),
        parse_number(cell(row, index, "reference_price")),
        parse_number(cell(row, index, "value")),
        KINDS.get(kind, kind or "unknown"),
    ]
