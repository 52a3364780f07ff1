"""compare_stocks through the service over the recorded upstream (httpx.MockTransport), and its
arithmetic checked by hand on a small series.

AAPL is the recorded chart of 2020-08-31..2020-11-06; 2330's months of 2020 are the replay's
recorded August rows laid on weekdays; USDTWD=X is SYNTHESISED in the recorded EURUSD=X shape
(tests/support/replay_routes/stocks.py). Clock: Friday 2026-09-04 14:00 Taipei.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from cache.engine.tiered import TieredCache
from tests.support.clock import ManualClock
from tests.support.recorded_upstream import RecordedUpstream
from tests.support.replay_routes.stocks import usdtwd_rate
from tests.support.stocks import Harness
from tools.budget import RECORD_BUDGET, json_size
from tools.errors import InvalidInput
from tools.stocks import compare_math
from tools.stocks.config import StocksConfig
from tools.stocks.errors import NoDataInRange

START, END = date(2020, 9, 1), date(2020, 11, 6)


async def test_2330_and_aapl_aligned_with_a_correlation(harness: Harness) -> None:
    comparison = await harness.service.compare(["2330", "AAPL"], start=START, end=END)
    aapl = await harness.service.get_history("AAPL", start=START, end=END)
    taiwan = await harness.service.get_history("2330", start=START, end=END)
    common = sorted({bar.date for bar in aapl.bars} & {bar.date for bar in taiwan.bars})
    assert [row.date for row in comparison.series] == common and comparison.days == len(common) > 40
    assert comparison.start == common[0] and comparison.end == common[-1] and comparison.step == 1
    closes = {bar.date: bar.close for bar in aapl.bars}
    assert [row.closes[1] for row in comparison.series] == [round(closes[day] or 0, 4) for day in common]
    matrix = comparison.correlation
    assert matrix[0][0] == matrix[1][1] == 1 and matrix[0][1] == matrix[1][0]
    assert matrix[0][1] is not None and -1 <= matrix[0][1] <= 1
    assert [stat.symbol for stat in comparison.stats] == ["2330", "AAPL"]
    assert [stat.market for stat in comparison.stats] == ["TWSE", "Yahoo"]
    assert [stat.currency for stat in comparison.stats] == ["TWD", "USD"]
    apple = comparison.stats[1]
    assert apple.total_return == round(closes[common[-1]] / closes[common[0]] - 1, 6)  # type: ignore[operator]
    assert apple.max_drawdown <= 0 and apple.drawdown_peak <= apple.drawdown_trough
    assert comparison.currency is None and comparison.fx is None and "sqrt(252)" in comparison.method


async def test_currency_converted_view(harness: Harness) -> None:
    native = await harness.service.compare(["2330", "AAPL"], start=START, end=END)
    converted = await harness.service.compare(["2330", "AAPL"], start=START, end=END, currency="TWD")
    assert converted.currency == "TWD" and [stat.currency for stat in converted.stats] == ["TWD", "TWD"]
    assert converted.fx is not None and [(fx.pair, fx.symbols) for fx in converted.fx] == [("USDTWD=X", ["AAPL"])]
    assert [row.date for row in converted.series] == [row.date for row in native.series]
    for before, after in zip(native.series, converted.series):
        assert after.closes[0] == before.closes[0]  # already TWD
        assert after.closes[1] == pytest.approx(before.closes[1] * usdtwd_rate(before.date), abs=1e-3)
    assert converted.correlation[0][1] is not None and -1 <= converted.correlation[0][1] <= 1
    assert converted.stats[1].total_return != native.stats[1].total_return  # the rate moved


async def test_progress_and_cache(harness: Harness) -> None:
    heard: list[tuple[int, int, str]] = []

    async def progress(done: int, total: int, message: str) -> None:
        heard.append((done, total, message))

    first = await harness.service.compare(["AAPL", "2330"], start=START, end=END)
    assert not first.cache.hit
    requests = len(harness.transport.requests)
    again = await harness.service.compare(["AAPL", "2330"], start=START, end=END, on_progress=progress)
    assert len(harness.transport.requests) == requests and again.cache.hit  # all from the cache
    assert [(done, total) for done, total, _ in heard] == [(1, 2), (2, 2)]
    assert {message.split(":")[0] for _, _, message in heard} == {"AAPL", "2330"}


async def test_a_long_series_is_thinned_with_a_cut(
    transport: RecordedUpstream, cache: TieredCache, clock: ManualClock
) -> None:
    harness = Harness(transport, cache, clock, StocksConfig(record_budget=2048, explicit_budget=2048))
    try:
        comparison = await harness.service.compare(["2330", "AAPL"], start=START, end=END)
    finally:
        await harness.aclose()
    assert comparison.truncated and comparison.cuts and comparison.step > 1
    assert comparison.series[0].date == comparison.start and comparison.series[-1].date == comparison.end
    (cut,) = comparison.cuts
    assert cut.list == "series" and cut.returned == len(comparison.series)
    assert cut.returned + cut.dropped == comparison.days
    assert cut.next["end_date"] == comparison.end.isoformat() and cut.next["period"] is None
    assert json_size(comparison) < 2048 + 1024


@pytest.mark.parametrize(
    ("symbols", "argument", "words"),
    [
        (["2330"], "symbols", "2 to 10 symbols"),
        ([str(code) for code in range(2330, 2341)], "symbols", "2 to 10 symbols"),
        (["2330", "AAPL", "2330"], "symbols[2]", "repeats symbols[0]"),
        (["aapl", "AAPL"], "symbols[1]", "repeats symbols[0]"),
    ],
)
async def test_strict_symbols(harness: Harness, symbols: list[str], argument: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await harness.service.compare(symbols, start=START, end=END)
    assert caught.value.field == argument and words in str(caught.value)
    assert harness.transport.requests == []  # refused before any request


async def test_strict_range(harness: Harness) -> None:
    with pytest.raises(InvalidInput, match="731 days"):
        await harness.service.compare(["2330", "AAPL"], start=date(2020, 1, 1), end=date(2023, 1, 1))
    with pytest.raises(InvalidInput, match="period"):
        await harness.service.compare(["2330", "AAPL"], start=START, period="1y")
    with pytest.raises(NoDataInRange):  # AAPL's recording has no bars in 2026: nothing in common
        await harness.service.compare(["2330", "AAPL"], start=date(2026, 8, 3), end=date(2026, 8, 31))


def test_the_arithmetic_by_hand() -> None:
    days = [date(2026, 1, 5) + timedelta(days=n) for n in range(5)]
    a = [100.0, 110.0, 99.0, 108.9, 120.0]
    b = [50.0, 49.0, 51.0, 50.0, 52.0]
    # returns of a: +10%, -10%, +10%, +10.19284%
    ra = [0.1, -0.1, 0.1, 120.0 / 108.9 - 1]
    assert compare_math.returns(a) == pytest.approx(ra)
    mean = sum(ra) / 4
    sample = math.sqrt(sum((r - mean) ** 2 for r in ra) / 3)
    figures = compare_math.stats(days, a)
    assert figures.total_return == pytest.approx(0.2)
    assert figures.volatility == pytest.approx(sample * math.sqrt(252))
    assert figures.annualised_return is None  # 4 calendar days: too short to annualise
    assert (figures.max_drawdown, figures.drawdown_peak, figures.drawdown_trough) == (
        pytest.approx(-0.1),
        days[1],
        days[2],
    )
    rb = [-0.02, 51 / 49 - 1, 50 / 51 - 1, 0.04]
    mean_b = sum(rb) / 4
    cov = sum((x - mean) * (y - mean_b) for x, y in zip(ra, rb))
    by_hand = cov / math.sqrt(sum((x - mean) ** 2 for x in ra) * sum((y - mean_b) ** 2 for y in rb))
    matrix = compare_math.correlation_matrix([a, b])
    assert matrix[0][1] == pytest.approx(by_hand) and matrix[1][0] == pytest.approx(by_hand)
    assert matrix[0][0] == pytest.approx(1.0)
    assert compare_math.correlation_matrix([a, [5.0] * 5])[0][1] is None  # a flat series has no correlation
    year = [date(2025, 1, 1), date(2026, 1, 1)]
    assert compare_math.stats(year, [100.0, 121.0]).annualised_return == pytest.approx(1.21 ** (365.25 / 365) - 1)
    assert compare_math.align([{days[0]: 1.0, days[1]: 2.0}, {days[1]: 3.0, days[2]: 4.0}]) == [days[1]]
    assert compare_math.as_of({days[1]: 30.0}, days[:3]) == [None, 30.0, 30.0]


async def test_a_year_of_five_codes_fits_the_record_budget(harness: Harness) -> None:
    comparison = await harness.service.compare(["2330", "2317", "2454", "0050", "6488"])  # default: 1 year
    assert json_size(comparison) <= RECORD_BUDGET
    assert comparison.days > 240 and len(comparison.correlation) == 5
    # 262 days of 5 closes do not fit beside the figures: every 2nd day, first and last kept
    assert comparison.truncated and comparison.step == 2 and comparison.cuts is not None
    assert comparison.series[0].date == comparison.start and comparison.series[-1].date == comparison.end
    (cut,) = comparison.cuts
    assert cut.returned == len(comparison.series) and cut.returned + cut.dropped == comparison.days
    assert cut.next["end_date"] == comparison.end.isoformat()  # the latest range that comes whole
