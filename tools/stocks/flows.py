"""Institutional investors' net buy/sell of one whole-market day: TWSE ``T86``, TPEx ``dailyTrade``.

Both answer every security of the day in one payload; a day is parsed into a
:class:`FlowsDay` (code -> one compact :data:`FlowRow`) and cached as a whole
(:mod:`tools.stocks.market_days`). Units are shares on both exchanges.

- TWSE ``T86`` (``{stat, fields, data}``): columns are found by header name. 證券名稱 is
  right-padded with spaces (CJK counted double): stripped. ``foreign`` is 外陸資買賣超股數
  (不含外資自營商), ``foreign_dealers`` 外資自營商買賣超股數, ``trust`` 投信買賣超股數, ``dealers``
  自營商買賣超股數 (own account + hedging), ``total`` 三大法人買賣超股數.
- TPEx ``dailyTrade`` (``{tables: [{fields, data}], stat: "ok"}``): the labels repeat (seven
  買進股數/賣出股數/買賣超股數 triplets), so columns are taken by position, and each position's
  label is checked first: 0 代號, 1 名稱, net columns 4 (foreign excluding dealers), 7 (foreign
  dealers), 13 (investment trust), 22 (dealers total), 23 三大法人買賣超股數合計.

On both, foreign + trust + dealers = total on every row of the recorded files (foreign dealers
are zero there). A day without data (TWSE's "沒有符合條件的資料" stat, TPEx's empty table: a
holiday, or today before publication) is an empty day, not an error.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import Field

from tools.deferred import Deferred
from tools.http.client import UpstreamClient
from tools.http.errors import BadPayload
from tools.stocks.models import Market
from tools.stocks.parsing import header_index, parse_int

T86_PATH = "/rwd/zh/fund/T86"
TPEX_INSTI_PATH = "/www/zh-tw/insti/dailyTrade"

FlowRow = tuple[str, int, int, int, int, int]
"""(name, foreign, foreign_dealers, trust, dealers, total), in shares."""

T86_COLUMNS = {
    "code": "證券代號",
    "name": "證券名稱",
    "foreign": "外陸資買賣超股數(不含外資自營商)",
    "foreign_dealers": "外資自營商買賣超股數",
    "trust": "投信買賣超股數",
    "dealers": "自營商買賣超股數",
    "total": "三大法人買賣超股數",
}
TPEX_POSITIONS = {
    "code": (0, "代號"),
    "name": (1, "名稱"),
    "foreign": (4, "買賣超股數"),
    "foreign_dealers": (7, "買賣超股數"),
    "trust": (13, "買賣超股數"),
    "dealers": (22, "買賣超股數"),
    "total": (23, "三大法人買賣超股數合計"),
}
NO_DATA_MARKERS = ("沒有符合條件", "查詢日期大於", "查詢日期小於")


class FlowsDay(Deferred):
    """One exchange's institutional flows of one day (``rows`` empty: no data that day)."""

    market: Market
    date: date
    rows: dict[str, FlowRow] = Field(default_factory=dict)


class FlowsSource:
    """Fetches one day's flows of TWSE (``T86``) or TPEx (``dailyTrade``)."""

    def __init__(self, twse: UpstreamClient, tpex: UpstreamClient) -> None:
        self._twse, self._tpex = twse, tpex

    async def fetch(self, market: Market, day: date) -> FlowsDay:
        if market == "TWSE":
            params = {"date": day.strftime("%Y%m%d"), "response": "json", "selectType": "ALL"}
            return parse_t86(await self._twse.get_json(T86_PATH, params=params), day)
        params = {"date": day.strftime("%Y/%m/%d"), "response": "json", "type": "Daily"}
        return parse_tpex_insti(await self._tpex.get_json(TPEX_INSTI_PATH, params=params), day)


def parse_t86(payload: Any, day: date) -> FlowsDay:
    """A T86 payload -> :class:`FlowsDay` (see the module docstring)."""
    if not isinstance(payload, dict):
        raise BadPayload("twse", f"T86 answered {type(payload).__name__}, expected an object")
    stat = str(payload.get("stat", ""))
    if stat != "OK":
        if any(marker in stat for marker in NO_DATA_MARKERS):
            return FlowsDay(market="TWSE", date=day)
        raise BadPayload("twse", f"T86 answered stat {stat!r}")
    try:
        index = header_index(payload.get("fields") or [], T86_COLUMNS)
        rows = dict(_row(row, index) for row in payload.get("data") or [])
    except (ValueError, TypeError, IndexError) as exc:
        raise BadPayload("twse", f"T86 rows unreadable: {exc}") from exc
    return FlowsDay(market="TWSE", date=day, rows=rows)


def parse_tpex_insti(payload: Any, day: date) -> FlowsDay:
    """A TPEx dailyTrade payload -> :class:`FlowsDay`; the labels at the positions are checked."""
    table = first_table(payload, "tpex", "insti dailyTrade")
    data = table.get("data") or []
    if not data:
        return FlowsDay(market="TPEx", date=day)
    try:
        index = positions(table.get("fields") or [], TPEX_POSITIONS)
        rows = dict(_row(row, index) for row in data)
    except (ValueError, TypeError, IndexError) as exc:
        raise BadPayload("tpex", f"insti dailyTrade rows unreadable: {exc}") from exc
    return FlowsDay(market="TPEx", date=day, rows=rows)


def first_table(payload: Any, upstream: str, what: str) -> dict[str, Any]:
    """``tables[0]`` of a TPEx payload (``{}`` when absent); BadPayload when not an object."""
    if not isinstance(payload, dict):
        raise BadPayload(upstream, f"{what} answered {type(payload).__name__}, expected an object")
    tables = payload.get("tables") or []
    return tables[0] if tables and isinstance(tables[0], dict) else {}


def positions(fields: list[object], wanted: dict[str, tuple[int, str]]) -> dict[str, int]:
    """Our column name -> position, after checking each position carries its expected label
    (spaces ignored): a layout change is refused rather than read into the wrong column."""
    for name, (position, label) in wanted.items():
        found = re.sub(r"\s+", "", str(fields[position])) if position < len(fields) else None
        if found != label:
            raise ValueError(f"column {position} ({name}) is {found!r}, expected {label!r}")
    return {name: position for name, (position, _) in wanted.items()}


def _row(row: list[Any], index: dict[str, int]) -> tuple[str, FlowRow]:
    return str(row[index["code"]]).strip(), (
        str(row[index["name"]]).strip(),
        count(row[index["foreign"]]),
        count(row[index["foreign_dealers"]]),
        count(row[index["trust"]]),
        count(row[index["dealers"]]),
        count(row[index["total"]]),
    )


def count(text: object) -> int:
    """A share or lot count; ValueError (-> BadPayload) when unreadable: never guessed as 0.

    The plain ``"-1,129,000"`` form is read directly: a TWSE day has ~17,000 rows of counts,
    and the general parser (tags, markers) would take most of a second per day."""
    if isinstance(text, str):
        try:
            return int(text.replace(",", ""))
        except ValueError:
            pass
    value = parse_int(text)
    if value is None:
        raise ValueError(f"not a count: {text!r}")
    return value
