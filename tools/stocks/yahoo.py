"""Yahoo Finance chart v8 (``/v8/finance/chart/{symbol}``): bars and the latest price.

``chart.result[0]`` holds ``meta`` (currency, exchange, time zone, regularMarketPrice,
previousClose / chartPreviousClose), ``timestamp[]`` (absent when the range has no bars) and
``indicators.quote[0]`` with open/high/low/close/volume arrays whose entries may be null:
nulls are kept as gaps (a bar with null prices), never dropped or filled. Failures:

- 404 with ``chart.error`` ("No data found, symbol may be delisted") -> :class:`UnknownSymbol`;
- 400 "Data doesn't exist for startDate = ..." -> :class:`NoDataInRange`;
- any other ``chart.error`` -> ``BadPayload`` with Yahoo's description.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote as urlquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from tools.http.client import UpstreamClient
from tools.http.errors import BadPayload, NotFound, Rejected, UpstreamError
from tools.stocks.errors import NoDataInRange, UnknownSymbol
from tools.stocks.models import DailyBar, QuoteData, StockInfoData

UPSTREAM = "yahoo"
CHART_PATH = "/v8/finance/chart/{symbol}"
_UTC = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class ChartBar:
    """One bar; any price may be None (Yahoo's null)."""

    timestamp: int
    open: float | None
    high: float | None
    low: float | None
    close: float | None
    volume: int | None
    adjclose: float | None


@dataclass(frozen=True, slots=True)
class Chart:
    symbol: str
    meta: dict[str, Any]
    bars: list[ChartBar]
    events: dict[str, Any] = field(default_factory=dict)
    """``result.events`` as sent: ``dividends`` / ``splits`` by epoch (:mod:`tools.stocks.adjust`)."""

    @property
    def tz(self) -> ZoneInfo:
        """The exchange's time zone (UTC when Yahoo names none we know)."""
        try:
            return ZoneInfo(str(self.meta.get("exchangeTimezoneName") or "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            return _UTC


class YahooChart:
    """Fetches chart v8 data through the shared resilient client."""

    def __init__(self, client: UpstreamClient) -> None:
        self._client = client

    async def fetch(
        self, symbol: str, *, period1: int | None = None, period2: int | None = None, range_: str | None = None
    ) -> Chart:
        """Daily chart of ``symbol`` between epoch ``period1`` and ``period2``, or over ``range_``."""
        params = {"interval": "1d", "period1": period1, "period2": period2, "range": range_, "events": "div|split"}
        path = CHART_PATH.format(symbol=urlquote(symbol, safe=".-=^"))
        try:
            payload = await self._client.get_json(path, params=params)
        except NotFound as exc:
            raise _chart_error(symbol, exc.body, exc) from exc
        except Rejected as exc:
            raise _chart_error(symbol, exc.body, exc) from exc
        return parse_chart(payload, symbol)


def parse_chart(payload: Any, symbol: str) -> Chart:
    """A :class:`Chart` from a chart v8 body (see the module docstring for failures)."""
    chart = payload.get("chart") if isinstance(payload, dict) else None
    if not isinstance(chart, dict):
        raise BadPayload(UPSTREAM, "answer has no 'chart' object")
    if chart.get("error"):
        raise _error_from_chart(symbol, chart["error"])
    results = chart.get("result") or []
    if not results or not isinstance(results[0], dict):
        raise UnknownSymbol(UPSTREAM, symbol, "Yahoo returned no result")
    result = results[0]
    events = result.get("events")
    return Chart(
        symbol=symbol,
        meta=dict(result.get("meta") or {}),
        bars=_bars(result),
        events=events if isinstance(events, dict) else {},
    )


def _bars(result: dict[str, Any]) -> list[ChartBar]:
    stamps = result.get("timestamp") or []
    indicators = result.get("indicators") or {}
    quote = (indicators.get("quote") or [{}])[0] or {}
    adj = ((indicators.get("adjclose") or [{}])[0] or {}).get("adjclose") or []

    def at(series: list[Any] | None, position: int) -> Any:
        return series[position] if series and position < len(series) else None

    bars = []
    for position, stamp in enumerate(stamps):
        volume = at(quote.get("volume"), position)
        bars.append(
            ChartBar(
                timestamp=int(stamp),
                open=_float(at(quote.get("open"), position)),
                high=_float(at(quote.get("high"), position)),
                low=_float(at(quote.get("low"), position)),
                close=_float(at(quote.get("close"), position)),
                volume=None if volume is None else int(volume),
                adjclose=_float(at(adj, position)),
            )
        )
    return bars


def daily_bars(chart: Chart) -> list[DailyBar]:
    """Daily bars dated in the exchange's time zone; null entries stay as gaps."""
    tz = chart.tz
    return [
        DailyBar(
            date=datetime.fromtimestamp(bar.timestamp, tz).date(),
            open=bar.open,
            high=bar.high,
            low=bar.low,
            close=bar.close,
            volume=bar.volume,
        )
        for bar in chart.bars
    ]


def to_quote(chart: Chart) -> QuoteData:
    """The latest price from ``meta`` (regular market)."""
    meta = chart.meta
    price = _float(meta.get("regularMarketPrice"))
    previous = _float(meta.get("previousClose")) or _float(meta.get("chartPreviousClose"))
    change = None if price is None or not previous else round(price - previous, 6)
    last_open = next((bar.open for bar in reversed(chart.bars) if bar.open is not None), None)
    return QuoteData(
        symbol=str(meta.get("symbol") or chart.symbol),
        name=meta.get("longName") or meta.get("shortName"),
        market="Yahoo",
        exchange=meta.get("fullExchangeName") or meta.get("exchangeName"),
        currency=meta.get("currency"),
        price=price,
        price_source="regular_market",
        change=change,
        change_percent=None if change is None or not previous else round(change / previous * 100, 4),
        open=last_open,
        high=_float(meta.get("regularMarketDayHigh")),
        low=_float(meta.get("regularMarketDayLow")),
        volume=_int(meta.get("regularMarketVolume")),
        previous_close=previous,
        time=_iso(meta.get("regularMarketTime"), chart.tz),
    )


def to_info(chart: Chart) -> StockInfoData:
    """What ``meta`` says about the instrument."""
    meta = chart.meta
    first = _int(meta.get("firstTradeDate"))
    return StockInfoData(
        symbol=str(meta.get("symbol") or chart.symbol),
        name=meta.get("shortName") or meta.get("longName"),
        full_name=meta.get("longName"),
        market="Yahoo",
        exchange=meta.get("fullExchangeName") or meta.get("exchangeName"),
        currency=meta.get("currency"),
        timezone=meta.get("exchangeTimezoneName"),
        instrument_type=meta.get("instrumentType"),
        first_trade_date=None if first is None else _date(first, chart.tz),
        previous_close=_float(meta.get("previousClose")) or _float(meta.get("chartPreviousClose")),
        fifty_two_week_high=_float(meta.get("fiftyTwoWeekHigh")),
        fifty_two_week_low=_float(meta.get("fiftyTwoWeekLow")),
    )


def _chart_error(symbol: str, body: str, original: UpstreamError) -> UpstreamError:
    """Map a 4xx body carrying ``chart.error``; keep the original error when it has none."""
    try:
        error = orjson.loads(body)["chart"]["error"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        error = None
    if isinstance(original, NotFound):
        description = error.get("description", "") if isinstance(error, dict) else ""
        return UnknownSymbol(UPSTREAM, symbol, description or "Yahoo: not found")
    return _error_from_chart(symbol, error) if isinstance(error, dict) else original


def _error_from_chart(symbol: str, error: Any) -> UpstreamError:
    code = str(error.get("code", "")) if isinstance(error, dict) else ""
    description = str(error.get("description", "")) if isinstance(error, dict) else str(error)
    if code == "Not Found":
        return UnknownSymbol(UPSTREAM, symbol, description)
    if "doesn't exist" in description or "does not exist" in description:
        return NoDataInRange(UPSTREAM, symbol, description)
    return BadPayload(UPSTREAM, f"chart error {code}: {description}")


def _float(value: Any) -> float | None:
    return None if value is None or isinstance(value, bool) else float(value)


def _int(value: Any) -> int | None:
    return None if value is None or isinstance(value, bool) else int(value)


def _date(epoch: int, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(epoch, tz).date()


def _iso(epoch: Any, tz: ZoneInfo) -> str | None:
    stamp = _int(epoch)
    return None if stamp is None else datetime.fromtimestamp(stamp, tz).isoformat()
