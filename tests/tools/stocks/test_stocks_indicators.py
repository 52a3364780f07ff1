"""RSI(14), MACD(12, 26, 9) and Bollinger(20, 2) against values worked out by hand below.

HAND CALCULATIONS (series chosen so that the arithmetic is exact)

RSI(14), Wilder. Closes: 100, then +2 seven times and -1 seven times (15 closes):
  100 102 104 106 108 110 112 114 113 112 111 110 109 108 107
  first average gain = (7 * 2) / 14 = 1;  first average loss = (7 * 1) / 14 = 0.5
  RS = 1 / 0.5 = 2;  RSI = 100 - 100 / (1 + 2) = 66.6667
One more close, 110 (+3):
  gain = (1 * 13 + 3) / 14 = 16/14 = 8/7;  loss = (0.5 * 13 + 0) / 14 = 13/28
  RS = (8/7) / (13/28) = 32/13;  RSI = 100 - 100 / (45/13) = 100 - 1300/45 = 71.1111
  (a plain 14-day mean instead of Wilder's would give gains 2*6+3 = 15 / 14 and losses 7/14:
  RS = 15/7, RSI 68.1818, so the test tells the two apart.)

Bollinger(20, 2). Closes: ten of 10 then ten of 14 (20 closes):
  middle = (10*10 + 10*14) / 20 = 12; every deviation is +/-2, variance = 4, sd = 2
  upper = 12 + 2*2 = 16;  lower = 12 - 2*2 = 8
  (the sample sd, dividing by 19, would be sqrt(80/19) = 2.0520: bands 16.1040 / 7.8960.)

MACD(12, 26, 9). Closes c_i = i for i = 0..33 (34 closes, the fewest MACD(12, 26, 9) needs).
  An EMA seeded with the mean of its first n values of a ramp of slope 1 lags it by exactly
  (n-1)/2 from the start: the seed (mean of 0..n-1 = (n-1)/2) sits on close n-1, (n-1)/2
  below it, and e_t = a*x_t + (1-a)*e_{t-1} with a = 2/(n+1) keeps the lag L where
  L = (1-a)*(1+L), i.e. L = (1-a)/a = (n-1)/2.
  EMA12 = c - 5.5, EMA26 = c - 12.5, so macd = 7 on every day from close 25 on;
  signal = EMA9 of a constant 7 = 7; histogram = 0.
Then a 35th close x = 209.5:
  EMA12 = 27.5 + (2/13)(209.5 - 27.5) = 27.5 + (2/13)(182) = 27.5 + 28 = 55.5
  EMA26 = 20.5 + (2/27)(209.5 - 20.5) = 20.5 + (2/27)(189) = 20.5 + 14 = 34.5
  macd = 55.5 - 34.5 = 21;  signal = 7 + (2/10)(21 - 7) = 7 + 2.8 = 9.8;  histogram = 11.2
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.support.stocks import Harness
from tools.stocks.indicators import bollinger, indicators, macd, rsi

RSI_CLOSES = [100.0, 102, 104, 106, 108, 110, 112, 114, 113, 112, 111, 110, 109, 108, 107]
RAMP = [float(i) for i in range(34)]


def test_rsi_is_wilders_on_the_hand_series() -> None:
    assert rsi(RSI_CLOSES).values == {"rsi": 66.6667}
    assert rsi([*RSI_CLOSES, 110]).values == {"rsi": 71.1111}
    assert rsi([*RSI_CLOSES, 110]).params == {"period": 14}


def test_rsi_extremes() -> None:
    rising = [100.0 + day for day in range(15)]
    assert rsi(rising).values == {"rsi": 100}  # no loss at all
    assert rsi([50.0] * 15).values == {"rsi": 50}  # no change at all


def test_bollinger_uses_the_population_deviation() -> None:
    bands = bollinger([10.0] * 10 + [14.0] * 10)
    assert bands.values == {"middle": 12, "upper": 16, "lower": 8}
    assert bands.params == {"period": 20, "width": 2}
    # Only the last 20 closes count: an older close far away changes nothing.
    assert bollinger([1000.0] + [10.0] * 10 + [14.0] * 10) == bands


def test_macd_on_a_ramp_then_a_jump() -> None:
    assert macd(RAMP).values == {"macd": 7, "signal": 7, "histogram": 0}
    jumped = macd([*RAMP, 209.5])
    assert jumped.values == {"macd": 21, "signal": 9.8, "histogram": 11.2}
    assert jumped.params == {"fast": 12, "slow": 26, "signal": 9}


def test_too_few_closes_is_null_with_a_reason_not_an_error() -> None:
    few = indicators(RAMP[:14])
    assert few.rsi.values == {"rsi": None} and few.rsi.reason == "needs 15 closes, 14 available"
    assert few.macd.values == {"macd": None, "signal": None, "histogram": None}
    assert few.macd.reason == "needs 34 closes, 14 available"
    assert few.bollinger.values == {"middle": None, "upper": None, "lower": None}
    assert few.bollinger.reason == "needs 20 closes, 14 available"
    dumped = few.model_dump(mode="json")  # the nulls stay in the answer, next to their reason
    assert dumped["rsi"] == {
        "params": {"period": 14},
        "values": {"rsi": None},
        "reason": "needs 15 closes, 14 available",
    }
    assert macd(RAMP[:33]).reason == "needs 34 closes, 33 available"
    assert macd(RAMP).reason is None and "reason" not in indicators(RAMP).model_dump(mode="json")["macd"]


@pytest.mark.parametrize("closes", [RSI_CLOSES, RAMP])
def test_indicators_bundle_carries_the_parameters(closes: list[float]) -> None:
    bundle = indicators(closes).model_dump(mode="json")
    assert bundle["rsi"]["params"] == {"period": 14}
    assert bundle["bollinger"]["params"] == {"period": 20, "width": 2}
    assert bundle["macd"]["params"] == {"fast": 12, "slow": 26, "signal": 9}
    assert "Wilder" in bundle["method"]


async def test_analyze_reports_the_indicators_on_its_bars(harness: Harness) -> None:
    report = await harness.service.analyze("2330", days=5)
    assert report.as_of == date(2026, 9, 4)
    # The recorded months give more than 34 trading days: every indicator has a value, and the
    # ones on the service's bars are the functions' values on the same closes.
    assert report.bars_used >= 34
    bundle = report.indicators
    value = bundle.rsi.values["rsi"]
    assert value is not None and 0 <= value <= 100 and bundle.macd.reason is None
    bands = bundle.bollinger.values
    assert None not in bands.values() and None not in bundle.macd.values.values()
    assert bands["lower"] <= bands["middle"] <= bands["upper"]  # type: ignore[operator]


async def test_analyze_with_few_bars_says_so_instead_of_failing(harness: Harness) -> None:
    # As of 2010-01-06 Taiwan bars exist for three days only (they start 2010-01-04).
    report = await harness.service.analyze("2330", days=5, end=date(2010, 1, 6))
    assert report.bars_used == 3
    assert report.indicators.rsi.values == {"rsi": None}
    assert report.indicators.rsi.reason == "needs 15 closes, 3 available"
    assert report.indicators.macd.reason == "needs 34 closes, 3 available"
    assert report.indicators.bollinger.reason == "needs 20 closes, 3 available"
