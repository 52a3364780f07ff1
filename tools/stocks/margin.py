"""Margin purchase and short sale balances of one whole-market day: TWSE ``MI_MARGN``, TPEx ``margin/balance``.

Both answer every security of the day in one payload, parsed into a :class:`MarginDay` (code
-> compact :data:`MarginRow`, plus the market summary rows) and cached as a whole
(:mod:`tools.stocks.market_days`). Balances are in lots (TWSE 交易單位, TPEx 張); a side is
:data:`Side` = (buy, sell, repay, previous, current, limit, usage_pct). For margin purchase buy
adds to the balance; for short sale sell does (buy covers). Both hold on the recorded files:
previous + buy - sell - repay = current (margin), previous + sell - buy - repay = current (short).

- TWSE ``MI_MARGN`` (``{stat, tables: [summary, per stock]}``): the per-stock labels repeat
  (買進/賣出/... under the 融資 and 融券 groups), so positions are used, each label checked:
  0 代號, 1 名稱, 2-7 融資 (買進, 賣出, 現金償還, 前日餘額, 今日餘額, 次一營業日限額), 8-13 融券
  (買進, 賣出, 現券償還, 前日餘額, 今日餘額, 次一營業日限額), 14 資券互抵, 15 註記 (trailing
  spaces stripped). TWSE has no usage column: ``usage_pct`` = current / limit, truncated to 2
  decimals as TPEx rounds its own (checked on every recorded TPEx row). The summary table's rows
  are 融資(交易單位), 融券(交易單位), 融資金額(仟元).
- TPEx ``margin/balance`` (``{tables: [{fields, data, summary}]}``): unique labels, found by
  name; usage is TPEx's 資使用率/券使用率. Summary rows 合計(張) (margin and short parts) and
  融資金(仟元).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field

from tools.deferred import Deferred
from tools.http.client import UpstreamClient
from tools.http.errors import BadPayload
from tools.stocks.flows import NO_DATA_MARKERS, count, first_table, positions
from tools.stocks.models import Market
from tools.stocks.parsing import cell, clean, header_index, parse_number

MI_MARGN_PATH = "/rwd/zh/marginTrading/MI_MARGN"
TPEX_MARGIN_PATH = "/www/zh-tw/margin/balance"

Side = tuple[int, int, int, int, int, int | None, float | None]
"""(buy, sell, repay, previous, current, limit, usage_pct); lots."""
MarginRow = tuple[str, Side, Side, int | None, str]
"""(name, margin purchase, short sale, offset (資券互抵), note)."""
Item = Literal["margin_purchase", "short_sale", "margin_purchase_amount"]
SummaryRow = tuple[Item, int, int, int, int, int]
"""(item, buy, sell, repay, previous, current); lots, or thousands of TWD for the amount."""

_MARGIN = ("買進", "賣出", "現金償還", "前日餘額", "今日餘額", "次一營業日限額")
_SHORT = ("買進", "賣出", "現券償還", "前日餘額", "今日餘額", "次一營業日限額")
TWSE_POSITIONS = {
    "code": (0, "代號"),
    "name": (1, "名稱"),
    **{f"m{i}": (2 + i, label) for i, label in enumerate(_MARGIN)},
    **{f"s{i}": (8 + i, label) for i, label in enumerate(_SHORT)},
    "offset": (14, "資券互抵"),
    "note": (15, "註記"),
}
TWSE_SUMMARY = {
    "融資(交易單位)": "margin_purchase",
    "融券(交易單位)": "short_sale",
    "融資金額(仟元)": "margin_purchase_amount",
}
TPEX_COLUMNS = {
    "code": "代號",
    "name": "名稱",
    "m_prev": "前資餘額(張)",
    "m_buy": "資買",
    "m_sell": "資賣",
    "m_repay": "現償",
    "m_cur": "資餘額",
    "m_usage": "資使用率(%)",
    "m_limit": "資限額",
    "s_prev": "前券餘額(張)",
    "s_sell": "券賣",
    "s_buy": "券買",
    "s_repay": "券償",
    "s_cur": "券餘額",
    "s_usage": "券使用率(%)",
    "s_limit": "券限額",
    "offset": "資券相抵(張)",
    "note": "備註",
}


class MarginDay(Deferred):
    """One exchange's margin and short balances of one day (``rows`` empty: no data that day)."""

    market: Market
    date: date
    rows: dict[str, MarginRow] = Field(default_factory=dict)
    summary: list[SummaryRow] = Field(default_factory=list)


class MarginSource:
    """Fetches one day's balances of TWSE (``MI_MARGN``) or TPEx (``margin/balance``)."""

    def __init__(self, twse: UpstreamClient, tpex: UpstreamClient) -> None:
        self._twse, self._tpex = twse, tpex

    async def fetch(self, market: Market, day: date) -> MarginDay:
        if market == "TWSE":
            params = {"date": day.strftime("%Y%m%d"), "response": "json", "selectType": "ALL"}
            return parse_mi_margn(await self._twse.get_json(MI_MARGN_PATH, params=params), day)
        params = {"date": day.strftime("%Y/%m/%d"), "response": "json"}
        return parse_tpex_margin(await self._tpex.get_json(TPEX_MARGIN_PATH, params=params), day)


