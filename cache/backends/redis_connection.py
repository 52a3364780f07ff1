"""redis-py connections whose write timeout costs no task: the Redis tier's pools use them.

redis-py 8.1's ``AbstractConnection.send_packed_command`` bounds each command's write with
``asyncio.wait_for`` whenever ``socket_timeout`` is set. On Python 3.11 ``wait_for`` wraps the
write in a task of its own: three extra event-loop rounds per command (the task's first step,
its done callback, the caller's wake-up), about as much as the rest of a one-key MGET costs the
client. The write itself is ``writelines`` (never waits) then ``drain``, which waits only when
the transport is paused, i.e. when the kernel did not take the bytes. So here the bytes are
written at once and ``drain`` is bounded by ``asyncio.timeout`` (a timer, no task) only when
some are still buffered; otherwise it returns at once (or raises for a lost connection).

What stays redis-py's: connecting and the health check before a command, the reply read (under
its own ``asyncio.timeout`` of ``socket_timeout``, disconnecting on timeout and cancellation),
and what a failed write does: a timeout disconnects and raises redis-py's ``TimeoutError``, an
``OSError`` disconnects and raises its ``ConnectionError``, and any other exception (a
cancellation among them) disconnects before propagating, so a half-sent command never goes back
to the pool. Unlike redis-py, a failed write also aborts the transport: bytes a frozen server
never took are dropped with the socket instead of holding it open.

:func:`quick_writes` swaps a pool's connection class for its counterpart here (plain TCP, TLS,
unix socket, sentinel-managed); an unknown class is left alone. Cluster clients keep redis-py's
classes: :class:`redis.asyncio.RedisCluster` fixes its nodes' connection class itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from redis.asyncio.connection import (
    AbstractConnection,
    Connection,
    ConnectionPool,
    SSLConnection,
    UnixDomainSocketConnection,
)
from redis.asyncio.sentinel import SentinelManagedConnection, SentinelManagedSSLConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


async def send_packed(
    conn: AbstractConnection, command: bytes | str | Iterable[bytes], check_health: bool = True
) -> None:
    """``conn.send_packed_command`` with the same outcomes, the write bounded without a task."""
    if not conn.is_connected:
        await conn.connect_check_health(check_health=False)
    if check_health:
        await conn.check_health()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
    if isinstance(command, str):
        command = command.encode()
    if isinstance(command, bytes):
        command = [command]
    writer = conn._writer  # redis-py's own method writes to the same stream
    if writer is None:  # connected above: only a concurrent disconnect leaves none
        raise RedisConnectionError("Connection closed before the command was written")
    try:
        writer.writelines(command)
        if conn.socket_timeout and writer.transport.get_write_buffer_size():
            async with asyncio.timeout(conn.socket_timeout):  # bytes left over: drain may wait
                await writer.drain()
        else:
            await writer.drain()  # nothing buffered: the transport is not paused, no wait
    except TimeoutError:
        await _drop(conn, writer)
        raise RedisTimeoutError("Timeout writing to socket") from None
    except OSError as exc:
        await _drop(conn, writer)
        err_no, message = ("UNKNOWN", exc.args[0]) if len(exc.args) == 1 else exc.args[:2]
        raise RedisConnectionError(f"Error {err_no} while writing to socket. {message}.") from exc
    except BaseException:  # cancelled mid-write: the command may be half sent, never reuse it
        await _drop(conn, writer)
        raise


async def _drop(conn: AbstractConnection, writer: asyncio.StreamWriter) -> None:
    """Close the connection now, discarding what is still buffered (redis-py's ``close`` alone
    would keep the socket open until a stuck server took those bytes)."""
    writer.transport.abort()
    await conn.disconnect(nowait=True)


class QuickConnection(Connection):
    """TCP connection; writes through :func:`send_packed`."""

    async def send_packed_command(self, command: bytes | str | Iterable[bytes], check_health: bool = True) -> None:
        await send_packed(self, command, check_health)


class QuickSSLConnection(SSLConnection):
    """TLS connection; writes through :func:`send_packed`."""

    async def send_packed_command(self, command: bytes | str | Iterable[bytes], check_health: bool = True) -> None:
        await send_packed(self, command, check_health)


class QuickUnixConnection(UnixDomainSocketConnection):
    """Unix-socket connection; writes through :func:`send_packed`."""

    async def send_packed_command(self, command: bytes | str | Iterable[bytes], check_health: bool = True) -> None:
        await send_packed(self, command, check_health)


class QuickSentinelConnection(SentinelManagedConnection):
    """Connection to the primary a sentinel names; writes through :func:`send_packed`."""

    async def send_packed_command(self, command: bytes | str | Iterable[bytes], check_health: bool = True) -> None:
        await send_packed(self, command, check_health)


class QuickSentinelSSLConnection(SentinelManagedSSLConnection):
    """TLS connection to the primary a sentinel names; writes through :func:`send_packed`."""

    async def send_packed_command(self, command: bytes | str | Iterable[bytes], check_health: bool = True) -> None:
        await send_packed(self, command, check_health)


_QUICK: dict[type[AbstractConnection], type[AbstractConnection]] = {
    Connection: QuickConnection,
    SSLConnection: QuickSSLConnection,
    UnixDomainSocketConnection: QuickUnixConnection,
    SentinelManagedConnection: QuickSentinelConnection,
    SentinelManagedSSLConnection: QuickSentinelSSLConnection,
}


def quick_writes(pool: ConnectionPool) -> None:
    """Make ``pool`` open :func:`send_packed` connections from now on (call before its first
    command; a connection class other than redis-py's stock ones is kept)."""
    pool.connection_class = _QUICK.get(pool.connection_class, pool.connection_class)
