"""Redis over TLS with a CA file and a client certificate from the cache's RedisConfig, and a
health check that writes: a node that answers PING but refuses writes is not healthy."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from cache import CachePolicy, EngineConfig, RedisBackend, RedisConfig, TieredCache, build_cache
from tests.support.redis_server import RedisServer
from tests.support.tls import TlsRedis, make_tls_files, tls_redis  # noqa: F401 - registers the fixture

POLICY = CachePolicy("tls.test", fresh_ttl=60, stale_ttl=60)
BuildCache = Callable[[RedisConfig], Awaitable[TieredCache]]


def tls_config(redis: TlsRedis, ca: Path | None = None) -> RedisConfig:
    return RedisConfig(
        url=redis.url,  # type: ignore[arg-type] - validated into a SecretStr
        tls_ca_file=ca or redis.files.ca,
        tls_cert_file=redis.files.client_cert,
        tls_key_file=redis.files.client_key,
    )


@pytest.fixture
async def caches() -> AsyncIterator[BuildCache]:
    """Engines on a RedisConfig (no SQLite tier; a tier timeout roomy enough for TLS handshakes)."""
    built: list[TieredCache] = []

    async def build(config: RedisConfig) -> TieredCache:
        cache = await build_cache(EngineConfig(tier_timeout=2.0), sqlite=None, redis=config)
        built.append(cache)
        return cache

    yield build
    for cache in built:
        await cache.aclose()


@pytest.mark.redis
async def test_the_engine_stores_and_reads_through_redis_over_tls(tls_redis: TlsRedis, caches: BuildCache) -> None:  # noqa: F811
    writer = await caches(tls_config(tls_redis))
    assert await writer.ping() == {"memory": True, "redis": True}
    await writer.set("tls.test:k", {"over": "tls"}, POLICY)
    reader = await caches(tls_config(tls_redis))  # an empty memory tier: the value comes from Redis
    found = await reader.get("tls.test:k")
    assert found is not None and found.value == {"over": "tls"}
    assert found.meta.tier == "redis"


@pytest.mark.redis
async def test_a_wrong_ca_is_a_tier_that_does_not_answer(
    tls_redis: TlsRedis,  # noqa: F811 - the fixture
    caches: BuildCache,
    tmp_path: Path,
) -> None:
    other = make_tls_files(tmp_path / "other", name="other")
    cache = await caches(tls_config(tls_redis, ca=other.ca))
    assert await cache.ping() == {"memory": True, "redis": False}

    async def load() -> str:
        return "from the loader"

    result = await cache.get_or_fetch("tls.test:k", load, POLICY)  # degrades, never raises
    assert result.value == "from the loader"


def test_tls_files_must_exist_go_together_and_need_rediss(tmp_path: Path) -> None:
    files = make_tls_files(tmp_path)
    url = "rediss://127.0.0.1:6380/0"
    with pytest.raises(ValidationError, match="no such file"):
        RedisConfig(url=url, tls_ca_file=tmp_path / "missing.pem")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="tls_key_file"):
        RedisConfig(url=url, tls_cert_file=files.client_cert)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="tls_cert_file"):
        RedisConfig(url=url, tls_key_file=files.client_key)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="rediss://"):
        RedisConfig(url="redis://127.0.0.1:6379/0", tls_ca_file=files.ca)  # type: ignore[arg-type]
    assert RedisConfig(url=url, tls_ca_file=files.ca).tls_ca_file == files.ca  # type: ignore[arg-type]


@pytest.mark.redis
async def test_a_node_that_answers_ping_but_refuses_writes_is_not_healthy(
    spawn_redis: Callable[..., RedisServer],
) -> None:
    server = spawn_redis()
    reply = server.command("ACL", "SETUSER", "probe", "on", ">probe-pw", "~*", "&*", "+@all", "-@write")
    assert reply.startswith(b"+OK"), reply
    replica = spawn_redis(extra_args=["--replicaof", "127.0.0.1", str(server.port)])  # read-only by default
    # A generous connect timeout: this is about health, not about a busy machine's slow connects.
    urls = {
        "writer": server.url,
        "acl without writes": f"redis://probe:probe-pw@127.0.0.1:{server.port}/0",
        "read-only replica": replica.url,
    }
    backends = {name: RedisBackend.from_url(url, connect_timeout=5.0, socket_timeout=5.0) for name, url in urls.items()}
    try:
        for backend in backends.values():
            assert await backend.client.ping() is True  # PING alone would call all of them healthy
        assert {name: await backend.ping() for name, backend in backends.items()} == {
            "writer": True,
            "acl without writes": False,
            "read-only replica": False,
        }
        assert await backends["writer"].match("*") == []  # the probe's key is not a cache entry
    finally:
        for backend in backends.values():
            await backend.aclose()
