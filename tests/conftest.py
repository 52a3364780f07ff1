"""Fixtures shared by every test package.

- ``redis_server`` (session), ``redis_url`` (a flushed throwaway server) and ``spawn_redis`` (a
  server of the test's own, to stop and restart): each spawns ``redis-server`` on a free loopback
  port. Without the binary the tests skip, unless ``TRIALSTOCK_REQUIRE_REDIS=1`` (CI) makes that
  a failure.
- ``redis_cluster`` and ``redis_sentinel`` (session: a 3+3 Redis Cluster, a primary + replica +
  3 sentinels) and ``redis_topology`` (each test once per topology: single, cluster, sentinel);
  see ``tests.support.redis_topologies``.
- ``clock``: a ManualClock (packages override it with a start time of their own).
- ``make_cache``: the engine factory (``tests.support.engine.CacheFactory``) on ``clock``; every
  engine it built is closed when the test ends.
- ``memory`` (a 1000-entry / 10 MB memory tier on ``clock``) and ``cache`` (a memory-only engine
  over it, built by ``make_cache``).
- ``replay``: the replay upstream (``tests.support.replay.ReplayServer``) serving the recorded
  routes on a free loopback port for the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from cache import MemoryBackend, TieredCache
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory, bounded_memory
from tests.support.redis_server import redis_server, redis_url, spawn_redis  # noqa: F401 - registers them
from tests.support.redis_topologies import redis_cluster, redis_sentinel, redis_topology  # noqa: F401
from tests.support.replay import ReplayServer


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def make_cache(clock: ManualClock) -> AsyncIterator[CacheFactory]:
    factory = CacheFactory(clock)
    yield factory
    await factory.aclose()


@pytest.fixture
def memory(clock: ManualClock) -> MemoryBackend:
    return bounded_memory(clock)


@pytest.fixture
def cache(make_cache: CacheFactory, memory: MemoryBackend) -> TieredCache:
    return make_cache(memory)


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        yield server
