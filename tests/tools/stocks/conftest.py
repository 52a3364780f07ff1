"""Fixtures for the stock tests: a manual clock in Taipei time and a route-backed service over the
memory-only ``cache`` of ``tests/conftest.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cache.engine.tiered import TieredCache
from tests.support.clock import ManualClock
from tests.support.recorded_upstream import RecordedUpstream, stocks_upstream
from tests.support.stocks import Harness, taipei

# Friday 2026-09-04 14:00 Taipei: after the close of the last recorded trading day.
AFTER_CLOSE = taipei(2026, 9, 4, 14, 0)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(AFTER_CLOSE)


@pytest.fixture
def transport() -> RecordedUpstream:
    return stocks_upstream()


@pytest.fixture
async def harness(transport: RecordedUpstream, cache: TieredCache, clock: ManualClock) -> AsyncIterator[Harness]:
    built = Harness(transport, cache, clock)
    yield built
    await built.aclose()
