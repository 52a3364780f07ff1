"""The redis-py client of the Redis tier for each topology: its pool, timeouts, retry and TLS.

- ``single``: one server from the URL (a pool of ``max_connections`` plus headroom).
- ``cluster``: :class:`redis.asyncio.RedisCluster` from seed nodes (the URL's host and/or
  ``nodes``); it discovers the rest, follows MOVED/ASK and refreshes its slot map on its own.
- ``sentinel``: :class:`redis.asyncio.sentinel.Sentinel` ``master_for(service_name)``: every
  new connection asks the sentinels for the current primary, so the client follows a failover.

Single-server and sentinel pools open :mod:`cache.backends.redis_connection`'s connections,
whose write timeout costs no task per command (cluster nodes keep redis-py's own).
No connection is made until the first command. A broken pooled connection is retried once on a
fresh one; timeouts are not retried, so a dead or slow server fails within about the socket
timeouts. Idle connections are PINGed before reuse after ``health_check_interval`` seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from redis.asyncio import ConnectionPool, Redis, RedisCluster
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from cache.backends.redis_connection import quick_writes
from cache.config import host_port

POOL_HEADROOM = 8  # pooled connections beyond max_connections, for pub/sub and other users of .client

RedisClient = Redis | RedisCluster
"""What the tier and its neighbours (locks, lease, events, shared hashes) talk to."""

Mode = Literal["single", "cluster", "sentinel"]


def connect(
    url: str | None,
    *,
    max_connections: int,
    socket_timeout: float,
    connect_timeout: float,
    health_check_interval: int,
    tls: Mapping[str, str] | None,
    mode: Mode = "single",
    nodes: Sequence[str] = (),
    sentinels: Sequence[str] = (),
    service_name: str = "mymaster",
) -> RedisClient:
    """A client for ``mode``; ``tls`` holds redis-py's ``ssl_*`` options for a ``rediss://`` URL
    (:meth:`~cache.config.RedisConfig.tls_options`). Raises ValueError for a malformed URL or
    address."""
    options: dict[str, Any] = {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": connect_timeout,
        "health_check_interval": health_check_interval,
        "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        **(tls or {}),
    }
    if mode == "cluster":
        return _cluster(url, nodes, max_connections, options)
    if mode == "sentinel":
        return _sentinel(url, sentinels, service_name, max_connections, options)
    if url is None:
        raise ValueError("a Redis URL is required")
    pool = ConnectionPool.from_url(url, max_connections=max_connections + POOL_HEADROOM, **options)
    quick_writes(pool)
    return Redis.from_pool(pool)


def _credentials(url: str | None) -> dict[str, Any]:
    """Username, password, db and TLS flag from ``url`` (its host is the caller's business)."""
    if url is None:
        return {}
    parts = urlsplit(url)
    found: dict[str, Any] = {}
    if parts.username:
        found["username"] = unquote(parts.username)
    if parts.password:
        found["password"] = unquote(parts.password)
    if parts.scheme == "rediss":
        found["ssl"] = True
    db = parts.path.strip("/")
    if db.isdigit() and int(db):
        found["db"] = int(db)
    return found


def _cluster(url: str | None, nodes: Sequence[str], max_connections: int, options: dict[str, Any]) -> RedisCluster:
    seeds = [ClusterNode(*host_port(node)) for node in nodes]
    if url is not None:
        parts = urlsplit(url)
        seeds.insert(0, ClusterNode(parts.hostname or "127.0.0.1", parts.port or 6379))
    credentials = _credentials(url)
    if credentials.pop("db", 0):
        raise ValueError("Redis Cluster has database 0 only: drop the /db from the URL")
    options = {key: value for key, value in options.items() if key != "retry"}
    return RedisCluster(
        startup_nodes=seeds,
        max_connections=max_connections + POOL_HEADROOM,  # per node
        require_full_coverage=False,  # a slot without a primary fails its own commands, not all
        **credentials,
        **options,
    )


def _sentinel(
    url: str | None, sentinels: Sequence[str], service_name: str, max_connections: int, options: dict[str, Any]
) -> Redis:
    credentials = _credentials(url)
    ssl = {key: value for key, value in options.items() if key.startswith("ssl")}
    watchers = Sentinel(  # type: ignore[no-untyped-call]  # redis-py leaves Sentinel.__init__ unannotated
        [host_port(address) for address in sentinels],
        sentinel_kwargs={
            "socket_timeout": options["socket_timeout"],
            "socket_connect_timeout": options["socket_connect_timeout"],
        },
        **{key: value for key, value in options.items() if not key.startswith("ssl")},
    )
    client: SentinelManaged = watchers.master_for(
        service_name,
        redis_class=SentinelManaged,
        max_connections=max_connections + POOL_HEADROOM,
        **credentials,
        **ssl,
    )
    quick_writes(client.connection_pool)
    client.sentinel_clients = list(watchers.sentinels)
    return client


class SentinelManaged(Redis):
    """The primary's client; closing it closes the connections to the sentinels too."""

    sentinel_clients: list[Redis] = []

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        for sentinel in self.sentinel_clients:
            await sentinel.aclose()
