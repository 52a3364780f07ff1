"""Symbol resolution rules and the learned-market book."""

from __future__ import annotations

import pytest

from cache.engine.tiered import TieredCache
from tools.errors import InvalidInput
from tools.stocks.symbols import MarketBook, Resolved, resolve


@pytest.mark.parametrize(
    ("symbol", "market", "expected"),
    [
        ("2330", "auto", Resolved("2330", "taiwan", None)),
        (" 00400a ", "auto", Resolved("00400A", "taiwan", None)),
        ("2330.TW", "auto", Resolved("2330.TW", "yahoo", "Yahoo")),
        ("6488.two", "auto", Resolved("6488.TWO", "yahoo", "Yahoo")),
        ("aapl", "auto", Resolved("AAPL", "yahoo", "Yahoo")),
        ("EURUSD=X", "auto", Resolved("EURUSD=X", "yahoo", "Yahoo")),
        ("2330.TW", "twse", Resolved("2330", "taiwan", "TWSE", explicit=True)),
        ("6488", "tpex", Resolved("6488", "taiwan", "TPEx", explicit=True)),
        ("2330", "yahoo", Resolved("2330", "yahoo", "Yahoo", explicit=True)),
    ],
)
def test_resolution_rules(symbol: str, market: str, expected: Resolved) -> None:
    assert resolve(symbol, market) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("symbol", "market", "message"),
    [
        ("", "auto", "must not be empty"),
        ("   ", "auto", "must not be empty"),
        ("AAPL", "twse", "not a Taiwan code"),
        ("23 30", "auto", "not a symbol"),
    ],
)
def test_unusable_symbols_name_the_field(symbol: str, market: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        resolve(symbol, market, "symbols[3]")  # type: ignore[arg-type]
    assert caught.value.field == "symbols[3]"


async def test_market_book_remembers(cache: TieredCache) -> None:
    book = MarketBook(cache, fresh_ttl=3600)
    assert await book.known(["2330", "6488"]) == {}
    await book.remember({"2330": "TWSE", "6488": "TPEx"})
    assert await book.known(["2330", "6488", "1101"]) == {"2330": "TWSE", "6488": "TPEx"}
