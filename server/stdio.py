"""Serve MCP over stdio so that the process always ends: at once on the first SIGINT or SIGTERM,
and, when the client closes stdin, once the requests already read are answered.

The SDK's own stdio loop reads stdin in a worker thread that a cancel cannot interrupt: a
Ctrl-C waited for the next input line (three presses and a traceback). Here stdin is read by a
daemon thread that never holds the process, and the protocol loop runs in a cancel scope that a
signal cancels at once.

The end of stdin is how a stdio client says goodbye (it then waits for the exit, then sends
SIGTERM, then SIGKILL), and a client may write its requests and close stdin at once
(``printf '...' | trialstock-mcp serve``). The SDK's dispatcher, at the end of its read stream,
cancels every request in flight: one already running is answered "Connection closed", one not yet
started is never answered. So :class:`Unanswered` sits between the transport and the loop: it
counts the requests read and the answers written, and holds the end of stdin back from the loop
until every request read is answered (or cancelled by the client), for at most the drain timeout
(``TRIALSTOCK_TRANSPORT__STDIO_DRAIN_TIMEOUT``); what still runs then gets the SDK's
"Connection closed". A signal during that wait still stops the server at once, and a closed
stdout ends it quietly as before. The process's state (cache, HTTP clients, background tasks) is entered
before the loop and closed after it, outside the cancel scope, within ``SHUTDOWN_TIMEOUT`` seconds.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from types import TracebackType

import anyio
from mcp.server.stdio import stdio_server
from mcp.shared._stream_protocols import ReadStream, WriteStream
from mcp.shared.dispatcher import coerce_request_id
from mcp.shared.jsonrpc_dispatcher import cancelled_request_id_from_params
from mcp.shared.message import SessionMessage
from mcp.types import JSONRPCError, JSONRPCNotification, JSONRPCRequest, JSONRPCResponse, RequestId

from server.app import App

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = 5.0
EXIT_INTERRUPTED = 130
_CHUNK = 64 * 1024


class StdinLines:
    """``async for line in StdinLines(fd)``: the lines of a file descriptor, read by a daemon
    thread; the iteration ends at EOF. Waiting for a line can always be cancelled.

    The thread reads the descriptor with ``os.read``, not through ``sys.stdin``: a daemon thread
    blocked inside a buffered reader holds its lock, and the interpreter aborts when it tries to
    close that reader at exit."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        threading.Thread(target=self._pump, name="stdin-reader", daemon=True).start()

    def _pump(self) -> None:
        pending = b""
        try:
            while chunk := os.read(self._fd, _CHUNK):
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    self._post(line.decode("utf-8", errors="replace") + "\n")
            if pending:
                self._post(pending.decode("utf-8", errors="replace"))
        except OSError:  # the descriptor was closed under us: same as EOF
            pass
        finally:
            self._post(None)

    def _post(self, line: str | None) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, line)
        except RuntimeError:  # the loop is closed: the process is ending anyway
            pass

    async def __aiter__(self) -> AsyncIterator[str]:
        while (line := await self._queue.get()) is not None:
            yield line


class Unanswered:
    """The client's requests read and not yet answered, so that the end of stdin can wait for
    their answers. :meth:`reading` and :meth:`writing` wrap the transport's two streams for the
    protocol loop; a request counts from the moment the loop reads it until its answer is handed
    to the stdout writer, or until the client cancels it (the server then never answers it)."""

    def __init__(self, drain_timeout: float) -> None:
        self._drain_timeout = drain_timeout
        self._open: Counter[RequestId] = Counter()  # ids may repeat: one count per request
        self._all_answered: anyio.Event | None = None  # set while the end of stdin waits

    def reading(self, stream: ReadStream[SessionMessage | Exception]) -> _Reading:
        return _Reading(stream, self)

    def writing(self, stream: WriteStream[SessionMessage]) -> _Writing:
        return _Writing(stream, self)

    def read(self, item: SessionMessage | Exception) -> None:
        message = item.message if isinstance(item, SessionMessage) else None
        if isinstance(message, JSONRPCRequest):
            self._open[coerce_request_id(message.id)] += 1
        elif isinstance(message, JSONRPCNotification) and message.method == "notifications/cancelled":
            self._settle(cancelled_request_id_from_params(message.params))

    def written(self, item: SessionMessage) -> None:
        if isinstance(item.message, JSONRPCResponse | JSONRPCError):
            self._settle(item.message.id)

    async def drain(self) -> None:
        """At the end of stdin: wait until every request read is answered, or the drain timeout."""
        if not self._open:
            return
        log.info("stdin closed with %d request(s) unanswered; answering them first", self._open.total())
        self._all_answered = anyio.Event()
        with anyio.move_on_after(self._drain_timeout):
            await self._all_answered.wait()
        if self._open:
            log.warning(
                "%d request(s) still unanswered after %.1f s; they are answered 'Connection closed'",
                self._open.total(),
                self._drain_timeout,
            )

    def _settle(self, request_id: RequestId | None) -> None:
        if request_id is None or (key := coerce_request_id(request_id)) not in self._open:
            return
        self._open[key] -= 1
        if self._open[key] == 0:
            del self._open[key]
        if not self._open and self._all_answered is not None:
            self._all_answered.set()


