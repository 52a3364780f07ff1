"""Yahoo chart v8 parsing over the recordings (daily, 1-minute with a null, weekend, 400, 404)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import orjson
import pytest

from tests.support.fixtures import fixtures_dir, load_json
from tests.support.stocks import ONE_ATTEMPT
from tools.http.factory import build_upstream
from tools.stocks.errors import NoDataInRange, UnknownSymbol
from tools.stocks.yahoo import YahooChart, daily_bars, parse_chart, to_info, to_quote


def body(name: str) -> Any:
    response = load_json(f"yahoo/{name}")["response"]
    return response["bodyJson"] if "bodyJson" in response else orjson.loads(response["body"])


def test_aapl_one_daily_bar_and_meta_price() -> None:
    chart = parse_chart(body("chart-aapl-2020-01-01-to-2020-01-03.json"), "AAPL")
    (bar,) = daily_bars(chart)
    assert bar.date == date(2020, 1, 2)  # 14:30 UTC is 09:30 in New York
    assert bar.close == pytest.approx(75.0875015258789) and bar.volume == 135_480_400
    quote = to_quote(chart)
    assert quote.price == 244.87 and quote.currency == "USD" and quote.market == "Yahoo"
    assert quote.price_source == "regular_market" and quote.name == "Apple Inc."


def test_aapl_49_daily_bars_with_adjclose() -> None:
    chart = parse_chart(body("chart-aapl-2020-08-31-to-2020-11-07.json"), "AAPL")
    bars = daily_bars(chart)
    assert len(bars) == 49
    assert bars[0].date == date(2020, 8, 31) and bars[-1].date == date(2020, 11, 6)
    assert chart.bars[-1].close != chart.bars[-1].adjclose


def test_one_minute_day_keeps_the_null_as_a_gap() -> None:
    chart = parse_chart(body("chart-aapl-2024-10-02-to-2024-10-03-includeprepost-false-interval-1m.json"), "AAPL")
    assert len(chart.bars) == 391
    gaps = [index for index, bar in enumerate(chart.bars) if bar.close is None]
    assert gaps == [105]
    gap = chart.bars[105]
    assert (gap.open, gap.high, gap.low, gap.volume) == (None, None, None, None)
    assert chart.bars[104].close is not None and chart.bars[106].close is not None


def test_weekend_range_has_meta_but_no_bars() -> None:
    chart = parse_chart(body("chart-aapl-2025-02-01-to-2025-02-02-includeprepost-false-interval-1m.json"), "AAPL")
    assert chart.bars == [] and daily_bars(chart) == []
    assert to_quote(chart).price is not None


def test_non_us_currency_and_info() -> None:
    chart = parse_chart(body("chart-ocdo.l-2020-01-01-to-2020-01-03.json"), "OCDO.L")
    assert to_quote(chart).currency == "GBp"
    info = to_info(parse_chart(body("chart-aapl-2020-01-01-to-2020-01-03.json"), "AAPL"))
    assert info.exchange == "NasdaqGS" and info.timezone == "America/New_York"
    assert info.first_trade_date == date(1980, 12, 12) and info.instrument_type == "EQUITY"


@pytest.mark.parametrize(
    ("name", "error", "text"),
    [
        (
            "chart-mdly-404-not-found-historicalv8-2020-01-01-to-2021-01-04.json",
            UnknownSymbol,
            "symbol may be delisted",
        ),
        ("chart-beke-400-data-doesnt-exist-2020-01-01-to-2020-01-03.json", NoDataInRange, "Data doesn't exist"),
    ],
)
async def test_recorded_error_replies(name: str, error: type[Exception], text: str) -> None:
    recorded = load_json(f"yahoo/{name}")["response"]
    mock = httpx.MockTransport(lambda request: httpx.Response(recorded["status"], json=recorded["bodyJson"]))
    async with build_upstream(
        "yahoo", "http://yahoo", policy=ONE_ATTEMPT, rate=None, user_agent="t", transport=mock
    ) as client:
        with pytest.raises(error, match=text) as caught:
            await YahooChart(client).fetch("XYZ", period1=1577836800, period2=1578009600)
    assert "XYZ" in str(caught.value)


CHARTS = sorted(path.name for path in (fixtures_dir() / "yahoo").glob("chart-*.json"))


@pytest.mark.parametrize("name", CHARTS)
def test_every_recorded_chart_parses_or_maps_to_its_error(name: str) -> None:
    recorded = load_json(f"yahoo/{name}")
    symbol = recorded["request"]["url"].split("/chart/")[1].split("?")[0]
    if recorded["response"]["status"] != 200:
        with pytest.raises((UnknownSymbol, NoDataInRange)):
            parse_chart(body(name), symbol)
        return
    chart = parse_chart(body(name), symbol)
    granularity = chart.meta.get("dataGranularity")
    assert chart.meta["symbol"] == symbol and granularity in ("1d", "1m", "30m")
    quote = to_quote(chart)
    assert quote.price is not None and quote.currency
    if granularity == "1d":
        dates = [bar.date for bar in daily_bars(chart)]
        assert dates == sorted(dates) and len(dates) == len(chart.bars)
