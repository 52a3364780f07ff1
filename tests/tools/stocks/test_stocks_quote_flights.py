"""Taiwan quotes through the engine: one MIS request per symbol for concurrent callers, one
request for a caller's cold symbols, stale quotes answered without waiting for MIS.

The clock is Friday 2026-09-04 14:00 Taipei (after the close: a quote lives until Monday's
09:00 open, 67 h, then 900 s stale). MIS answers come from the replay route table (2330 on TWSE, 6488 on TPEx).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from cache import SqliteBackend
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory, bounded_memory
from tests.support.recorded_upstream import RecordedUpstream
from tests.support.stocks import Harness
from tools.stocks.config import StocksConfig
from tools.stocks.models import QuoteBatch
from tools.stocks.quotes import quote_key

BOUND = 10.0  # a bound for waits that the fix makes immediate (never reached when it works)
UNTIL_MONDAY_OPEN = 67 * 3600  # Friday 14:00 -> Monday 09:00 Taipei


async def test_twenty_concurrent_cold_callers_make_one_mis_request(harness: Harness) -> None:
    batches = await asyncio.gather(*(harness.service.get_quotes(["2330"]) for _ in range(20)))
    assert len(harness.transport.to("mis")) == 1
    assert all([quote.symbol for quote in batch.quotes] == ["2330"] and not batch.errors for batch in batches)
    assert sum(not batch.quotes[0].cache.hit for batch in batches if batch.quotes[0].cache) == 20  # one shared fetch


async def test_concurrent_batches_share_one_fetch_per_symbol(harness: Harness) -> None:
    calls = [["2330", "6488"], ["6488", "2330"], ["6488"], ["2330"]] * 5
    batches = await asyncio.gather(*(harness.service.get_quotes(symbols) for symbols in calls))
    (channels,) = harness.transport.channels()  # every caller's cold symbols in one request
    assert sorted(channels) == ["otc_2330.tw", "otc_6488.tw", "tse_2330.tw", "tse_6488.tw"]
    assert all(not batch.errors for batch in batches)
    assert {quote.market for batch in batches for quote in batch.quotes} == {"TWSE", "TPEx"}


async def test_cold_symbols_of_one_call_leave_together_over_sqlite(
    transport: RecordedUpstream, make_cache: CacheFactory, clock: ManualClock, tmp_path: Path
) -> None:
    # With a lower tier each symbol's memory miss reads SQLite first, so the loaders start one
    # by one: the request still waits for all of them.
    sqlite = await SqliteBackend.open(tmp_path / "c.db", clock=clock)
    harness = Harness(transport, make_cache(bounded_memory(clock), sqlite=sqlite), clock)
    try:
        batch = await harness.service.get_quotes(["2330", "6488", "1101"])
        assert [len(channels) for channels in transport.channels()] == [6]
        assert [quote.symbol for quote in batch.quotes] == ["2330", "6488"] and batch.errors[0].symbol == "1101"
    finally:
        await harness.aclose()


async def test_stale_quote_answered_while_mis_is_held(harness: Harness, clock: ManualClock) -> None:
    await harness.service.get_quotes(["2330"])
    clock.advance(UNTIL_MONDAY_OPEN + 10)  # past fresh, inside the stale window
    harness.transport.held.add("mis")
    call = asyncio.ensure_future(harness.service.get_quotes(["2330"]))
    await asyncio.wait_for(harness.transport.first_held(), BOUND)  # the refresh is at MIS...
    batch: QuoteBatch = await asyncio.wait_for(call, BOUND)  # ...and the answer did not wait for it
    (quote,) = batch.quotes
    assert quote.cache is not None and quote.cache.hit and quote.cache.stale
    harness.transport.release()
    await harness.cache.wait_idle()
    again = await harness.service.get_quotes(["2330"])
    assert again.quotes[0].cache is not None and not again.quotes[0].cache.stale  # refreshed behind the caller
    assert len(harness.transport.to("mis")) == 2


async def test_stale_quote_served_at_once_when_mis_is_down(harness: Harness, clock: ManualClock) -> None:
    await harness.service.get_quotes(["2330", "6488"])
    clock.advance(UNTIL_MONDAY_OPEN + 10)
    harness.transport.down.add("mis")
    batches = await asyncio.gather(*(harness.service.get_quotes(["6488", "2330"]) for _ in range(10)))
    assert all(len(batch.quotes) == 2 and all(q.cache and q.cache.stale for q in batch.quotes) for batch in batches)
    await harness.cache.wait_idle()
    assert len(harness.transport.to("mis")) == 2  # the first fetch, then one shared refresh for both codes


async def test_market_learned_by_a_quote_is_used_by_history_and_info(harness: Harness) -> None:
    await harness.service.get_quotes(["6488"])
    await harness.service.get_info("6488")  # info reads MIS again (its own fields), one channel now
    history = await harness.service.get_history("6488", period="1mo")
    assert history.market == "TPEx"
    assert harness.transport.channels() == [["tse_6488.tw", "otc_6488.tw"], ["otc_6488.tw"]]


async def test_request_leaves_once_the_call_is_accounted_for_not_after_the_window(
    transport: RecordedUpstream, make_cache: CacheFactory, clock: ManualClock, tmp_path: Path
) -> None:
    # 2330 is answered by SQLite, 6488 must be fetched: the request waits for 2330's answer
    # (not for the window, set far beyond the bound here) and carries 6488 alone.
    sqlite = await SqliteBackend.open(tmp_path / "c.db", clock=clock)
    cache = make_cache(bounded_memory(clock), sqlite=sqlite)
    harness = Harness(transport, cache, clock, config=StocksConfig(mis_batch_window=3600.0))
    try:
        await harness.service.get_quotes(["2330"])
        await cache.invalidate_keys(quote_key("2330"), tiers=("memory",), notify=False)
        batch = await asyncio.wait_for(harness.service.get_quotes(["6488", "2330"]), BOUND)
        assert [quote.symbol for quote in batch.quotes] == ["6488", "2330"]
        assert batch.quotes[1].cache is not None and batch.quotes[1].cache.tier == "sqlite"
        assert transport.channels()[1:] == [["tse_6488.tw", "otc_6488.tw"]]
    finally:
        await harness.aclose()


async def test_closing_the_service_ends_quotes_waiting_on_mis(harness: Harness) -> None:
    harness.transport.held.add("mis")
    call = asyncio.ensure_future(harness.service.get_quotes(["2330"]))
    await asyncio.wait_for(harness.transport.first_held(), BOUND)
    await harness.service.aclose()
    done, _ = await asyncio.wait({call}, timeout=BOUND)  # ended, not left waiting for a request nobody sends
    assert done == {call} and call.cancelled()
    harness.transport.release()
