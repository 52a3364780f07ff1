"""The arithmetic of ``compare_stocks``: aligning closes, returns, volatility, drawdown, correlation.

Conventions (stated in every answer's ``method``):

- Series are aligned on the days every symbol has a close (their exchange dates; a day missing
  for one symbol is dropped for all).
- Daily returns are simple returns between consecutive aligned days: ``c[t] / c[t-1] - 1``.
- Total return: ``last / first - 1``. Annualised return: ``(1 + total) ** (365.25 / d) - 1``
  with ``d`` the calendar days from the first to the last aligned day (absent under 30 days,
  where it means little).
- Volatility: sample standard deviation (n - 1) of the daily returns times ``sqrt(252)``.
- Max drawdown: the largest fall from a running peak, ``min(c[t] / max(c[..t]) - 1)`` (<= 0).
- Correlation: Pearson's of the daily returns; None for a series that never moves.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

TRADING_DAYS_PER_YEAR = 252
DAYS_PER_YEAR = 365.25
MIN_ANNUALISED_DAYS = 30

METHOD = (
    "Closes aligned on the days every symbol traded. Daily simple returns between aligned days. "
    "annualised_return = (1 + total_return) ** (365.25 / calendar days) - 1 (30+ days). "
    "volatility = sample stdev (n-1) of daily returns * sqrt(252). max_drawdown = largest fall "
    "from a running peak (<= 0). correlation = Pearson of daily returns."
)


@dataclass(frozen=True, slots=True)
class Stats:
    """What ``compare_stocks`` reports per symbol, computed on its aligned closes."""

    first_close: float
    last_close: float
    total_return: float
    annualised_return: float | None
    volatility: float | None
    max_drawdown: float
    drawdown_peak: date
    drawdown_trough: date


def align(series: Sequence[Mapping[date, float]]) -> list[date]:
    """The days present in every series, oldest first."""
    if not series:
        return []
    common = set(series[0])
    for other in series[1:]:
        common &= set(other)
    return sorted(common)


def returns(closes: Sequence[float]) -> list[float]:
    return [after / before - 1 if before else 0.0 for before, after in zip(closes, closes[1:])]


def stdev(values: Sequence[float]) -> float | None:
    """Sample standard deviation (n - 1); None under two values."""
    if len(values) < 2:
        return None
    mean = sum(values) / len(values)
    return math.sqrt(sum((value - mean) ** 2 for value in values) / (len(values) - 1))


def correlation(left: Sequence[float], right: Sequence[float]) -> float | None:
    """Pearson's correlation; None when either side has no variance (or under two points)."""
    if len(left) != len(right) or len(left) < 2:
        return None
    mean_l, mean_r = sum(left) / len(left), sum(right) / len(right)
    cov = sum((a - mean_l) * (b - mean_r) for a, b in zip(left, right))
    var_l = sum((a - mean_l) ** 2 for a in left)
    var_r = sum((b - mean_r) ** 2 for b in right)
    if var_l == 0 or var_r == 0:
        return None
    return max(-1.0, min(1.0, cov / math.sqrt(var_l * var_r)))  # rounding can step past 1


def max_drawdown(days: Sequence[date], closes: Sequence[float]) -> tuple[float, date, date]:
    """(drawdown <= 0, peak day, trough day) of the largest fall from a running peak."""
    peak_index, worst, worst_at = 0, 0.0, (0, 0)
    for index, close in enumerate(closes):
        if close > closes[peak_index]:
            peak_index = index
        fall = close / closes[peak_index] - 1
        if fall < worst:
            worst, worst_at = fall, (peak_index, index)
    return worst, days[worst_at[0]], days[worst_at[1]]


def stats(days: Sequence[date], closes: Sequence[float]) -> Stats:
    """The per-symbol figures (see the module docstring); ``days`` has at least two entries."""
    total = closes[-1] / closes[0] - 1
    span = (days[-1] - days[0]).days
    annualised = (1 + total) ** (DAYS_PER_YEAR / span) - 1 if span >= MIN_ANNUALISED_DAYS and total > -1 else None
    daily = stdev(returns(closes))
    drawdown, peak, trough = max_drawdown(days, closes)
    return Stats(
        first_close=closes[0],
        last_close=closes[-1],
        total_return=total,
        annualised_return=annualised,
        volatility=daily * math.sqrt(TRADING_DAYS_PER_YEAR) if daily is not None else None,
        max_drawdown=drawdown,
        drawdown_peak=peak,
        drawdown_trough=trough,
    )


def correlation_matrix(closes: Sequence[Sequence[float]]) -> list[list[float | None]]:
    """Pearson correlations of the daily returns of every pair (1 on the diagonal when it moves)."""
    daily = [returns(series) for series in closes]
    return [[correlation(left, right) for right in daily] for left in daily]


def as_of(series: Mapping[date, float], days: Sequence[date]) -> list[float | None]:
    """The value of ``series`` on each of ``days``, else its latest value before (None: none yet)."""
    known = sorted(series)
    values: list[float | None] = []
    index, latest = 0, None
    for day in days:
        while index < len(known) and known[index] <= day:
            latest = series[known[index]]
            index += 1
        values.append(latest)
    return values
