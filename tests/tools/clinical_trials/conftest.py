"""Fixtures: a manual clock, a memory-only cache, the recorded upstream and a service over them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cache.backends.memory import MemoryBackend
from cache.engine.tiered import TieredCache
from tests.support.clock import ManualClock
from tests.tools.clinical_trials.recorded import RecordedUpstream, build_client, build_service
from tools.clinical_trials.service import TrialsService
from tools.http.client import UpstreamClient


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_800_000_000.0)


@pytest.fixture
async def cache(clock: ManualClock) -> AsyncIterator[TieredCache]:
    engine = TieredCache(MemoryBackend(max_entries=1000, max_bytes=10_000_000, clock=clock), clock=clock)
    yield engine
    await engine.aclose()


@pytest.fixture
def upstream() -> RecordedUpstream:
    return RecordedUpstream()


@pytest.fixture
async def http(upstream: RecordedUpstream, clock: ManualClock) -> AsyncIterator[UpstreamClient]:
    client = build_client(upstream, clock)
    yield client
    await client.aclose()


@pytest.fixture
async def service(http: UpstreamClient, cache: TieredCache, clock: ManualClock) -> AsyncIterator[TrialsService]:
    trials = build_service(http, cache, clock)
    yield trials
    await trials.aclose()
