"""Stock-domain failures, as members of the upstream error tree.

They subclass ``tools.http.errors`` classes so the one translation boundary
(``tools.errors.translate_errors``) turns them into tool errors without knowing this domain.
Messages name the argument the agent should change.
"""

from __future__ import annotations

from tools.http.errors import NotFound, UpstreamError


class UnknownSymbol(NotFound):
    """No exchange (or Yahoo) knows the symbol."""

    def __init__(self, upstream: str, symbol: str, detail: str = "") -> None:
        hint = f" ({detail.strip()})" if detail.strip() else ""
        super().__init__(
            upstream,
            f"symbol {symbol!r} is unknown{hint}; check the symbol argument "
            "(Taiwan codes like '2330', global tickers like 'AAPL', or '2330.TW')",
            body=detail,
        )
        self.symbol = symbol


class NoDataInRange(UpstreamError):
    """The upstream has no bars for the symbol in the requested dates (e.g. listed later)."""

    def __init__(self, upstream: str, symbol: str, detail: str = "") -> None:
        hint = f": {detail.strip()}" if detail.strip() else ""
        super().__init__(
            upstream,
            f"no price data for {symbol!r} in the requested dates{hint}; "
            "move start_date/end_date (or period) to when the symbol traded",
        )
        self.symbol = symbol


class BeforeRecords(UpstreamError):
    """TWSE keeps daily bars from 2010-01-04 on; the request asked for earlier dates."""

    def __init__(self, upstream: str, detail: str = "") -> None:
        hint = f" (upstream: {detail.strip()})" if detail.strip() else ""
        super().__init__(
            upstream,
            f"TWSE daily bars start on 2010-01-04{hint}; set start_date to 2010-01-04 or later",
        )
