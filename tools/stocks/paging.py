"""Bounding stock answers to their size budget (:mod:`tools.budget`), and the ``next`` of a cut.

- Price history: the oldest bars that fit are kept; ``next`` asks for the bars from the day
  after the last one returned (``start_date``), to the same end. A Taiwan range longer than
  ``history_max_months`` is only fetched that far (a month is a request, and the exchanges
  allow about 3 requests per 5 s): its unfetched part counts as dropped by its weekdays (an
  upper bound of its trading days), since its bars are not known yet.
- Analysis: the newest days that fit are kept (they carry the latest signal); ``next`` asks
  for the older ones, as of the day before the first one returned (``end_date``).
- Quotes: the first symbols' answers that fit are kept; ``next`` lists the other symbols.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import JsonValue

from tools.budget import Cut, fit
from tools.stocks.analysis_models import DaySignal
from tools.stocks.models import DailyBar, Quote, SymbolError

ENVELOPE = 1024
"""Bytes kept, out of a budget, for the fields beside the cut list (symbol, cache, cuts...)."""


@dataclass(frozen=True, slots=True)
class Asked:
    """The range arguments of a history call, as given (None when not given)."""

    start: date | None
    end: date | None
    period: str | None


def bound_bars(
    bars: list[DailyBar], budget: int, asked: Asked, fetched_to: date, last: date
) -> tuple[list[DailyBar], Cut | None]:
    """The bars that fit ``budget``, and the cut when some were left out. ``fetched_to``: the
    last day whose bars were read; ``last``: the last day of the range asked."""
    count = fit(bars, budget - ENVELOPE)
    unfetched = weekdays(fetched_to + timedelta(days=1), last)
    if count == len(bars) and fetched_to >= last:
        return bars, None
    kept = bars[:count]
    resume = kept[-1].date + timedelta(days=1) if count < len(bars) else fetched_to + timedelta(days=1)
    following: dict[str, JsonValue] = {"start_date": resume.isoformat()}
    if asked.period is not None:  # the rest is an explicit range now, up to the period's end
        following.update(period=None, end_date=last.isoformat())
    elif asked.end is not None:
        following["end_date"] = asked.end.isoformat()
    cut = Cut(list="bars", returned=count, dropped=len(bars) - count + unfetched, next=following)
    return kept, cut


def bound_signals(signals: list[DaySignal], budget: int) -> tuple[list[DaySignal], Cut | None]:
    """The newest days that fit ``budget``, and the cut (with the older days' ``next``)."""
    newest_first = signals[::-1]
    count = fit(newest_first, budget - ENVELOPE)
    if count == len(signals):
        return signals, None
    dropped = len(signals) - count
    following: dict[str, JsonValue] = {"days": dropped, "end_date": signals[dropped - 1].date.isoformat()}
    return signals[dropped:], Cut(list="signals", returned=count, dropped=dropped, next=following)


def bound_quotes(
    symbols: Sequence[str], answers: Sequence[Quote | SymbolError], budget: int
) -> tuple[list[Quote], list[SymbolError], list[Cut]]:
    """The answers (in ``symbols`` order) of the first symbols that fit ``budget``; a cut per
    list that lost items, whose ``next`` lists the symbols left out."""
    count = fit(answers, budget - ENVELOPE)
    kept, rest = answers[:count], answers[count:]
    quotes = [answer for answer in kept if isinstance(answer, Quote)]
    errors = [answer for answer in kept if isinstance(answer, SymbolError)]
    following: dict[str, JsonValue] = {"symbols": list(symbols[count:])}
    cuts = []
    for name, returned, kind in (("quotes", len(quotes), Quote), ("errors", len(errors), SymbolError)):
        dropped = sum(isinstance(answer, kind) for answer in rest)
        if dropped:
            cuts.append(Cut(list=name, returned=returned, dropped=dropped, next=following))
    return quotes, errors, cuts


def weekdays(first: date, last: date) -> int:
    """Monday-to-Friday days from ``first`` to ``last`` inclusive (0 when ``last`` is earlier)."""
    days = (last - first).days + 1
    if days <= 0:
        return 0
    weeks, extra = divmod(days, 7)
    return weeks * 5 + sum((first.weekday() + offset) % 7 < 5 for offset in range(extra))
