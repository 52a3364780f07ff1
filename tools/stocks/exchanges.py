"""Which exchange calendar (:mod:`tools.stocks.trading_calendar`) a symbol trades on.

Taiwan codes (TWSE and TPEx) trade on ``XTAI``. A Yahoo symbol's exchange is known for sure
only from its chart's ``meta.exchangeName`` (``NMS`` Nasdaq, ``NYQ`` NYSE, ``LSE``...), which
arrives with the answer, after the cache lifetime had to be chosen. So the first guess comes
from the symbol's suffix (``.L`` London, ``.TW`` Taipei, ``=X`` currencies, none: US), and what
a chart says is remembered for the process (:class:`ExchangeBook`) and used from then on.
Exchanges with no calendar get the weekday fallback in the chart's time zone.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TAIWAN = "XTAI"
US = "XNYS"  # NYSE and Nasdaq share sessions and holidays

YAHOO_EXCHANGES = {
    # exchangeName in Yahoo chart meta -> exchange-calendars code
    "NMS": "XNAS", "NGM": "XNAS", "NCM": "XNAS", "NAS": "XNAS",
    "NYQ": "XNYS", "NYS": "XNYS", "ASE": "XNYS", "PCX": "XNYS", "BTS": "XNYS", "PNK": "XNYS", "OQB": "XNYS",
    "TAI": "XTAI", "TWO": "XTAI", "LSE": "XLON", "IOB": "XLON", "OSL": "XOSL", "CPH": "XCSE", "GER": "XETR",
    "FRA": "XFRA", "JKT": "XIDX", "TOR": "XTSE", "VAN": "XTSX", "HKG": "XHKG", "JPX": "XTKS", "PAR": "XPAR",
    "AMS": "XAMS", "BRU": "XBRU", "ASX": "XASX", "KSC": "XKRX", "KOE": "XKRX", "SHH": "XSHG", "SHZ": "XSHG",
    "EBS": "XSWX", "MIL": "XMIL", "MCE": "XMAD", "STO": "XSTO", "HEL": "XHEL", "NZE": "XNZE", "BSE": "XBOM",
    "NSI": "XBOM", "SES": "XSES", "SAO": "BVMF", "MEX": "XMEX", "JNB": "XJSE", "IST": "XIST", "VIE": "XWBO",
    "CCY": "24/5", "CCC": "24/7",
}  # fmt: skip

SUFFIXES = {
    # Yahoo symbol suffix -> exchange-calendars code (a guess until a chart tells)
    ".TW": "XTAI", ".TWO": "XTAI", ".L": "XLON", ".OL": "XOSL", ".CO": "XCSE", ".DE": "XETR", ".F": "XFRA",
    ".JK": "XIDX", ".TO": "XTSE", ".V": "XTSX", ".HK": "XHKG", ".T": "XTKS", ".PA": "XPAR", ".AS": "XAMS",
    ".BR": "XBRU", ".AX": "XASX", ".KS": "XKRX", ".KQ": "XKRX", ".SS": "XSHG", ".SZ": "XSHG", ".SW": "XSWX",
    ".MI": "XMIL", ".MC": "XMAD", ".ST": "XSTO", ".HE": "XHEL", ".NZ": "XNZE", ".BO": "XBOM", ".NS": "XBOM",
    ".SI": "XSES", ".SA": "BVMF", ".MX": "XMEX", ".JO": "XJSE", ".IS": "XIST", ".VI": "XWBO",
    "=X": "24/5", "-USD": "24/7",
}  # fmt: skip


def guess(symbol: str) -> str:
    """The calendar code a Yahoo symbol's suffix suggests (US when it has none)."""
    upper = symbol.upper()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if upper.endswith(suffix):
            return SUFFIXES[suffix]
    if "=" in upper or "." in upper:  # futures (GC=F) and unlisted suffixes: no guess
        return f"YAHOO:{upper.rsplit('.', 1)[-1] if '.' in upper else upper.split('=', 1)[-1]}"
    return US


def from_meta(meta: dict[str, object]) -> tuple[str, ZoneInfo | None]:
    """The calendar code a chart's meta names, and its time zone (for the weekday fallback)."""
    name = str(meta.get("exchangeName") or "")
    zone: ZoneInfo | None = None
    try:
        zone = ZoneInfo(str(meta.get("exchangeTimezoneName") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    return YAHOO_EXCHANGES.get(name, f"YAHOO:{name or 'unknown'}"), zone


class ExchangeBook:
    """Yahoo symbol -> (calendar code, zone) learned from charts, for this process."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[str, ZoneInfo | None]] = {}

    def learn(self, symbol: str, meta: dict[str, object]) -> None:
        self._known[symbol.upper()] = from_meta(meta)

    def of(self, symbol: str) -> tuple[str, ZoneInfo | None]:
        """The learned exchange of ``symbol``, else the suffix guess (no zone)."""
        return self._known.get(symbol.upper()) or (guess(symbol), None)