def usage(current: int, limit: int | None) -> float | None:
    """current / limit in percent, truncated to 2 decimals (TPEx's rounding); None without a limit."""
    return None if not limit else current * 10_000 // limit / 100


def parse_mi_margn(payload: Any, day: date) -> MarginDay:
    """A MI_MARGN payload -> :class:`MarginDay` (see the module docstring)."""
    if not isinstance(payload, dict):
        raise BadPayload("twse", f"MI_MARGN answered {type(payload).__name__}, expected an object")
    stat = str(payload.get("stat", ""))
    if stat != "OK":
        if any(marker in stat for marker in NO_DATA_MARKERS):
            return MarginDay(market="TWSE", date=day)
        raise BadPayload("twse", f"MI_MARGN answered stat {stat!r}")
    tables = [table for table in payload.get("tables") or [] if isinstance(table, dict) and table.get("fields")]
    stocks = next((t for t in tables if clean(t["fields"][0]) == "代號"), None)
    totals = next((t for t in tables if clean(t["fields"][0]) == "項目"), None)
    if stocks is None or not stocks.get("data"):
        return MarginDay(market="TWSE", date=day)
    try:
        index = positions(list(stocks["fields"]), TWSE_POSITIONS)
        rows = dict(_twse_row(row, index) for row in stocks["data"])
        summary = [_twse_summary(row) for row in (totals or {}).get("data") or [] if clean(row[0]) in TWSE_SUMMARY]
    except (ValueError, TypeError, IndexError) as exc:
        raise BadPayload("twse", f"MI_MARGN rows unreadable: {exc}") from exc
    return MarginDay(market="TWSE", date=day, rows=rows, summary=summary)


def _twse_row(row: list[Any], index: dict[str, int]) -> tuple[str, MarginRow]:
    def side(prefix: str) -> Side:
        buy, sell, repay, previous, current = (count(row[index[f"{prefix}{i}"]]) for i in range(5))
        limit = count(row[index[f"{prefix}5"]])
        return buy, sell, repay, previous, current, limit, usage(current, limit)

    note = clean(row[index["note"]])
    return clean(row[index["code"]]), (
        clean(row[index["name"]]),
        side("m"),
        side("s"),
        count(row[index["offset"]]),
        note,
    )


def _twse_summary(row: list[Any]) -> SummaryRow:
    buy, sell, repay, previous, current = (count(value) for value in row[1:6])
    return TWSE_SUMMARY[clean(row[0])], buy, sell, repay, previous, current  # type: ignore[return-value]


def parse_tpex_margin(payload: Any, day: date) -> MarginDay:
    """A TPEx margin/balance payload -> :class:`MarginDay` (columns by name; usage as given)."""
    table = first_table(payload, "tpex", "margin balance")
    data = table.get("data") or []
    if not data:
        return MarginDay(market="TPEx", date=day)
    try:
        index = header_index(table.get("fields") or [], TPEX_COLUMNS)
        rows = dict(_tpex_row(row, index) for row in data)
        summary = [item for row in table.get("summary") or [] for item in _tpex_summary(row)]
    except (ValueError, TypeError, IndexError) as exc:
        raise BadPayload("tpex", f"margin balance rows unreadable: {exc}") from exc
    return MarginDay(market="TPEx", date=day, rows=rows, summary=summary)


def _tpex_row(row: list[Any], index: dict[str, int]) -> tuple[str, MarginRow]:
    def get(name: str) -> int:
        return count(cell(row, index, name))

    def side(prefix: str) -> Side:
        return (
            get(f"{prefix}_buy"),
            get(f"{prefix}_sell"),
            get(f"{prefix}_repay"),
            get(f"{prefix}_prev"),
            get(f"{prefix}_cur"),
            get(f"{prefix}_limit"),
            parse_number(cell(row, index, f"{prefix}_usage")),
        )

    name, note = clean(cell(row, index, "name")), clean(cell(row, index, "note"))
    return clean(cell(row, index, "code")), (name, side("m"), side("s"), get("offset"), note)


def _tpex_summary(row: list[Any]) -> list[SummaryRow]:
    label = clean(row[1]) if len(row) > 1 else ""
    if label == "合計(張)":
        margin = tuple(count(value) for value in row[2:7])  # previous, buy, sell, repay, current
        short = tuple(count(value) for value in row[10:15])  # previous, sell, buy, repay, current
        return [
            ("margin_purchase", margin[1], margin[2], margin[3], margin[0], margin[4]),
            ("short_sale", short[2], short[1], short[3], short[0], short[4]),
        ]
    if label == "融資金(仟元)":
        amount = tuple(count(value) for value in row[2:7])
        return [("margin_purchase_amount", amount[1], amount[2], amount[3], amount[0], amount[4])]
    return []
