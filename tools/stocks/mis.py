"""TWSE MIS realtime quotes (``getStockInfo.jsp``), for TWSE and TPEx codes and indices.

One request carries up to ``MAX_CHANNELS`` channels joined by ``|``: ``tse_2330.tw`` for a
TWSE code, ``otc_6488.tw`` for a TPEx code, ``tse_t00.tw`` for the TAIEX and ``otc_o00.tw``
for the TPEx index. When a code's market is unknown both channels are sent: the wrong one
comes back as an empty placeholder entry (or not at all) and is ignored, the right one says
the market in ``ex`` ("tse" or "otc"). The body is JSON served as ``text/html``.

Entry fields: ``c`` code, ``n`` name, ``nf`` full name, ``z`` last trade (``"-"`` when no
trade in this tick), ``y`` previous close, ``o/h/l`` open/high/low, ``v`` accumulated volume
in lots of 1,000 shares, ``a``/``b`` best five ask/bid prices joined by ``"_"``, ``u``/``w``
limit up/down, ``tlong`` epoch milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tools.http.client import UpstreamClient
from tools.http.errors import BadPayload
from tools.stocks.models import IndexData, Market, PriceSource, QuoteData, StockInfoData
from tools.stocks.parsing import clean, parse_int, parse_number
from tools.stocks.sessions import TAIPEI

UPSTREAM = "mis"
PATH = "/stock/api/getStockInfo.jsp"
MAX_CHANNELS = 30
LOT_SHARES = 1000
_PREFIX = {"TWSE": "tse", "TPEx": "otc"}
_MARKET: dict[str, Market] = {"tse": "TWSE", "otc": "TPEx"}
EXCHANGE_NAME = {"TWSE": "Taiwan Stock Exchange", "TPEx": "Taipei Exchange (OTC)"}
EMPTY_QUERY = "5001"  # rtmessage "Empty Query.": none of the channels exists
TAIEX = "tse_t00.tw"
TPEX_INDEX = "otc_o00.tw"


def channel(code: str, market: Market) -> str:
    """``channel("2330", "TWSE") == "tse_2330.tw"``; only TWSE and TPEx have channels."""
    return f"{_PREFIX[market]}_{code.lower()}.tw"


def channels_for(code: str, market: Market | None) -> list[str]:
    """The channel of a code of known market, or both channels when ``market`` is None."""
    if market is None:
        return [channel(code, "TWSE"), channel(code, "TPEx")]
    return [channel(code, market)]


class MisRealtime:
    """Fetches realtime entries; callers chunk to ``MAX_CHANNELS`` per call."""

    def __init__(self, client: UpstreamClient) -> None:
        self._client = client

    async def fetch(self, channels: Sequence[str]) -> list[dict[str, Any]]:
        """The real (non-placeholder) entries for ``channels`` (1..MAX_CHANNELS of them)."""
        if not 1 <= len(channels) <= MAX_CHANNELS:
            raise ValueError(f"MIS takes 1..{MAX_CHANNELS} channels per request, got {len(channels)}")
        payload = await self._client.get_json(PATH, params={"ex_ch": "|".join(channels), "json": "1", "delay": "0"})
        return parse_entries(payload)


def parse_entries(payload: Any) -> list[dict[str, Any]]:
    """``msgArray`` without placeholders ([] for rtcode 5001 "Empty Query."); BadPayload otherwise."""
    if not isinstance(payload, dict):
        raise BadPayload(UPSTREAM, f"answered {type(payload).__name__}, expected an object")
    rtcode = str(payload.get("rtcode", "0000"))
    if rtcode == EMPTY_QUERY:
        return []
    if rtcode != "0000":
        raise BadPayload(UPSTREAM, f"answered rtcode {rtcode}: {payload.get('rtmessage', '')}")
    entries = payload.get("msgArray")
    if not isinstance(entries, list):
        raise BadPayload(UPSTREAM, "answer has no msgArray")
    return [entry for entry in entries if isinstance(entry, dict) and not is_placeholder(entry)]


def is_placeholder(entry: dict[str, Any]) -> bool:
    """A wrong-prefix entry: no code, no market or no previous close."""
    return not clean(entry.get("c")) or entry_market(entry) is None or parse_number(entry.get("y")) is None


def entry_market(entry: dict[str, Any]) -> Market | None:
    return _MARKET.get(clean(entry.get("ex")).lower())


def entry_code(entry: dict[str, Any]) -> str:
    return clean(entry.get("c")).upper()


def to_quote(entry: dict[str, Any]) -> QuoteData:
    """A :class:`QuoteData` from a real entry; a ``"-"`` last trade falls back as documented."""
    previous = parse_number(entry.get("y"))
    best_bid, best_ask = _best(entry.get("b")), _best(entry.get("a"))
    price, source = _price(parse_number(entry.get("z")), best_bid, best_ask, previous)
    change, percent = _change(price, previous)
    volume = parse_int(entry.get("v"))
    market = entry_market(entry) or "TWSE"
    return QuoteData(
        symbol=entry_code(entry),
        name=clean(entry.get("n")) or None,
        market=market,
        exchange=EXCHANGE_NAME[market],
        currency="TWD",
        price=price,
        price_source=source,
        change=change,
        change_percent=percent,
        open=parse_number(entry.get("o")),
        high=parse_number(entry.get("h")),
        low=parse_number(entry.get("l")),
        volume=None if volume is None else volume * LOT_SHARES,
        previous_close=previous,
        best_bid=best_bid,
        best_ask=best_ask,
        time=entry_time(entry),
    )


def to_info(entry: dict[str, Any]) -> StockInfoData:
    """A :class:`StockInfoData` from a real entry: names, market, today's limits, previous close."""
    market = entry_market(entry) or "TWSE"
    return StockInfoData(
        symbol=entry_code(entry),
        name=clean(entry.get("n")) or None,
        full_name=clean(entry.get("nf")) or None,
        market=market,
        exchange=EXCHANGE_NAME[market],
        currency="TWD",
        timezone="Asia/Taipei",
        previous_close=parse_number(entry.get("y")),
        limit_up=parse_number(entry.get("u")),
        limit_down=parse_number(entry.get("w")),
    )


