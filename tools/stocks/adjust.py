"""Corporate actions as events, and split- and dividend-adjusted closes. Pure functions.

Taiwan (TWSE TWT49U rows, :mod:`tools.stocks.twt49u`): each ex-date has the exchange's previous
close ``P`` and reference price ``R`` (``R = P - cash dividend`` for a cash dividend, ``(P -
cash) / (1 + stock ratio)`` with a stock dividend). The factor of the event is ``R / P``; a
bar's ``adj_close`` is its close times the factors of every event *after* the bar's date, up
to the end of the range asked (so the last day's adj_close equals its close; events after the
range are not applied).

Yahoo: ``close`` is already split-adjusted by Yahoo (the recorded AAPL chart's
``chartPreviousClose``, the last close before the 4:1 split, is 124.808, a quarter of the
unadjusted 499.23); ``adjclose`` adds the dividends, relative to today's price. ``adj_close``
is Yahoo's adjclose where the chart has that series; only when it has none, it is computed from
the dividends in the range: factor ``1 - amount / previous bar's close``, applied backwards as
for Taiwan (splits are not applied again).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from tools.stocks.models import CorporateAction, DailyBar
from tools.stocks.twt49u import ExRight
from tools.stocks.yahoo import Chart

log = logging.getLogger(__name__)

TAIWAN_METHOD = (
    "adj_close = close x product of factor (TWSE reference_price / previous_close) of each ex-date "
    "after the bar, up to the range's end."
)
YAHOO_METHOD = "adj_close = Yahoo's adjclose (dividends and splits, relative to today's price)."
YAHOO_COMPUTED = (
    "Yahoo sent no adjclose: adj_close = close x product of (1 - dividend / previous close) of each "
    "dividend after the bar, up to the range's end (Yahoo's close is already split-adjusted)."
)


def taiwan_actions(rows: Iterable[ExRight], start: date, end: date) -> list[CorporateAction]:
    """TWT49U rows of one code from ``start`` to ``end`` inclusive, as events, oldest first."""
    actions = []
    for iso, previous, reference, value, kind in rows:
        day = date.fromisoformat(iso)
        if not start <= day <= end:
            continue
        factor = reference / previous if previous and reference else None
        actions.append(
            CorporateAction(
                date=day,
                kind=kind,
                amount=value,
                previous_close=previous,
                reference_price=reference,
                factor=None if factor is None else round(factor, 8),
            )
        )
    return sorted(actions, key=lambda action: action.date)


def adjusted(bars: list[DailyBar], factors: list[tuple[date, float]]) -> list[DailyBar]:
    """``bars`` with ``adj_close`` = close x the product of the ``factors`` dated after each bar."""
    pending = sorted(factors, reverse=True)  # newest first
    product, position, out = 1.0, 0, []
    for bar in reversed(bars):
        while position < len(pending) and pending[position][0] > bar.date:
            product *= pending[position][1]
            position += 1
        adj = None if bar.close is None else round(bar.close * product, 4)
        out.append(bar.model_copy(update={"adj_close": adj}))
    return out[::-1]


def yahoo_corporate(chart: Chart, bars: list[DailyBar], start: date, end: date) -> dict[str, Any]:
    """What a Yahoo range caches beside its bars: ``events`` (JSON CorporateActions in the range)
    and ``adjclose`` (date -> adjusted close) with ``computed`` telling where it came from."""
    events = [action for action in yahoo_actions(chart) if start <= action.date <= end]
    tz = chart.tz
    given = {
        datetime.fromtimestamp(bar.timestamp, tz).date().isoformat(): bar.adjclose
        for bar in chart.bars
        if bar.adjclose is not None
    }
    computed = not given
    if computed:
        dividends = _dividend_factors(bars, events)
        given = {bar.date.isoformat(): bar.adj_close for bar in adjusted(bars, dividends) if bar.adj_close is not None}
    kept = {day: value for day, value in given.items() if start.isoformat() <= day <= end.isoformat()}
    return {"events": [event.model_dump(mode="json") for event in events], "adjclose": kept, "computed": computed}


def yahoo_actions(chart: Chart) -> list[CorporateAction]:
    """Dividends and splits of a chart's ``events``, oldest first; a malformed entry is skipped
    (and logged)."""
    tz = chart.tz
    actions = []
    for kind, entries in (("dividend", chart.events.get("dividends")), ("split", chart.events.get("splits"))):
        for entry in (entries or {}).values() if isinstance(entries, dict) else ():
            try:
                day = datetime.fromtimestamp(int(entry["date"]), tz).date()
                if kind == "dividend":
                    actions.append(CorporateAction(date=day, kind="dividend", amount=float(entry["amount"])))
                else:
                    ratio = entry.get("splitRatio") or f"{entry['numerator']}:{entry['denominator']}"
                    actions.append(CorporateAction(date=day, kind="split", ratio=str(ratio)))
            except (KeyError, TypeError, ValueError):
                log.warning("%s: unreadable Yahoo %s event %r skipped", chart.symbol, kind, entry)
    return sorted(actions, key=lambda action: (action.date, action.kind))


def _dividend_factors(bars: list[DailyBar], events: list[CorporateAction]) -> list[tuple[date, float]]:
    """``(ex-date, 1 - amount / close of the last bar before it)`` of each dividend that has one."""
    factors = []
    for event in events:
        if event.kind != "dividend" or event.amount is None:
            continue
        before = [bar.close for bar in bars if bar.date < event.date and bar.close]
        if before:
            factors.append((event.date, 1 - event.amount / before[-1]))
    return factors
