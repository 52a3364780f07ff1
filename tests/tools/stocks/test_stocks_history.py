"""Price history through the service: months, caching, resolution, validation, Yahoo ranges.

The clock is Friday 2026-09-04 14:00 Taipei. TWSE/TPEx months other than 2026-08/09 are the
synthesised ones of tests/support/replay_routes/stocks.py.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.support.clock import ManualClock
from tests.support.stocks import Harness
from tools.errors import InvalidInput
from tools.stocks.errors import UnknownSymbol

AUG_1, SEP_4 = date(2026, 8, 1), date(2026, 9, 4)


def twse_months(harness: Harness) -> list[str]:
    return [request.url.params["date"] for request in harness.transport.to("twse")]


async def test_two_months_of_2330_then_from_cache(harness: Harness) -> None:
    history = await harness.service.get_history("2330", start=AUG_1, end=SEP_4)
    assert history.market == "TWSE" and history.currency == "TWD"
    assert len(history.bars) == 25 and history.bars[0].date == date(2026, 8, 3) and history.bars[-1].date == SEP_4
    assert sorted(twse_months(harness)) == ["20260801", "20260901"]
    assert history.months_requested == 2 and history.months_from_cache == 0 and not history.cache.hit
    again = await harness.service.get_history("2330", start=date(2026, 8, 10), end=date(2026, 9, 2))
    assert len(twse_months(harness)) == 2  # no new request
    assert again.months_from_cache == 2 and again.cache.hit and again.cache.tier == "memory"
    assert again.bars[0].date == date(2026, 8, 10) and again.bars[-1].date == date(2026, 9, 2)


async def test_one_year_is_thirteen_months(harness: Harness) -> None:
    history = await harness.service.get_history("2330", period="1y")
    assert history.start == date(2025, 9, 4) and history.end == SEP_4
    assert len(twse_months(harness)) == 13 and history.months_requested == 13
    assert history.bars[0].date >= date(2025, 9, 4)


async def test_tpex_code_is_routed_by_mis_and_converted(harness: Harness) -> None:
    history = await harness.service.get_history("6488", start=AUG_1, end=date(2026, 8, 31))
    assert history.market == "TPEx" and twse_months(harness) == []
    assert history.bars[0].volume == 15_388_000 and history.bars[0].turnover == 13_694_380_000


async def test_market_probed_from_the_exchange_when_mis_is_down(harness: Harness) -> None:
    harness.transport.down.add("mis")
    history = await harness.service.get_history("2330", start=AUG_1, end=SEP_4)
    assert history.market == "TWSE" and len(history.bars) == 25
    assert sorted(twse_months(harness)) == ["20260801", "20260901"]  # the probe month was reused


async def test_current_month_served_stale_when_twse_is_down(harness: Harness, clock: ManualClock) -> None:
    await harness.service.get_history("2330", start=date(2026, 9, 1), end=SEP_4)
    clock.advance(700)  # the open month (600 s fresh) is stale now
    harness.transport.down.add("twse")
    history = await harness.service.get_history("2330", start=date(2026, 9, 1), end=SEP_4)
    assert len(history.bars) == 4 and history.cache.stale and history.cache.hit


async def test_unknown_code(harness: Harness) -> None:
    with pytest.raises(UnknownSymbol, match="'9999'"):
        await harness.service.get_history("9999", period="1mo")


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"start": SEP_4, "end": AUG_1}, "end_date", "before start_date"),
        ({"start": date(2009, 12, 1), "end": date(2010, 2, 1)}, "start_date", "2010-01-04"),
        ({"start": AUG_1, "period": "1mo"}, "period", "not both"),
        ({"start": date(2026, 10, 1)}, "start_date", "future"),
    ],
)
async def test_invalid_ranges_rejected_before_any_request(
    harness: Harness, kwargs: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        await harness.service.get_history("2330", **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field and harness.transport.requests == []


async def test_yahoo_daily_range(harness: Harness) -> None:
    history = await harness.service.get_history("AAPL", start=date(2020, 8, 31), end=date(2020, 11, 6))
    assert history.market == "Yahoo" and history.currency == "USD" and len(history.bars) == 49
    assert history.months_requested == 0
    await harness.service.get_history("aapl", start=date(2020, 8, 31), end=date(2020, 11, 6))
    assert len(harness.transport.to("yahoo")) == 1
    params = harness.transport.to("yahoo")[0].url.params
    assert (params["period1"], params["period2"], params["interval"]) == ("1598832000", "1604707200", "1d")
