"""Fixtures for the cache engine tests: a manual clock and a policy (``memory``, ``cache`` and
``make_cache`` come from ``tests/conftest.py`` and run on this clock)."""

from __future__ import annotations

import pytest

from cache.policy import CachePolicy
from tests.support.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_000_000.0)


@pytest.fixture
def policy() -> CachePolicy:
    return CachePolicy("ns", fresh_ttl=60.0, stale_ttl=600.0)
