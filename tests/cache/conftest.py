"""Fixtures for the cache engine tests: a manual clock, memory tiers and a memory-only cache."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cache.backends.memory import MemoryBackend
from cache.engine.tiered import TieredCache
from cache.policy import CachePolicy
from tests.support.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_000_000.0)


@pytest.fixture
def memory(clock: ManualClock) -> MemoryBackend:
    return MemoryBackend(max_entries=1000, max_bytes=10_000_000, clock=clock)


@pytest.fixture
def policy() -> CachePolicy:
    return CachePolicy("ns", fresh_ttl=60.0, stale_ttl=600.0)


@pytest.fixture
async def cache(memory: MemoryBackend, clock: ManualClock) -> AsyncIterator[TieredCache]:
    engine = TieredCache(memory, clock=clock)
    yield engine
    await engine.aclose()