class _Reading:
    """The transport's read stream as the protocol loop sees it: counted, and its end held back
    by :meth:`Unanswered.drain`. ``last_context`` is passed on (the SDK reads it by duck typing)."""

    def __init__(self, inner: ReadStream[SessionMessage | Exception], unanswered: Unanswered) -> None:
        self._inner = inner
        self._unanswered = unanswered

    @property
    def last_context(self) -> object:
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> SessionMessage | Exception:
        try:
            item = await self._inner.receive()
        except anyio.EndOfStream:
            await self._unanswered.drain()
            raise
        self._unanswered.read(item)
        return item

    def __aiter__(self) -> _Reading:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> _Reading:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class _Writing:
    """The transport's write stream as the protocol loop sees it: each answer handed on is counted."""

    def __init__(self, inner: WriteStream[SessionMessage], unanswered: Unanswered) -> None:
        self._inner = inner
        self._unanswered = unanswered

    async def send(self, item: SessionMessage, /) -> None:
        await self._inner.send(item)
        self._unanswered.written(item)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> _Writing:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


async def serve_stdio(app: App, *, drain_timeout: float, stdin_fd: int = 0) -> int:
    """Serve until stdin ends and the requests read are answered, for at most ``drain_timeout``
    seconds (exit 0), or until SIGTERM (0) or SIGINT (130)."""
    stack = AsyncExitStack()
    await stack.enter_async_context(app.lifespan(app.mcp))  # one state for the process
    exit_code = 0
    try:
        with anyio.CancelScope() as scope, anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:

            async def stop_on_signal() -> None:
                nonlocal exit_code
                async for received in signals:
                    log.info("stopping on %s", signal.Signals(received).name)
                    exit_code = EXIT_INTERRUPTED if received == signal.SIGINT else 0
                    scope.cancel()
                    return

            lines = StdinLines(stdin_fd)
            try:
                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(stop_on_signal)
                    # The SDK types stdin as anyio.AsyncFile[str] but only iterates it, as StdinLines allows.
                    async with stdio_server(stdin=lines) as (read_stream, write_stream):  # type: ignore[arg-type]
                        unanswered = Unanswered(drain_timeout)
                        # The SDK runs a connection only through its low-level server object.
                        lowlevel = app.mcp._lowlevel_server
                        await lowlevel.run(
                            unanswered.reading(read_stream),
                            unanswered.writing(write_stream),
                            lowlevel.create_initialization_options(),
                        )
                    log.info("the client closed stdin; stopping")
                    scope.cancel()  # ends stop_on_signal
            except* BrokenPipeError:
                log.info("the client closed stdout; stopping")
                _silence_stdout()
    finally:
        with anyio.move_on_after(SHUTDOWN_TIMEOUT, shield=True) as closing:
            await stack.aclose()
        if closing.cancelled_caught:
            log.warning("shutdown took longer than %.0f s; exiting without waiting further", SHUTDOWN_TIMEOUT)
    return exit_code


def _silence_stdout() -> None:
    """Point fd 1 at /dev/null, so that the interpreter's last flush of the dead pipe does not
    print "Exception ignored ... BrokenPipeError" on the way out (as the Python docs advise)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, io.UnsupportedOperation):  # no real stdout (captured): nothing to flush
        pass
