"""RSI(14), MACD(12, 26, 9) and Bollinger bands(20, 2) on the closes of daily bars.

Pure functions over a list of closes (oldest first), each read on the last close and answered
as an :class:`Indicator` (``params``, ``values``, ``reason``). An indicator without enough
closes is not an error: its values are null and ``reason`` says how many closes it needs. Reported numbers are rounded to 4 decimals.

- RSI, Wilder smoothing: changes ``d[i] = c[i] - c[i-1]``; gains ``max(d, 0)``, losses
  ``max(-d, 0)``. The first average gain (loss) is the plain mean of the first ``period``
  gains (losses); each later one is ``(previous * (period - 1) + today) / period``.
  ``RSI = 100 - 100 / (1 + avg_gain / avg_loss)``; 100 when avg_loss is 0 (50 when both are).
  Needs ``period + 1`` closes.
- MACD: ``EMA_n`` with ``alpha = 2 / (n + 1)``, seeded with the simple mean of its first ``n``
  inputs. ``macd = EMA_12(close) - EMA_26(close)`` (from the 26th close on); ``signal =
  EMA_9(macd)`` seeded likewise; ``histogram = macd - signal``. Needs 26 + 9 - 1 = 34 closes.
- Bollinger: ``middle`` = mean of the last 20 closes, ``sd`` their population standard
  deviation (divided by 20), ``upper/lower = middle +/- 2 * sd``. Needs 20 closes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tools.stocks.analysis_models import Indicator, Indicators

RSI_PERIOD = 14
MACD_FAST, MACD_SLOW, MACD_SIGNAL = 12, 26, 9
BOLLINGER_PERIOD, BOLLINGER_WIDTH = 20, 2.0
METHOD = (
    "RSI: Wilder smoothing, first averages = plain means of the first 14 gains/losses. "
    "MACD: EMA alpha 2/(n+1) seeded with the mean of its first n inputs; signal = EMA9 of macd. "
    "Bollinger: mean of 20 closes +/- 2 population standard deviations. On closes, as of as_of."
)


def indicators(closes: Sequence[float]) -> Indicators:
    """The three indicators on ``closes`` (oldest first), read on the last close."""
    return Indicators(rsi=rsi(closes), macd=macd(closes), bollinger=bollinger(closes), method=METHOD)


def rsi(closes: Sequence[float], period: int = RSI_PERIOD) -> Indicator:
    """Wilder's RSI on the last close (see the module docstring): values ``rsi``."""
    params: dict[str, float] = {"period": period}
    if len(closes) < period + 1:
        return _short(params, ("rsi",), period + 1, len(closes))
    changes = [later - earlier for earlier, later in zip(closes, closes[1:], strict=False)]
    gain = sum(max(change, 0.0) for change in changes[:period]) / period
    loss = sum(max(-change, 0.0) for change in changes[:period]) / period
    for change in changes[period:]:
        gain = (gain * (period - 1) + max(change, 0.0)) / period
        loss = (loss * (period - 1) + max(-change, 0.0)) / period
    if loss == 0:
        value = 50.0 if gain == 0 else 100.0
    else:
        value = 100 - 100 / (1 + gain / loss)
    return Indicator(params=params, values={"rsi": _round(value)})


def ema(values: Sequence[float], period: int) -> list[float]:
    """EMA of ``values`` from the ``period``-th value on, seeded with the mean of the first
    ``period`` values (empty when there are fewer)."""
    if len(values) < period:
        return []
    alpha = 2 / (period + 1)
    series = [sum(values[:period]) / period]
    for value in values[period:]:
        series.append(alpha * value + (1 - alpha) * series[-1])
    return series


def macd(closes: Sequence[float], fast: int = MACD_FAST, slow: int = MACD_SLOW, signal: int = MACD_SIGNAL) -> Indicator:
    """MACD on the last close (see the module docstring): values ``macd``, ``signal``, ``histogram``."""
    params: dict[str, float] = {"fast": fast, "slow": slow, "signal": signal}
    needed = slow + signal - 1
    if len(closes) < needed:
        return _short(params, ("macd", "signal", "histogram"), needed, len(closes))
    fast_ema, slow_ema = ema(closes, fast), ema(closes, slow)
    # fast_ema[i] is on close fast-1+i; slow_ema[j] on close slow-1+j: align on the slow one.
    line = [fast_ema[j + slow - fast] - slow_ema[j] for j in range(len(slow_ema))]
    signal_line = ema(line, signal)
    values = {"macd": line[-1], "signal": signal_line[-1], "histogram": line[-1] - signal_line[-1]}
    return Indicator(params=params, values={name: _round(value) for name, value in values.items()})


def bollinger(closes: Sequence[float], period: int = BOLLINGER_PERIOD, width: float = BOLLINGER_WIDTH) -> Indicator:
    """Bollinger bands on the last close (see the module docstring): values ``middle``,
    ``upper``, ``lower``."""
    params: dict[str, float] = {"period": period, "width": width}
    if len(closes) < period:
        return _short(params, ("middle", "upper", "lower"), period, len(closes))
    window = closes[-period:]
    middle = sum(window) / period
    sd = math.sqrt(sum((value - middle) ** 2 for value in window) / period)
    values = {"middle": middle, "upper": middle + width * sd, "lower": middle - width * sd}
    return Indicator(params=params, values={name: _round(value) for name, value in values.items()})


def _short(params: dict[str, float], names: tuple[str, ...], needed: int, have: int) -> Indicator:
    """Too few closes: every value null, and why."""
    return Indicator(params=params, values=dict.fromkeys(names), reason=f"needs {needed} closes, {have} available")


def _round(value: float) -> float:
    return round(value, 4)
