"""Fixtures shared by every test package.

- ``redis_server`` (session), ``redis_url`` (a flushed throwaway server) and ``spawn_redis`` (a
  server of the test's own, to stop and restart): each spawns ``redis-server`` on a free loopback
  port. Without the binary the tests skip, unless ``TRIALSTOCK_REQUIRE_REDIS=1`` (CI) makes that
  a failure.
"""

from tests.support.redis_server import redis_server, redis_url, spawn_redis  # noqa: F401 - registers them
