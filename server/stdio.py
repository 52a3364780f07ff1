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
started is never answered. So :class:`~server.stdio_drain.Unanswered` sits between the
transport and the loop and holds the end of stdin back until every request read is answered
(or cancelled by the client), for at most the drain timeout
(``TRIALSTOCK_TRANSPORT__STDIO_DRAIN_TIMEOUT``); what still runs then gets the SDK's
"Connection closed". A signal during that wait still stops the server at once, and a closed
stdout ends it quietly as before. The process's state (cache, HTTP clients, background tasks)
is entered before the loop and closed after it, outside the cancel scope, within
``SHUTDOWN_TIMEOUT`` seconds.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import anyio
from mcp.server.stdio import stdio_server

from server.app import App
from server.stdio_drain import Unanswered

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
