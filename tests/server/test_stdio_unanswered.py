"""The end of stdin waits for the answers to the requests already read (server.stdio_drain.Unanswered),
through the SDK's own context-aware memory streams, as the stdio transport hands them over."""

from __future__ import annotations

import anyio
from mcp.shared._context_streams import create_context_streams
from mcp.shared.message import SessionMessage
from mcp.types import JSONRPCError, JSONRPCNotification, JSONRPCRequest, JSONRPCResponse

from server.stdio_drain import Unanswered

BOUND = 10  # seconds: a bound on a wait that must end, never a measure of speed


def request(request_id: int | str) -> SessionMessage:
    return SessionMessage(JSONRPCRequest(jsonrpc="2.0", id=request_id, method="tools/list"))


def response(request_id: int | str) -> SessionMessage:
    return SessionMessage(JSONRPCResponse(jsonrpc="2.0", id=request_id, result={}))


async def test_the_end_of_the_input_waits_for_the_last_answer() -> None:
    unanswered = Unanswered(drain_timeout=3600)
    to_loop, from_stdin = create_context_streams[SessionMessage | Exception](2)
    to_stdout, from_loop = create_context_streams[SessionMessage](2)
    reading, writing = unanswered.reading(from_stdin), unanswered.writing(to_stdout)
    events: list[str] = []

    async def read_to_the_end() -> None:
        async for item in reading:
            events.append(f"read {item.message.id}")  # type: ignore[union-attr]
        events.append("end of input")

    with anyio.fail_after(BOUND):
        async with reading, writing, from_loop, anyio.create_task_group() as tasks:
            await to_loop.send(request(1))
            await to_loop.send(request(2))
            await to_loop.aclose()  # the client closed stdin after two requests
            tasks.start_soon(read_to_the_end)
            while len(events) < 2:
                await anyio.sleep(0)
            for _ in range(20):  # let the reader run on: it must stay blocked on the end of input
                await anyio.sleep(0)
            events.append("answer 1")
            await writing.send(response(1))
            for _ in range(20):
                await anyio.sleep(0)
            events.append("answer 2")
            await writing.send(SessionMessage(JSONRPCError(jsonrpc="2.0", id=2, error={"code": -1, "message": "no"})))
            handed_on = [(await from_loop.receive()).message.id for _ in range(2)]
    assert events == ["read 1", "read 2", "answer 1", "answer 2", "end of input"]
    assert handed_on == [1, 2]


async def test_ids_are_matched_as_the_sdk_matches_them() -> None:
    """ "7" and 7 are one id; an id used twice needs two answers."""
    unanswered = Unanswered(drain_timeout=3600)
    for item in (request("7"), request(8), request(8)):
        unanswered.read(item)
    for item in (response(7), response(8), response("8")):
        unanswered.written(item)
    with anyio.fail_after(BOUND):
        await unanswered.drain()  # returns: nothing left unanswered


async def test_a_cancelled_request_is_not_waited_for() -> None:
    unanswered = Unanswered(drain_timeout=3600)
    unanswered.read(request(3))
    cancelled = JSONRPCNotification(jsonrpc="2.0", method="notifications/cancelled", params={"requestId": 3})
    unanswered.read(SessionMessage(cancelled))
    with anyio.fail_after(BOUND):
        await unanswered.drain()


async def test_an_answer_that_never_comes_is_waited_for_at_most_the_drain_timeout() -> None:
    unanswered = Unanswered(drain_timeout=0.05)
    unanswered.read(request(4))
    unanswered.written(response(5))  # an answer to something else does not count
    with anyio.fail_after(BOUND):
        await unanswered.drain()


async def test_responses_from_the_client_and_bad_lines_are_not_requests() -> None:
    unanswered = Unanswered(drain_timeout=3600)
    unanswered.read(response(6))  # the client's answer to a server request
    unanswered.read(ValueError("not JSON"))
    with anyio.fail_after(BOUND):
        await unanswered.drain()
