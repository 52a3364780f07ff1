"""Fixtures: a manual clock, the recorded upstream, and a service over it and the memory-only
``cache`` of ``tests/conftest.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cache.engine.tiered import TieredCache
from tests.support.clock import ManualClock
from tests.support.recorded_upstream import RecordedUpstream, ctgov_upstream
from tests.support.trials import build_client, build_service
from tools.clinical_trials.service import TrialsService
from tools.http.client import UpstreamClient


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_800_000_000.0)


@pytest.fixture
def upstream() -> RecordedUpstream:
    return ctgov_upstream()


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
