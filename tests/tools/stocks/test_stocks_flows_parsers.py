"""The whole-market day parsers on the recorded 2026-09-03 files: the cross-checks SOURCES.md
documents (foreign + trust + dealers = total on every row; margin roll-forward; TPEx usage),
CJK padding, repeated TPEx labels read by position, no-data days, layout changes refused."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import orjson
import pytest

from tests.support.fixtures import fixtures_dir
from tools.http.errors import BadPayload
from tools.stocks.flows import parse_t86, parse_tpex_insti
from tools.stocks.margin import parse_mi_margn, parse_tpex_margin, usage

DAY = date(2026, 9, 3)


def recorded(name: str) -> Any:
    folder = "twse" if name.startswith("twse") else "tpex"
    return orjson.loads((fixtures_dir() / folder / name).read_bytes())


def number(text: str) -> int:
    return int(text.replace(",", ""))


def test_t86_every_row_adds_up_and_names_lose_their_padding() -> None:
    payload = recorded("twse_t86_20260903.json")
    day = parse_t86(payload, DAY)
    assert len(day.rows) == len(payload["data"]) == 25
    for name, foreign, foreign_dealers, trust, dealers, total in day.rows.values():
        assert foreign + foreign_dealers + trust + dealers == total
        assert name == name.strip() and name
    assert day.rows["2409"] == ("友達", 55_437_100, 0, -1_129_000, 1_131_816, 55_439_916)
    assert day.rows["073546"][0] == "台郡元大5C購05"  # the warrant is kept
    # dealers = own account + hedging, on every raw row (columns 14 and 17)
    assert all(number(r[14]) + number(r[17]) == number(r[11]) for r in payload["data"])


def test_tpex_insti_repeated_labels_are_read_by_position() -> None:
    payload = recorded("tpex_insti_daily_20260903.json")
    day = parse_tpex_insti(payload, DAY)
    assert len(day.rows) == 25
    for _, foreign, foreign_dealers, trust, dealers, total in day.rows.values():
        assert foreign + foreign_dealers + trust + dealers == total
    # the row insyra's test pins: 00411A at -689,550 / 0 / -139,119 / -828,669
    assert day.rows["00411A"] == ("主動統一前沿科技", -689_550, 0, 0, -139_119, -828_669)
    raw = payload["tables"][0]["data"]
    assert all(number(r[4]) + number(r[13]) + number(r[22]) == number(r[23]) for r in raw)


def test_a_moved_tpex_column_is_refused_not_misread() -> None:
    payload = copy.deepcopy(recorded("tpex_insti_daily_20260903.json"))
    payload["tables"][0]["fields"][23] = "買賣超股數"
    with pytest.raises(BadPayload, match="column 23"):
        parse_tpex_insti(payload, DAY)


def test_a_missing_t86_header_is_refused() -> None:
    payload = copy.deepcopy(recorded("twse_t86_20260903.json"))
    payload["fields"][10] = "投信"
    with pytest.raises(BadPayload, match="投信買賣超股數"):
        parse_t86(payload, DAY)


def test_an_unreadable_count_is_refused_not_taken_as_zero() -> None:
    payload = copy.deepcopy(recorded("twse_t86_20260903.json"))
    payload["data"][0][18] = "n/a?"
    with pytest.raises(BadPayload):
        parse_t86(payload, DAY)


@pytest.mark.parametrize(
    "payload",
    [{"stat": "很抱歉，沒有符合條件的資料!", "total": 0}, {"stat": "很抱歉，沒有符合條件的資料!"}],
)
def test_twse_no_data_is_an_empty_day(payload: dict[str, Any]) -> None:
    assert parse_t86(payload, DAY).rows == {}
    assert parse_mi_margn(payload, DAY).rows == {} and parse_mi_margn(payload, DAY).summary == []


def test_tpex_no_data_is_an_empty_day() -> None:
    empty = {"tables": [{"fields": [], "data": [], "totalCount": 0}, {}], "stat": "ok"}
    assert parse_tpex_insti(empty, DAY).rows == {} and parse_tpex_margin(empty, DAY).rows == {}


def test_an_unknown_stat_is_an_upstream_fault() -> None:
    with pytest.raises(BadPayload, match="stat"):
        parse_t86({"stat": "系統忙碌中"}, DAY)


def test_mi_margn_rows_roll_forward_and_summary_rows() -> None:
    day = parse_mi_margn(recorded("twse_mi_margn_20260903.json"), DAY)
    assert len(day.rows) == 25
    for _, margin, short, offset, note in day.rows.values():
        buy, sell, repay, previous, current, limit, used = margin
        assert previous + buy - sell - repay == current and used == usage(current, limit)
        buy, sell, repay, previous, current, _, _ = short
        assert previous + sell - buy - repay == current
        assert offset is not None and note == note.strip()
    name, margin, short, _, note = day.rows["00400A"]
    assert (name, note) == ("主動國泰動能高息", "X")
    assert margin == (792, 995, 1, 9_991, 9_787, 475_160, 2.05)
    assert [line[0] for line in day.summary] == ["margin_purchase", "short_sale", "margin_purchase_amount"]
    for item, buy, sell, repay, previous, current in day.summary:
        moved = sell - buy if item == "short_sale" else buy - sell
        assert previous + moved - repay == current


def test_tpex_margin_rows_roll_forward_usage_and_summary() -> None:
    day = parse_tpex_margin(recorded("tpex_margin_balance_20260903.json"), DAY)
    assert len(day.rows) == 25
    for _, margin, short, _, _ in day.rows.values():
        buy, sell, repay, previous, current, limit, used = margin
        assert previous + buy - sell - repay == current
        assert used == usage(current, limit)  # TPEx truncates, as we do for TWSE
        buy, sell, repay, previous, current, limit, used = short
        assert previous + sell - buy - repay == current and used == usage(current, limit)
    assert day.rows["00679B"][1] == (103, 266, 0, 4_367, 4_204, 1_558_798, 0.26)
    assert day.rows["00734B"][4] == "X"
    assert day.summary == [
        ("margin_purchase", 75_911, 83_999, 1_294, 2_286_136, 2_276_754),
        ("short_sale", 4_756, 6_544, 1_114, 39_063, 39_737),
        ("margin_purchase_amount", 9_370_862, 11_310_932, 110_148, 198_211_959, 196_161_741),
    ]
    for item, buy, sell, repay, previous, current in day.summary:
        moved = sell - buy if item == "short_sale" else buy - sell
        assert previous + moved - repay == current