def to_index(entry: dict[str, Any]) -> IndexData:
    """An :class:`IndexData` from an index entry (``t00`` or ``o00``)."""
    value = parse_number(entry.get("z"))
    previous = parse_number(entry.get("y"))
    change, percent = _change(value, previous)
    return IndexData(
        code=clean(entry.get("c")).lower(),
        name=clean(entry.get("n")) or None,
        market=entry_market(entry) or "TWSE",
        value=value,
        previous_close=previous,
        change=change,
        change_percent=percent,
        open=parse_number(entry.get("o")),
        high=parse_number(entry.get("h")),
        low=parse_number(entry.get("l")),
        time=entry_time(entry),
    )


def entry_time(entry: dict[str, Any]) -> str | None:
    """The entry's ``tlong`` (epoch ms) as ISO 8601 in Asia/Taipei, or None."""
    millis = parse_number(entry.get("tlong"))
    if millis is None or millis <= 0:
        return None
    return datetime.fromtimestamp(millis / 1000, TAIPEI).isoformat()


def _best(ladder: object) -> float | None:
    """The first positive price of an ``"849.0000_850.0000_..._"`` ladder."""
    for part in clean(ladder).split("_"):
        value = parse_number(part)
        if value is not None and value > 0:
            return value
    return None


def _price(
    last: float | None, bid: float | None, ask: float | None, previous: float | None
) -> tuple[float | None, PriceSource]:
    if last is not None and last > 0:
        return last, "last_trade"
    if bid is not None and ask is not None:
        return round((bid + ask) / 2, 4), "bid_ask_mid"
    return previous, "previous_close"


def _change(price: float | None, previous: float | None) -> tuple[float | None, float | None]:
    if price is None or previous is None or previous == 0:
        return None, None
    change = round(price - previous, 4)
    return change, round(change / previous * 100, 4)
