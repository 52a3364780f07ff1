"""``Unanswered``: the requests a stdio client sent and has not had answered yet, so that the
end of its stdin can wait for their answers (:mod:`server.stdio`).

The SDK's dispatcher, at the end of its read stream, cancels every request in flight: one
already running is answered "Connection closed", one not yet started is never answered. The
wrappers here sit between the transport and the protocol loop: they count the requests read and
the answers written, and hold the end of stdin back from the loop until every request read is
answered (or cancelled by the client), for at most the drain timeout.
"""

from __future__ import annotations

import logging
from collections import Counter
from types import TracebackType

import anyio
from mcp.shared._stream_protocols import ReadStream, WriteStream
from mcp.shared.dispatcher import coerce_request_id
from mcp.shared.jsonrpc_dispatcher import cancelled_request_id_from_params
from mcp.shared.message import SessionMessage
from mcp.types import JSONRPCError, JSONRPCNotification, JSONRPCRequest, JSONRPCResponse, RequestId

__all__ = ["Unanswered"]

log = logging.getLogger(__name__)


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
