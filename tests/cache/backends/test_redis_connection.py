"""The Redis tier's connections (cache.backends.redis_connection) against a frozen server.

A paused redis-server (SIGSTOP) keeps its sockets open and answers nothing: reads and writes
must fail within about the socket timeout, and a command cancelled half way must never leave
its connection in the pool with a reply still to come or half a command sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable

import pytest

from cache.backends.base import BackendError
from cache.backends.redis import RedisBackend
from cache.backends.redis_connection import QuickConnection
from cache.entry import Record
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.redis

BOUND = 5.0  # a bound, not a measurement: a failure must come, not hang
BIG = 64 * 1024 * 1024  # more than loopback socket buffers hold: the write cannot drain


class SpiedConnection(QuickConnection):
    """Signals when a command is being written and when its reply is awaited."""

    writing: asyncio.Event
    reading: asyncio.Event
    seen: list[QuickConnection]

    async def send_packed_command(self, command: bytes | str | Iterable[bytes], check_health: bool = True) -> None:
        self.seen.append(self)
        self.writing.set()
        await super().send_packed_command(command, check_health)

    async def read_response(self, *args: object, **kwargs: object) -> object:
        self.reading.set()
        return await super().read_response(*args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def spied(spawn_redis: Callable[..., RedisServer]) -> AsyncIterator[tuple[RedisServer, RedisBackend]]:
    """A private server and a backend on it (socket timeout 0.2 s) whose connections are spied on."""
    server = spawn_redis()
    backend = RedisBackend.from_url(server.url, socket_timeout=0.2, connect_timeout=0.5)
    spy = type("Spy", (SpiedConnection,), {"writing": asyncio.Event(), "reading": asyncio.Event(), "seen": []})
    backend.client.connection_pool.connection_class = spy
    await backend.set_many([Record("a", b"A", 4e9), Record("b", b"B", 4e9)])
    try:
        yield server, backend
    finally:
        server.resume()
        await backend.aclose()


def _frozen(spied: tuple[RedisServer, RedisBackend]) -> tuple[RedisServer, RedisBackend, type[SpiedConnection]]:
    """The server paused (SIGSTOP), the backend, and its connection spy with nothing seen yet."""
    server, backend = spied
    spy: type[SpiedConnection] = backend.client.connection_pool.connection_class
    spy.writing.clear()
    spy.reading.clear()
    spy.seen.clear()
    server.pause()
    return server, backend, spy


async def test_a_frozen_server_fails_a_read_within_the_socket_timeout(
    spied: tuple[RedisServer, RedisBackend],
) -> None:
    server, backend, spy = _frozen(spied)
    async with asyncio.timeout(BOUND):
        with pytest.raises(BackendError, match="Timeout reading"):
            await backend.get_many(["a"])
    assert not spy.seen[-1].is_connected  # dropped: its late reply can never be read as another's
    server.resume()
    assert await backend.get_many(["b", "a"]) == {"b": b"B", "a": b"A"}


async def test_a_write_that_cannot_drain_fails_within_the_socket_timeout(
    spied: tuple[RedisServer, RedisBackend],
) -> None:
    server, backend, spy = _frozen(spied)
    async with asyncio.timeout(BOUND):
        with pytest.raises(BackendError, match="Timeout writing"):
            await backend.set_many([Record("big", b"x" * BIG, 4e9)])
    assert not spy.seen[-1].is_connected  # half a command was sent: the connection goes
    server.resume()
    assert await backend.get_many(["a", "big"]) == {"a": b"A"}


async def test_a_read_cancelled_while_the_reply_is_due_leaves_no_reply_behind(
    spied: tuple[RedisServer, RedisBackend],
) -> None:
    server, backend, spy = _frozen(spied)
    read = asyncio.create_task(backend.get_many(["a"]))
    await spy.reading.wait()
    read.cancel()
    with pytest.raises(asyncio.CancelledError):
        await read
    assert not spy.seen[-1].is_connected
    server.resume()  # the reply to the cancelled MGET is sent now, to a closed socket
    for _ in range(3):  # every pooled connection answers its own command
        assert await backend.get_many(["b"]) == {"b": b"B"}


async def test_a_write_cancelled_half_way_does_not_go_back_to_the_pool(
    spied: tuple[RedisServer, RedisBackend],
) -> None:
    server, backend, spy = _frozen(spied)
    write = asyncio.create_task(backend.set_many([Record("big", b"x" * BIG, 4e9)]))
    await spy.writing.wait()  # the task runs on into drain, which waits: the server reads nothing
    write.cancel()
    with pytest.raises(asyncio.CancelledError):
        await write
    assert not spy.seen[-1].is_connected
    server.resume()
    async with asyncio.timeout(BOUND):  # a reused half-sent connection would swallow this as value bytes
        await backend.set_many([Record("c", b"C", 4e9)])
        assert await backend.get_many(["c", "big", "a"]) == {"c": b"C", "a": b"A"}
