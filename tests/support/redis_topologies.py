"""Pytest fixtures running Redis-backed suites on every topology (single, cluster, sentinel).

- ``redis_cluster`` and ``redis_sentinel`` (session: started once, torn down at the end; see
  :mod:`tests.support.redis_deployments`), registered in ``tests/conftest.py``;
- ``redis_topology`` (function, parametrized over single, cluster and sentinel): a
  :class:`Topology` on emptied servers; :func:`topology_fixture` gives the same to a fixture
  with params of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from redis.asyncio import RedisCluster

from cache.backends.redis import RedisBackend
from cache.backends.redis_client import RedisClient, connect
from cache.config import RedisConfig
from tests.support.redis_deployments import (
    ClusterServers,
    SentinelServers,
    cli,
    info_fields,
    redis_env,
)
from tests.support.redis_server import require_redis_binary

__all__ = [
    "TOPOLOGIES",
    "ClusterServers",
    "SentinelServers",
    "Topology",
    "cli",
    "config_from_json",
    "info_fields",
    "publish",
    "redis_cluster",
    "redis_sentinel",
    "redis_topology",
    "topology_fixture",
]

TOPOLOGIES = ("single", "cluster", "sentinel")


@dataclass(frozen=True)
class Topology:
    """One Redis deployment a test runs against: its name, the settings that reach it, and
    the servers behind it (a :class:`RedisServer`, :class:`ClusterServers` or
    :class:`SentinelServers`)."""

    name: str
    config: RedisConfig
    servers: Any

    def backend(self, **kwargs: Any) -> RedisBackend:
        """A RedisBackend on this topology (``prefix``, ``clock``... passed on)."""
        c = self.config
        url = c.url.get_secret_value() if c.url is not None else None
        return RedisBackend.from_url(
            url, mode=c.mode, nodes=c.nodes, sentinels=c.sentinels, service_name=c.service_name, **kwargs
        )

    def client(self, **kwargs: Any) -> RedisClient:
        """A raw redis-py client on this topology (generous timeouts); the caller closes it."""
        c = self.config
        options: dict[str, Any] = {
            "max_connections": 8,
            "socket_timeout": 5.0,
            "connect_timeout": 5.0,
            "health_check_interval": 30,
            "tls": None,
            **kwargs,
        }
        url = c.url.get_secret_value() if c.url is not None else None
        return connect(url, mode=c.mode, nodes=c.nodes, sentinels=c.sentinels, service_name=c.service_name, **options)

    def env(self) -> dict[str, str]:
        """The settings as the environment of a server, worker or CLI process."""
        return redis_env(self.config)

    def config_json(self) -> str:
        """The settings as JSON (with the URL in clear), for a child process's argv."""
        data = self.config.model_dump(mode="json", exclude={"url"})
        data["url"] = self.config.url.get_secret_value() if self.config.url is not None else None
        return json.dumps(data)


def config_from_json(text: str, **overrides: Any) -> RedisConfig:
    """The inverse of :meth:`Topology.config_json` (used by child processes)."""
    return RedisConfig(**{**json.loads(text), **overrides})


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[ClusterServers]:
    """A 3-primary, 1-replica-each Redis Cluster for the whole session (skip or fail when the
    binaries are missing, as for ``redis_server``). Tests that kill nodes must restart them and
    call :meth:`ClusterServers.wait_healthy`."""
    require_redis_binary()
    with ClusterServers() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def redis_sentinel() -> Iterator[SentinelServers]:
    """One primary, one replica and three sentinels for the whole session."""
    require_redis_binary()
    with SentinelServers() as sentinel:
        yield sentinel


@pytest.fixture(params=[pytest.param(name, marks=pytest.mark.redis) for name in TOPOLOGIES])
def redis_topology(request: pytest.FixtureRequest) -> Topology:
    """Each test runs once per topology (single, cluster, sentinel), on emptied servers."""
    return topology_fixture(request, request.param)


def topology_fixture(request: pytest.FixtureRequest, name: str) -> Topology:
    """The :class:`Topology` ``name`` for the requesting test (for suites with params of their own)."""
    if name == "single":
        url = request.getfixturevalue("redis_url")
        return Topology(name, RedisConfig(url=url), request.getfixturevalue("redis_server"))
    servers = request.getfixturevalue(f"redis_{name}")
    servers.wait_healthy()
    servers.flushall()
    return Topology(name, servers.redis_config(), servers)


async def publish(client: RedisClient, channel: str, payload: bytes) -> None:
    """PUBLISH as the event bus does on this client's topology (SPUBLISH on a cluster)."""
    if isinstance(client, RedisCluster):
        await client.spublish(channel, payload)
    else:
        await client.publish(channel, payload)
