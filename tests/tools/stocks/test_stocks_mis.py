"""MIS realtime parsing over the three recorded 2330 quotes (all with a "-" last trade)."""

from __future__ import annotations

import pytest

from tests.support.fixtures import load_json
from tools.http.errors import BadPayload
from tools.stocks.mis import channels_for, is_placeholder, parse_entries, to_info, to_quote

RECORDED = [
    # file, best ask, best bid, accumulated lots, time
    ("mis_getstockinfo_tse_2330_20240516_104454.json", 849.0, 848.0, 23350, "2024-05-16T10:44:54+08:00"),
    ("mis_getstockinfo_tse_2330_20240516_104600.json", 848.0, 847.0, 23384, "2024-05-16T10:46:00+08:00"),
    ("mis_getstockinfo_tse_2330_20240516_104619.json", 848.0, 847.0, 23388, "2024-05-16T10:46:19+08:00"),
]


@pytest.mark.parametrize(("name", "ask", "bid", "lots", "when"), RECORDED)
def test_recorded_quotes_fall_back_to_the_bid_ask_midpoint(
    name: str, ask: float, bid: float, lots: int, when: str
) -> None:
    (entry,) = parse_entries(load_json(f"mis/{name}"))
    quote = to_quote(entry)
    assert quote.symbol == "2330" and quote.name == "台積電" and quote.market == "TWSE"
    assert quote.price_source == "bid_ask_mid"
    assert quote.price == (ask + bid) / 2
    assert quote.best_ask == ask and quote.best_bid == bid
    assert quote.previous_close == 839.0
    assert quote.change == pytest.approx(quote.price - 839.0)
    assert quote.change_percent == pytest.approx((quote.price - 839.0) / 839.0 * 100, abs=1e-4)
    assert (quote.open, quote.high, quote.low) == (852.0, 856.0, 844.0)
    assert quote.volume == lots * 1000
    assert quote.time == when and quote.currency == "TWD"


def test_last_trade_and_previous_close_fallbacks() -> None:
    entry = load_json("mis/mis_getstockinfo_tse_2330_20240516_104454.json")["msgArray"][0]
    traded = to_quote({**entry, "z": "850.0000"})
    assert traded.price == 850.0 and traded.price_source == "last_trade" and traded.change == 11.0
    quiet = to_quote({**entry, "a": "-", "b": "-"})  # no trade and no quotes: previous close
    assert quiet.price == 839.0 and quiet.price_source == "previous_close" and quiet.change == 0.0


def test_wrong_prefix_placeholder_is_ignored() -> None:
    # Synthesised placeholder (the recorded files hold a single tse entry).
    payload = load_json("mis/mis_getstockinfo_tse_2330_20240516_104454.json")
    payload["msgArray"].append({"ex": "otc", "ch": "2330.tw", "c": "2330", "n": "", "z": "-", "y": "-"})
    entries = parse_entries(payload)
    assert len(entries) == 1 and entries[0]["ex"] == "tse"
    assert is_placeholder(payload["msgArray"][1])


def test_empty_query_and_error_codes() -> None:
    empty = {"msgArray": [], "rtcode": "5001", "rtmessage": "Empty Query."}
    assert parse_entries(empty) == []
    with pytest.raises(BadPayload, match="9999"):
        parse_entries({"msgArray": [], "rtcode": "9999", "rtmessage": "bad"})
    with pytest.raises(BadPayload):
        parse_entries({"rtcode": "0000"})


def test_channels_and_info() -> None:
    assert channels_for("2330", None) == ["tse_2330.tw", "otc_2330.tw"]
    assert channels_for("6488", "TPEx") == ["otc_6488.tw"]
    (entry,) = parse_entries(load_json("mis/mis_getstockinfo_tse_2330_20240516_104454.json"))
    info = to_info(entry)
    assert info.full_name == "台灣積體電路製造股份有限公司"
    assert (info.limit_up, info.limit_down, info.previous_close) == (922.0, 756.0, 839.0)
