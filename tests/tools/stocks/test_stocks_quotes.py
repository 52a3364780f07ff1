"""Batch quotes: cache reuse, request packing under the 30-channel limit, per-symbol failures.

MIS answers come from the replay route table (recorded 2330 entry; synthesised 6488 entry and
placeholders, see tests/support/replay_routes/stocks.py); codes 1101.. are unknown there.
"""

from __future__ import annotations

import pytest

from tests.support.clock import ManualClock
from tests.support.stocks import Harness
from tools.errors import InvalidInput

UNKNOWN = [str(code) for code in range(1101, 1129)]  # 28 codes MIS does not know


async def test_second_batch_fetches_only_the_missing_symbol(harness: Harness) -> None:
    first = await harness.service.get_quotes(["2330"])
    assert harness.transport.channels() == [["tse_2330.tw", "otc_2330.tw"]]  # market unknown: both
    assert first.quotes[0].cache is not None and not first.quotes[0].cache.hit
    batch = await harness.service.get_quotes(["2330", "6488"])
    assert harness.transport.channels()[1:] == [["tse_6488.tw", "otc_6488.tw"]]  # 2330 reused
    by_symbol = {quote.symbol: quote for quote in batch.quotes}
    assert by_symbol["2330"].cache.hit and by_symbol["2330"].cache.tier == "memory"  # type: ignore[union-attr]
    assert by_symbol["6488"].market == "TPEx" and by_symbol["6488"].price == 981.0
    assert by_symbol["6488"].price_source == "last_trade" and by_symbol["6488"].change == 54.0
    assert [quote.symbol for quote in batch.quotes] == ["2330", "6488"]  # order as asked


async def test_learned_markets_need_one_channel(harness: Harness, clock: ManualClock) -> None:
    await harness.service.get_quotes(["2330", "6488"])
    clock.advance(68 * 3600)  # past Monday's open: both quotes expired, markets remembered
    await harness.service.get_quotes(["6488", "2330"])
    assert sorted(harness.transport.channels()[-1]) == ["otc_6488.tw", "tse_2330.tw"]


async def test_thirty_unknown_market_codes_take_two_requests(harness: Harness) -> None:
    batch = await harness.service.get_quotes(["2330", "6488", *UNKNOWN])
    sizes = [len(channels) for channels in harness.transport.channels()]
    assert sizes == [30, 30]  # 60 channels, the fewest requests the limit allows
    assert {quote.symbol for quote in batch.quotes} == {"2330", "6488"}
    assert {error.symbol for error in batch.errors} == set(UNKNOWN)
    assert "unknown" in batch.errors[0].error


async def test_explicit_market_packs_one_channel_per_code(harness: Harness) -> None:
    batch = await harness.service.get_quotes(["2330", *UNKNOWN], market="twse")
    assert [len(channels) for channels in harness.transport.channels()] == [29]
    assert [quote.symbol for quote in batch.quotes] == ["2330"]
    wrong = await harness.service.get_quotes(["2330"], market="tpex")  # cached TWSE quote does not fit
    assert wrong.quotes == [] and "TPEx" in wrong.errors[0].error


async def test_stale_quote_served_when_mis_is_down(harness: Harness, clock: ManualClock) -> None:
    await harness.service.get_quotes(["2330"])
    clock.advance(67 * 3600 + 10)  # past Monday's open (fresh), inside the stale window
    harness.transport.down.add("mis")
    batch = await harness.service.get_quotes(["2330", "6488"])
    (quote,) = batch.quotes
    assert quote.symbol == "2330" and quote.cache is not None and quote.cache.stale and quote.cache.hit
    (error,) = batch.errors
    assert error.symbol == "6488" and "mis" in error.error and "503" in error.error


async def test_yahoo_symbols_in_the_same_batch(harness: Harness) -> None:
    batch = await harness.service.get_quotes(["AAPL", "2330", "MDLY"])
    assert [quote.symbol for quote in batch.quotes] == ["AAPL", "2330"]
    assert batch.quotes[0].market == "Yahoo" and batch.quotes[0].currency == "USD"
    assert batch.errors[0].symbol == "MDLY" and "delisted" in batch.errors[0].error
    await harness.service.get_quotes(["AAPL"])
    assert len(harness.transport.to("yahoo")) == 2  # AAPL cached, MDLY's error not cached


@pytest.mark.parametrize(
    ("symbols", "field", "message"),
    [
        ([], "symbols", "at least one"),
        ([str(code) for code in range(1101, 1132)], "symbols", "at most 30"),
        (["2330", " "], "symbols[1]", "must not be empty"),
    ],
)
async def test_invalid_batches_are_rejected_before_any_request(
    harness: Harness, symbols: list[str], field: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        await harness.service.get_quotes(symbols)
    assert caught.value.field == field
    assert harness.transport.requests == []
