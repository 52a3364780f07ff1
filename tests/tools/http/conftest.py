"""Fixtures for the HTTP-layer tests: a manual clock (also the clients' monotonic clock and sleep)."""

from __future__ import annotations

import pytest

from tests.support.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1000.0)
