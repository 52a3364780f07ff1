"""Symbol resolution: which upstream answers for a symbol, and the learned market of a code.

Rules (:func:`resolve`), applied before any request:

- ``market="auto"`` (default): a plain Taiwan code (4-6 characters, a digit first, then
  digits or capital letters: ``2330``, ``6488``, ``00400A``) goes to the Taiwan exchanges;
  which exchange (TWSE or TPEx) is learned from MIS the first time and remembered in the cache
  (:class:`MarketBook`). Anything else (``AAPL``, ``2330.TW``, ``6488.TWO``, ``EURUSD=X``)
  goes to Yahoo.
- ``market="twse"``/``"tpex"`` forces that exchange (a ``.TW``/``.TWO`` suffix is dropped).
- ``market="yahoo"`` forces Yahoo with the symbol as given.

A number turned into text is read as the code it stands for (``2330.0`` is ``2330``); one of
fewer than 4 digits (``50``: ``0050`` sent as a number) is refused, naming the padded code.
Only ASCII is accepted: fullwidth or other Unicode digits and letters are refused before
anything else (patterns are ASCII classes compiled with ``re.ASCII``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from cache import CachePolicy, TieredCache, make_key
from tools.errors import InvalidInput
from tools.stocks.models import Market

MarketChoice = Literal["auto", "twse", "tpex", "yahoo"]
Source = Literal["taiwan", "yahoo"]

TAIWAN_CODE = re.compile(r"[0-9][0-9A-Z]{3,5}", re.ASCII)
_YAHOO_SYMBOL = re.compile(r"[A-Z0-9^][A-Z0-9.\-=^]{0,24}", re.ASCII)
_WHOLE_NUMBER = re.compile(r"\A([0-9]{4,6})\.0+\Z", re.ASCII)
_SHORT_NUMBER = re.compile(r"[0-9]{1,3}", re.ASCII)
_TW_SUFFIX = re.compile(r"\.(TW|TWO)\Z", re.ASCII)
_EXPLICIT: dict[str, Market] = {"twse": "TWSE", "tpex": "TPEx"}
MARKET_NAMESPACE = "stocks.market"


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where a symbol goes. ``market`` is None for a Taiwan code whose exchange is not yet known."""

    symbol: str
    source: Source
    market: Market | None
    explicit: bool = False


def resolve(symbol: str, market: MarketChoice = "auto", field_name: str = "symbol") -> Resolved:
    """Apply the module's rules; InvalidInput naming ``field_name`` when the symbol is unusable."""
    text = (symbol or "").strip()
    if not text:
        raise InvalidInput(field_name, "must not be empty; give a code like '2330' or a ticker like 'AAPL'")
    if not text.isascii():  # before upper(): 'ſ'.upper() == 'S'; fullwidth and Arabic-Indic digits are not codes
        raise InvalidInput(
            field_name, f"{symbol!r} has characters other than ASCII letters, digits and . - = ^ (e.g. '2330', 'AAPL')"
        )
    text = _WHOLE_NUMBER.sub(r"\1", text.upper())  # 2330.0: a code that went through a float
    if market != "yahoo" and _SHORT_NUMBER.fullmatch(text):  # 50: a code whose leading zeros were lost as a number
        raise InvalidInput(
            field_name,
            f"{symbol!r} is not a code: Taiwan codes have 4-6 characters; give one with leading zeros "
            "as a string, e.g. '0050' or '00878'",
        )
    if market in _EXPLICIT:
        code = _TW_SUFFIX.sub("", text)
        if not TAIWAN_CODE.fullmatch(code):
            raise InvalidInput(
                field_name, f"{symbol!r} is not a Taiwan code (4-6 characters such as '2330' or '00400A')"
            )
        return Resolved(code, "taiwan", _EXPLICIT[market], explicit=True)
    if market != "yahoo" and TAIWAN_CODE.fullmatch(text):
        return Resolved(text, "taiwan", None)
    if not _YAHOO_SYMBOL.fullmatch(text):
        raise InvalidInput(
            field_name, f"{symbol!r} is not a symbol (letters, digits and . - = ^ only, e.g. 'AAPL', '2330.TW')"
        )
    return Resolved(text, "yahoo", "Yahoo", explicit=market == "yahoo")


def market_key(code: str) -> str:
    return make_key(MARKET_NAMESPACE, {"code": code})


class MarketBook:
    """The learned code -> market (TWSE/TPEx) mapping, kept in the cache (all tiers).

    Plain ``get_many``/``set_many`` on purpose: a market is a by-product of MIS answers that
    are themselves read through ``get_or_fetch`` (:mod:`tools.stocks.mis_batch`); no upstream
    read of its own stands behind an entry here, so there is nothing to single-flight.
    """

    def __init__(self, cache: TieredCache, fresh_ttl: float) -> None:
        self._cache = cache
        self._policy = CachePolicy(MARKET_NAMESPACE, fresh_ttl=fresh_ttl, stale_ttl=fresh_ttl)

    async def known(self, codes: Iterable[str]) -> dict[str, Market]:
        """The markets already learned for ``codes`` (unknown codes are left out)."""
        wanted = {market_key(code): code for code in codes}
        if not wanted:
            return {}
        found = await self._cache.get_many(list(wanted))
        return {wanted[key]: result.value for key, result in found.items() if result.value in ("TWSE", "TPEx")}

    async def remember(self, markets: dict[str, Market]) -> None:
        """Store newly learned markets."""
        if markets:
            await self._cache.set_many([(market_key(code), market) for code, market in markets.items()], self._policy)
