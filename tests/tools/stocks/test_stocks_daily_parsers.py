"""TWSE STOCK_DAY and TPEx tradingStock parsing over the recorded months (plus marked variants)."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from tests.support.fixtures import load_json
from tools.http.errors import BadPayload
from tools.stocks.errors import BeforeRecords
from tools.stocks.parsing import parse_change, parse_number, parse_roc_date
from tools.stocks.tpex import parse_trading_stock
from tools.stocks.twse import parse_stock_day

AUG = "twse/twse_stock_day_2330_202608.json"


def test_roc_dates_numbers_and_changes() -> None:
    assert parse_roc_date("115/08/03") == date(2026, 8, 3)
    assert parse_roc_date("1150903") == date(2026, 9, 3)
    assert parse_number("2,390.00") == 2390.0
    assert parse_number("--") is None
    assert parse_change("+85.00").value == 85.0
    assert parse_change(" 0.00").value == 0.0
    assert parse_change("X0.00").value is None and parse_change("X0.00").not_comparable
    with pytest.raises(ValueError):
        parse_roc_date("2026-08-03")


def test_twse_august_2330_dates_prices_volumes() -> None:
    month = parse_stock_day(load_json(AUG), "2330", 2026, 8)
    assert month.market == "TWSE" and month.name == "台積電"
    assert len(month.bars) == 21
    first, last = month.bars[0], month.bars[-1]
    assert first.date == date(2026, 8, 3) and last.date == date(2026, 8, 31)
    assert (first.open, first.high, first.low, first.close) == (2390.0, 2395.0, 2365.0, 2370.0)
    assert first.volume == 35_209_944 and first.turnover == 83_673_350_698 and first.transactions == 174_489
    assert first.change == -55.0 and not first.ex_dividend
    assert month.bars[2].change == 85.0  # "+85.00"
    assert last.close == 2405.0 and last.volume == 32_792_740


def test_twse_september_2330_has_four_days() -> None:
    month = parse_stock_day(load_json("twse/twse_stock_day_2330_202609.json"), "2330", 2026, 9)
    assert [bar.date.day for bar in month.bars] == [1, 2, 3, 4]
    assert month.bars[-1].close == 2410.0 and month.bars[-1].change == 20.0


def test_twse_ex_dividend_and_no_trade_rows_synthesised() -> None:
    # No recorded month has an "X0.00" change (DESIGN.md section 7): this row is synthesised,
    # with the "--" no-trade row and the " 0.00" no-change wording SOURCES.md quotes.
    payload = load_json(AUG)
    payload["data"][1][7] = "X0.00"
    payload["data"][2][3:8] = ["--", "--", "--", "--", " 0.00"]
    month = parse_stock_day(payload, "2330", 2026, 8)
    assert month.bars[1].change is None and month.bars[1].ex_dividend
    assert month.bars[1].close == 2320.0
    gap = month.bars[2]
    assert (gap.open, gap.high, gap.low, gap.close) == (None, None, None, None)
    assert gap.change == 0.0 and not gap.ex_dividend


def test_twse_columns_found_by_header_not_position() -> None:
    payload = load_json(AUG)
    order = [9, 0, 6, 1, 2, 3, 4, 5, 7, 8]  # shuffled, as if TWSE inserted/moved columns
    payload["fields"] = [payload["fields"][i] for i in order]
    payload["data"] = [[row[i] for i in order] for row in payload["data"]]
    month = parse_stock_day(payload, "2330", 2026, 8)
    assert month.bars[0].close == 2370.0 and month.bars[0].volume == 35_209_944


def test_twse_no_data_is_an_empty_month() -> None:
    month = parse_stock_day(load_json("twse/twse_stock_day_nodata.json"), "6488", 2026, 8)
    assert month.bars == [] and month.market == "TWSE"


def test_twse_before_2010_and_unknown_stat() -> None:
    with pytest.raises(BeforeRecords, match="2010-01-04"):
        parse_stock_day({"stat": "查詢日期小於99年1月4日，請重新查詢!", "total": 0}, "2330", 2009, 12)
    with pytest.raises(BadPayload):
        parse_stock_day({"stat": "系統忙碌中"}, "2330", 2026, 8)
    broken = copy.deepcopy(load_json(AUG))
    broken["fields"][6] = "收盤"
    with pytest.raises(BadPayload, match="收盤價"):
        parse_stock_day(broken, "2330", 2026, 8)


def test_tpex_august_6488_converts_lots_and_thousands() -> None:
    month = parse_trading_stock(load_json("tpex/tpex_trading_stock_6488_202608.json"), "6488", 2026, 8)
    assert month.market == "TPEx" and month.name == "環球晶" and len(month.bars) == 21
    first = month.bars[0]
    assert first.date == date(2026, 8, 3)
    assert first.volume == 15_388_000  # 15,388 lots
    assert first.turnover == 13_694_380_000  # 13,694,380 thousand TWD
    assert first.change == 11.0  # rises are unsigned on TPEx
    assert month.bars[2].change == -80.0 and month.bars[3].change == 0.0
    assert month.bars[8].date == date(2026, 8, 13) and month.bars[8].high == 1025.0  # "1,025.00"


def test_tpex_september_and_empty_month() -> None:
    month = parse_trading_stock(load_json("tpex/tpex_trading_stock_6488_202609.json"), "6488", 2026, 9)
    assert [bar.date.day for bar in month.bars] == [1, 2, 3, 4]
    empty = load_json("tpex/tpex_trading_stock_6488_202609.json")
    empty["tables"][0]["data"] = []
    assert parse_trading_stock(empty, "9999", 2026, 9).bars == []
    assert parse_trading_stock({"stat": "ok", "tables": []}, "9999", 2026, 9).bars == []
