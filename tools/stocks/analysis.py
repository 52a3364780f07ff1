"""Moving averages and the BestFourPoint (四大買賣點) rules over daily bars.

Pure functions over :class:`DailyBar` lists (oldest first). Only days with a close, an open
and a volume take part (a day without trades is skipped). Arithmetic is exact (``Decimal``)
so "MA3 above MA6" never flips on float noise; reported numbers are rounded to 4 decimals.

For day *d* (MA*n* = mean of the last *n* closes up to *d*):

- buy_1  volume up and close above open (量大收紅): ``vol[d] > vol[d-1] and close[d] > open[d]``
- buy_2  volume down, close above the previous open (量縮價不跌):
  ``vol[d] < vol[d-1] and close[d] > open[d-1]``
- buy_3  MA3 turns up (三日均價由下往上): ``ma3[d] > ma3[d-1] and ma3[d-1] <= ma3[d-2]``
- buy_4  MA3 above MA6 (三日均價大於六日均價): ``ma3[d] > ma6[d]``
- sell_1..sell_4 are the mirror images (close below open; close below the previous open;
  MA3 turns down: ``ma3[d] < ma3[d-1] and ma3[d-1] >= ma3[d-2]``; MA3 below MA6).

A signal also needs the pivot gate on ``bias = MA3 - MA6`` over the last 5 days (d-4..d):
buy when all five are negative and the lowest (first occurrence) was 1 or 2 days before *d*
(a trough the bias is leaving); sell when all five are positive and the highest was 1 or 2 days
before *d*. ``signal`` is "buy" when the buy gate passed and any buy rule fired, else "sell"
likewise, else "none". twstock's reference code tests the gate's returned *tuple* for truth,
which is always true, so its gate never filters anything; here the gate is really applied (and
the sell gate mirrors the buy gate: all five positive, where twstock only asks for one).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tools.stocks.analysis_models import DaySignal, MovingAverages, PivotGate, RuleFiring, Signal
from tools.stocks.models import DailyBar

MA_WINDOWS = (5, 10, 20, 60)
GATE_DAYS = 5
FIRST_FULL_DAY = 6 - 1 + GATE_DAYS - 1  # index of the first day with five MA3-MA6 values
METHOD = (
    "BestFourPoint: buy_1 volume up & close>open; buy_2 volume down & close>previous open; "
    "buy_3 MA3 turns up; buy_4 MA3>MA6; sells mirror them. A buy (sell) signal needs a fired "
    "buy (sell) rule AND the pivot gate: MA3-MA6 negative (positive) on all of the last 5 days "
    "with its trough (peak) 1-2 days ago. Exact arithmetic; days without trades are skipped."
)
Evidence = dict[str, Decimal | int]
"""The numbers a rule compared, by name."""
Rules = dict[str, tuple[bool, Evidence]]
"""Whether each rule held on a day, with its evidence."""


@dataclass(frozen=True, slots=True)
class _Series:
    bars: list[DailyBar]
    close: list[Decimal]
    open: list[Decimal]
    volume: list[int]

    def ma(self, days: int, index: int) -> Decimal | None:
        if index + 1 < days:
            return None
        return sum(self.close[index + 1 - days : index + 1], Decimal(0)) / days

    def full_ma(self, days: int, index: int) -> Decimal:
        """:meth:`ma` on a day known to have ``days`` closes of history."""
        value = self.ma(days, index)
        assert value is not None  # guaranteed by FIRST_FULL_DAY
        return value


def usable_bars(bars: list[DailyBar]) -> list[DailyBar]:
    """Bars with a close, an open and a volume, in date order."""
    kept = [bar for bar in bars if bar.close is not None and bar.open is not None and bar.volume is not None]
    return sorted(kept, key=lambda bar: bar.date)


def moving_averages(bars: list[DailyBar]) -> MovingAverages | None:
    """MA5/10/20/60 on the last usable day; None when there is no usable day."""
    series = _series(bars)
    if not series.bars:
        return None
    last = len(series.bars) - 1
    values = {f"ma{days}": _opt(series.ma(days, last)) for days in MA_WINDOWS}
    return MovingAverages(as_of=series.bars[last].date, close=float(series.close[last]), **values)


def signals(bars: list[DailyBar], days: int) -> list[DaySignal]:
    """Signals for the last ``days`` usable days that have the 10 days of history they need."""
    series = _series(bars)
    first = max(FIRST_FULL_DAY, len(series.bars) - days)
    return [_day(series, index) for index in range(first, len(series.bars))]


def _series(bars: list[DailyBar]) -> _Series:
    kept = usable_bars(bars)
    return _Series(
        bars=kept,
        close=[Decimal(str(bar.close)) for bar in kept],
        open=[Decimal(str(bar.open)) for bar in kept],
        volume=[int(bar.volume or 0) for bar in kept],
    )


def _day(series: _Series, d: int) -> DaySignal:
    ma3 = [series.full_ma(3, d - back) for back in (0, 1, 2)]  # today, yesterday, two days ago
    ma6 = series.full_ma(6, d)
    buys = _fired(_buy_rules(series, d, ma3, ma6))
    sells = _fired(_sell_rules(series, d, ma3, ma6))
    bias = [series.full_ma(3, day) - series.full_ma(6, day) for day in range(d - GATE_DAYS + 1, d + 1)]
    buy_gate, sell_gate = _gate(bias, buy=True), _gate(bias, buy=False)
    signal: Signal = "buy" if buy_gate.passed and buys else "sell" if sell_gate.passed and sells else "none"
    return DaySignal(
        date=series.bars[d].date,
        close=float(series.close[d]),
        ma3=_out(ma3[0]),
        ma6=_out(ma6),
        bias=[_out(value) for value in bias],
        signal=signal,
        buy_rules=buys,
        sell_rules=sells,
        buy_gate=buy_gate,
        sell_gate=sell_gate,
    )


def _buy_rules(s: _Series, d: int, ma3: list[Decimal], ma6: Decimal) -> Rules:
    up, down = s.volume[d] > s.volume[d - 1], s.volume[d] < s.volume[d - 1]
    return {
        "buy_1": (up and s.close[d] > s.open[d], _candle(s, d)),
        "buy_2": (down and s.close[d] > s.open[d - 1], _previous_open(s, d)),
        "buy_3": (ma3[0] > ma3[1] and ma3[1] <= ma3[2], _ma3_turn(ma3)),
        "buy_4": (ma3[0] > ma6, {"ma3": ma3[0], "ma6": ma6}),
    }


def _sell_rules(s: _Series, d: int, ma3: list[Decimal], ma6: Decimal) -> Rules:
    up, down = s.volume[d] > s.volume[d - 1], s.volume[d] < s.volume[d - 1]
    return {
        "sell_1": (up and s.close[d] < s.open[d], _candle(s, d)),
        "sell_2": (down and s.close[d] < s.open[d - 1], _previous_open(s, d)),
        "sell_3": (ma3[0] < ma3[1] and ma3[1] >= ma3[2], _ma3_turn(ma3)),
        "sell_4": (ma3[0] < ma6, {"ma3": ma3[0], "ma6": ma6}),
    }


def _candle(s: _Series, d: int) -> Evidence:
    return {"volume": s.volume[d], "previous_volume": s.volume[d - 1], "close": s.close[d], "open": s.open[d]}


def _previous_open(s: _Series, d: int) -> Evidence:
    return {
        "volume": s.volume[d],
        "previous_volume": s.volume[d - 1],
        "close": s.close[d],
        "previous_open": s.open[d - 1],
    }


def _ma3_turn(ma3: list[Decimal]) -> Evidence:
    return {"ma3": ma3[0], "ma3_previous": ma3[1], "ma3_two_days_ago": ma3[2]}


def _fired(rules: Rules) -> list[RuleFiring]:
    return [
        RuleFiring(rule=name, data={key: _out(value) for key, value in data.items()})
        for name, (held, data) in rules.items()
        if held
    ]


def _gate(bias: list[Decimal], *, buy: bool) -> PivotGate:
    """Trough (buy) or peak (sell) of the 5-day bias 1-2 days ago, all values on one side of 0."""
    extreme = min(bias) if buy else max(bias)
    position = bias.index(extreme)
    days_ago = len(bias) - 1 - position
    one_side = all(value < 0 for value in bias) if buy else all(value > 0 for value in bias)
    passed = one_side and days_ago in (1, 2)
    return PivotGate(passed=passed, pivot_days_ago=days_ago)


def _out(value: Decimal | int) -> float:
    return float(round(Decimal(value), 4))


def _opt(value: Decimal | None) -> float | None:
    return None if value is None else _out(value)
