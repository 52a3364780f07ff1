"""analyze_stock's rules against a hand calculation on the recorded 2330 August 2026 month.

HAND CALCULATION (2330, TWSE, 2026-08; o = open, c = close, v = shares; sums in TWD)

 #  date  o     c     v           3-day sum  MA3      6-day sum  MA6      bias=MA3-MA6 = (2*s3-s6)/6
 1  08/03 2390  2370  35,209,944
 2  08/04 2335  2320  41,021,199
 3  08/05 2385  2405  36,782,301  7095       2365.00
 4  08/06 2395  2365  25,536,816  7090       2363.33
 5  08/07 2390  2370  24,414,025  7140       2380.00
 6  08/10 2390  2380  21,498,241  7115       2371.67  14210      2368.33   20/6  =  3.33
 7  08/11 2390  2395  18,247,582  7145       2381.67  14235      2372.50   55/6  =  9.17
 8  08/12 2405  2415  19,448,153  7190       2396.67  14330      2388.33   50/6  =  8.33
 9  08/13 2440  2435  26,233,385  7245       2415.00  14360      2393.33  130/6  = 21.67
10  08/14 2435  2395  21,162,682  7245       2415.00  14390      2398.33  100/6  = 16.67
11  08/17 2410  2400  13,482,456  7230       2410.00  14420      2403.33   40/6  =  6.67
12  08/18 2415  2380  19,997,213  7175       2391.67  14420      2403.33  -70/6  = -11.67
13  08/19 2340  2350  23,618,612  7130       2376.67  14375      2395.83 -115/6  = -19.17
14  08/20 2365  2375  16,967,737  7105       2368.33  14335      2389.17 -125/6  = -20.83
15  08/21 2375  2410  18,922,480  7135       2378.33  14310      2385.00  -40/6  = -6.67
16  08/24 2410  2375  13,073,210  7160       2386.67  14290      2381.67   30/6  =  5.00
17  08/25 2355  2400  13,538,447  7185       2395.00  14290      2381.67   80/6  = 13.33
18  08/26 2375  2415  19,467,241  7190       2396.67  14325      2387.50   55/6  =  9.17
19  08/27 2430  2410  19,214,481  7225       2408.33  14385      2397.50   65/6  = 10.83
20  08/28 2440  2420  15,025,832  7245       2415.00  14430      2405.00   60/6  = 10.00
21  08/31 2395  2405  32,792,740  7235       2411.67  14425      2404.17   45/6  =  7.50

Days 10..21 have five bias values (days d-4..d) and are evaluated. Rules per day
(V = volume up/down vs the day before; "prev o" = previous day's open; "MA3 turn" compares
MA3 today with yesterday, and yesterday with the day before: "DOWN after flat" = turns down):

 #  V   buy_1 c>o   buy_2 c>prev o  MA3 turn          MA3 vs MA6  -> buy rules        sell rules
10  dn  -           2395>2440 no    2415=2415: none   >           buy_4               sell_2 (2395<2440)
11  dn  -           2400>2435 no    DOWN after flat   >           buy_4               sell_2 (2400<2435), sell_3
12  up  2380<2415   -               down after down   <           -                   sell_1 (2380<2415), sell_4
13  up  2350>2340   -               down after down   <           buy_1               sell_4
14  dn  -           2375>2340 yes   down after down   <           buy_2               sell_4
15  up  2410>2375   -               UP after down     <           buy_1, buy_3        sell_4
16  dn  -           2375>2375 no    up after up       >           buy_4               - (2375<2375 no)
17  up  2400>2355   -               up after up       >           buy_1, buy_4        -
18  up  2415>2375   -               up after up       >           buy_1, buy_4        -
19  dn  -           2410>2375 yes   up after up       >           buy_2, buy_4        -
20  dn  -           2420>2430 no    up after up       >           buy_4               sell_2 (2420<2430)
21  up  2405>2395   -               DOWN after up     >           buy_1, buy_4        sell_3

Pivot gates (the 5 bias values ending on the day; extreme's position counted from the day):
- day 10: [3.33, 9.17, 8.33, 21.67, 16.67] all > 0, peak 21.67 one day ago   -> sell gate passes
- day 11: [9.17, 8.33, 21.67, 16.67, 6.67] all > 0, peak two days ago        -> sell gate passes
- day 12: peak 21.67 three days ago (and -11.67 < 0)                          -> no gate
- days 13-15: mixed signs                                                     -> no gate
- day 16: [-11.67, -19.17, -20.83, -6.67, 5.00] has a positive value          -> no buy gate
- days 17-21: mixed signs, or all positive with the peak 13.33 three+ days ago
  (day 19: [-6.67, 5, 13.33, 9.17, 10.83] mixed; day 20: [5, 13.33, 9.17, 10.83, 10] peak 3 days
  ago; day 21: [13.33, 9.17, 10.83, 10, 7.5] peak 4 days ago)                  -> no gate
So: day 10 (08/14) SELL by sell_2; day 11 (08/17) SELL by sell_2 + sell_3; every other day none.
twstock's always-true gate would instead call 08/14 a BUY (buy_4 fires and buy wins ties).
Day 11's sell_3 check: MA3 2410 < 2415 and the day before 2415 >= 2415 (flat then down).
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.support.fixtures import load_json
from tools.stocks.analysis import moving_averages, signals
from tools.stocks.models import DailyBar
from tools.stocks.twse import parse_stock_day

EXPECTED = {
    # day: (buy rules, sell rules, signal)
    date(2026, 8, 14): (["buy_4"], ["sell_2"], "sell"),
    date(2026, 8, 17): (["buy_4"], ["sell_2", "sell_3"], "sell"),
    date(2026, 8, 18): ([], ["sell_1", "sell_4"], "none"),
    date(2026, 8, 19): (["buy_1"], ["sell_4"], "none"),
    date(2026, 8, 20): (["buy_2"], ["sell_4"], "none"),
    date(2026, 8, 21): (["buy_1", "buy_3"], ["sell_4"], "none"),
    date(2026, 8, 24): (["buy_4"], [], "none"),
    date(2026, 8, 25): (["buy_1", "buy_4"], [], "none"),
    date(2026, 8, 26): (["buy_1", "buy_4"], [], "none"),
    date(2026, 8, 27): (["buy_2", "buy_4"], [], "none"),
    date(2026, 8, 28): (["buy_4"], ["sell_2"], "none"),
    date(2026, 8, 31): (["buy_1", "buy_4"], ["sell_3"], "none"),
}


@pytest.fixture
def august() -> list[DailyBar]:
    return parse_stock_day(load_json("twse/twse_stock_day_2330_202608.json"), "2330", 2026, 8).bars


def test_rules_and_signals_match_the_hand_calculation(august: list[DailyBar]) -> None:
    days = signals(august, days=30)
    assert [day.date for day in days] == list(EXPECTED)
    for day in days:
        buys, sells, signal = EXPECTED[day.date]
        assert [rule.rule for rule in day.buy_rules] == buys, day.date
        assert [rule.rule for rule in day.sell_rules] == sells, day.date
        assert day.signal == signal, day.date


def test_reported_data_is_what_the_rules_compared(august: list[DailyBar]) -> None:
    first = signals(august, days=30)[0]  # 08/14
    assert (first.ma3, first.ma6) == (2415.0, 2398.3333)
    sell_2 = first.sell_rules[0]
    assert sell_2.data == {
        "volume": 21_162_682,
        "previous_volume": 26_233_385,
        "close": 2395.0,
        "previous_open": 2440.0,
    }
    assert first.sell_gate.passed and first.sell_gate.pivot_days_ago == 1
    assert first.bias == [3.3333, 9.1667, 8.3333, 21.6667, 16.6667]
    assert not first.buy_gate.passed
    second = signals(august, days=30)[1]  # 08/17
    sell_3 = second.sell_rules[1]
    assert sell_3.data == {"ma3": 2410.0, "ma3_previous": 2415.0, "ma3_two_days_ago": 2415.0}
    assert second.sell_gate.pivot_days_ago == 2


def test_gate_is_really_applied_unlike_twstock(august: list[DailyBar]) -> None:
    days = {day.date: day for day in signals(august, days=30)}
    # buy_1 fired on 08/19 but MA3-MA6 was not a negative trough: no buy (twstock would say buy).
    assert days[date(2026, 8, 19)].buy_rules and days[date(2026, 8, 19)].signal == "none"
    day = days[date(2026, 8, 19)]
    assert not day.buy_gate.passed and not all(value < 0 for value in day.bias)  # bias is not all negative


def test_mirrored_month_turns_the_sells_into_buys(august: list[DailyBar]) -> None:
    # Reflect prices around 5000 (same volumes): every buy rule becomes its sell rule and back.
    mirrored = [
        bar.model_copy(update={"open": 5000 - bar.open, "close": 5000 - bar.close})
        for bar in august  # type: ignore[operator]
    ]
    days = {day.date: day for day in signals(mirrored, days=30)}
    assert days[date(2026, 8, 14)].signal == "buy"
    assert [rule.rule for rule in days[date(2026, 8, 17)].buy_rules] == ["buy_2", "buy_3"]
    assert days[date(2026, 8, 17)].buy_gate.passed


def test_moving_averages_and_window(august: list[DailyBar]) -> None:
    averages = moving_averages(august)
    assert averages is not None and averages.as_of == date(2026, 8, 31)
    # MA5 = mean of the last five closes (08/25..08/31); MA20 = mean of 08/04..08/31.
    assert averages.ma5 == (2400 + 2415 + 2410 + 2420 + 2405) / 5
    assert averages.ma20 == sum(bar.close for bar in august[1:]) / 20  # type: ignore[misc]
    assert averages.ma60 is None  # 21 days only
    assert [day.date.day for day in signals(august, days=3)] == [27, 28, 31]
    assert signals(august[:9], days=30) == []  # fewer than the 10 days the gate needs
