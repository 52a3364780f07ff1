"""The redis-py client of the Redis tier: its pool, timeouts, retry and TLS.

No connection is made until the first command. A broken pooled connection is retried once on a
fresh one; timeouts are not retried, so a dead or slow server fails within about the socket
timeouts. Idle connections are PINGed before reuse after ``health_check_interval`` seconds.
"""

from __future__ import annotations

from collections.abc import Mapping

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

POOL_HEADROOM = 8  # pooled connections beyond max_connections, for pub/sub and other users of .client


def connect(
    url: str,
    *,
    max_connections: int,
    socket_timeout: float,
    connect_timeout: float,
    health_check_interval: int,
    tls: Mapping[str, str] | None,
) -> Redis:
    """A client on ``url``; ``tls`` holds redis-py's ``ssl_*`` options for a ``rediss://`` URL
    (:meth:`~cache.config.RedisConfig.tls_options`). Raises ValueError for a malformed URL."""
    pool = ConnectionPool.from_url(
        url,
        max_connections=max_connections + POOL_HEADROOM,
        socket_timeout=socket_timeout,
        socket_connect_timeout=connect_timeout,
        health_check_interval=health_check_interval,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        **(tls or {}),
    )
    return Redis.from_pool(pool)
