"""A Redis that goes away: ping says False, operations fail fast as BackendError, and it recovers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from cache.backends.base import BackendError
from cache.backends.redis import RedisBackend
from cache.backends.redis_lock import RedisLocker
from cache.entry import Record
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.redis


async def test_stop_then_start_again(spawn_redis: Callable[..., RedisServer]) -> None:
    server = spawn_redis()
    backend = RedisBackend.from_url(server.url, socket_timeout=0.25, connect_timeout=0.25)
    locker = RedisLocker(backend)
    try:
        await backend.set_many([Record("k", b"v", 4e9)])
        assert await backend.get_many(["k"]) == {"k": b"v"}

        server.stop()
        async with asyncio.timeout(3):  # a bound, not a measurement: failures must not hang
            assert await backend.ping() is False
            operations = (
                lambda: backend.get_many(["k"]),
                lambda: backend.set_many([Record("k", b"v", 4e9)]),
                lambda: backend.delete_many(["k"]),
                lambda: backend.match("*"),
                lambda: backend.tagged(["t"]),
                lambda: backend.clear(),
                lambda: locker.acquire("k", 1.0),
            )
            for operation in operations:
                with pytest.raises(BackendError, match="Redis"):
                    await operation()

        server.start()
        assert await backend.ping() is True
        await backend.set_many([Record("k2", b"v2", 4e9)])
        assert await backend.get_many(["k", "k2"]) == {"k2": b"v2"}  # a fresh server: k is gone
    finally:
        await backend.aclose()


async def test_closed_backend_refuses_work() -> None:
    backend = RedisBackend.from_url("redis://127.0.0.1:1/0")
    await backend.aclose()
    assert await backend.ping() is False
    with pytest.raises(BackendError, match="closed"):
        await backend.get_many(["k"])
