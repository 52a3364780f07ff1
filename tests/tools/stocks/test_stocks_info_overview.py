"""get_info, market_overview and analyze through the service (clock: Fri 2026-09-04 14:00 Taipei).

The index entries are synthesised in the recorded msgArray shape (no MIS index recording exists):
TAIEX 20915.33 against 20801.12, TPEx index 251.45 against 253.01.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.support.clock import ManualClock
from tests.support.stocks import Harness
from tools.http.errors import Unavailable
from tools.stocks.errors import UnknownSymbol


async def test_taiwan_info_from_mis_and_cached(harness: Harness) -> None:
    info = await harness.service.get_info("2330")
    assert (info.name, info.full_name, info.market) == ("台積電", "台灣積體電路製造股份有限公司", "TWSE")
    assert (info.currency, info.limit_up, info.limit_down) == ("TWD", 922.0, 756.0)
    assert info.cache is not None and not info.cache.hit
    again = await harness.service.get_info("2330")
    assert again.cache is not None and again.cache.hit and len(harness.transport.to("mis")) == 1


async def test_yahoo_info_and_unknown(harness: Harness) -> None:
    info = await harness.service.get_info("OCDO.L")
    assert info.market == "Yahoo" and info.currency == "GBp" and info.timezone == "Europe/London"
    with pytest.raises(UnknownSymbol):
        await harness.service.get_info("NOSUCH")
    with pytest.raises(UnknownSymbol, match="TPEx"):
        await harness.service.get_info("2330", market="tpex")


async def test_market_overview(harness: Harness, clock: ManualClock) -> None:
    overview = await harness.service.market_overview()
    taiex, tpex = overview.indices
    assert (taiex.code, taiex.market, taiex.value) == ("t00", "TWSE", 20915.33)
    assert taiex.change == pytest.approx(114.21) and taiex.change_percent == pytest.approx(0.5491, abs=1e-4)
    assert (tpex.code, tpex.market, tpex.value, tpex.change) == ("o00", "TPEx", 251.45, pytest.approx(-1.56))
    assert not overview.trading_now
    assert harness.transport.channels() == [["tse_t00.tw", "otc_o00.tw"]]
    clock.advance(3600)
    harness.transport.down.add("mis")
    cached = await harness.service.market_overview()
    assert cached.cache.hit and cached.cache.age_seconds == 3600.0
    assert all(index.cache == cached.cache for index in cached.indices)  # each level says how fresh it is
    levels = [index.model_dump(exclude={"cache"}) for index in cached.indices]
    assert levels == [index.model_dump(exclude={"cache"}) for index in overview.indices]


async def test_overview_without_cache_reports_the_outage(harness: Harness) -> None:
    harness.transport.down.add("mis")
    with pytest.raises(Unavailable):
        await harness.service.market_overview()


async def test_analyze_reads_four_months(harness: Harness) -> None:
    report = await harness.service.analyze("2330", days=5)
    months = sorted(request.url.params["date"] for request in harness.transport.to("twse"))
    assert months == ["20260601", "20260701", "20260801", "20260901"]
    assert report.as_of == date(2026, 9, 4) and report.market == "TWSE"
    assert report.moving_averages.ma60 is not None and report.bars_used > 60
    assert len(report.signals) == 5 and report.latest_signal == report.signals[-1].signal
    assert report.signals[-1].date == date(2026, 9, 4)
